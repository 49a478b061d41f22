/** Encryption at rest: the tokens are sealed before the store sees them (docs/security.md). */
import crypto from 'node:crypto';

export class TokenStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenStoreError';
  }
}

const b64u = (b: Buffer) => b.toString('base64url');

/**
 * Seals token records with AES-256-GCM under a key derived (HKDF-SHA256, its own label) from the
 * hub's credential key, so the database alone never reveals a token. The channel id is the
 * additional authenticated data: a row copied to another channel does not open.
 */
export class TokenCipher {
  private readonly key: Buffer;
  /** Names the key without revealing it, so a row sealed under another key is told from a damaged one. */
  readonly keyId: string;

  constructor(credentialKey: string) {
    if (typeof credentialKey !== 'string' || credentialKey.length < 32) throw new TokenStoreError('The credential key must be at least 32 characters long (STOCKRELAY_CREDENTIAL_KEY).');
    this.key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(credentialKey, 'utf8'), Buffer.from('stockrelay', 'utf8'), Buffer.from('stockrelay platform tokens v1', 'utf8'), 32));
    this.keyId = crypto.createHmac('sha256', this.key).update('key id').digest('hex').slice(0, 16);
  }

  seal(label: string, value: unknown): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(label, 'utf8'));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return JSON.stringify({ v: 1, alg: 'A256GCM', kid: this.keyId, iv: b64u(iv), data: b64u(data) });
  }

  /** Opens what `seal` made under the same label; `what` names it in errors, which say what to do. */
  open<T>(label: string, sealed: string, what: string, fix: string): T {
    let box: { v?: unknown; kid?: unknown; iv?: unknown; data?: unknown };
    try {
      box = JSON.parse(sealed) as typeof box;
    } catch {
      throw new TokenStoreError(`${what} are damaged: the stored value is not in the hub's format. ${fix}`);
    }
    if (box === null || typeof box !== 'object' || box.v !== 1 || typeof box.iv !== 'string' || typeof box.data !== 'string') {
      throw new TokenStoreError(`${what} are damaged: the stored value is not in the hub's format. ${fix}`);
    }
    if (box.kid !== this.keyId) {
      throw new TokenStoreError(
        `${what} were encrypted with another credential key than this hub's (STOCKRELAY_CREDENTIAL_KEY, else credentialKey in data/secrets.json, else one derived from STOCKRELAY_ADMIN_TOKEN). Give the hub its old key back, or ${fix.charAt(0).toLowerCase()}${fix.slice(1)}`,
      );
    }
    try {
      const data = Buffer.from(box.data, 'base64url');
      if (data.length < 17) throw new Error('short');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(box.iv, 'base64url'));
      decipher.setAAD(Buffer.from(label, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const text = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      throw new TokenStoreError(`${what} are damaged or were changed outside the hub: they do not decrypt with this hub's key. ${fix}`);
    }
  }
}
