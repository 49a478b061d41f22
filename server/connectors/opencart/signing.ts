/** How the stockrelay extension signs what it sends (the extension README has the same recipe in PHP). */
import crypto from 'node:crypto';

/** The signature header's value for a body: `sha256=` + lower-case hex HMAC-SHA256(secret, raw body). */
export function signOc(raw: Buffer | string, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`;
}
