import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths that may carry a secret anywhere in a log line; pino replaces their values. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'secrets', '*.secrets', 'relaySecret', '*.relaySecret', 'relaySecrets', '*.relaySecrets',
  'adminToken', '*.adminToken', 'credentials', '*.credentials', '*.*.credentials', 'token', '*.token', 'password', '*.password', 'databaseUrl', '*.databaseUrl',
  'headers.authorization', '*.headers.authorization', 'headers["webhook-signature"]', '*.headers["webhook-signature"]',
  'req.headers.authorization', 'req.headers["webhook-signature"]',
];

/** Structured JSON logs on stdout (or `destination`), secrets redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'stockrelay' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
