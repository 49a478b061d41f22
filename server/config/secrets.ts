/** The hub's own secrets: the relay secret, the admin token and the credential key. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './types';

interface Secrets {
  relaySecret: string;
  adminToken: string;
  /** Added on the first start of a hub version that has credentials (docs/security.md). */
  credentialKey: string;
}

const newCredentialKey = () => crypto.randomBytes(32).toString('base64url');

/**
 * When no secrets are given in the environment, the hub makes its own on first start and keeps them
 * in `<data dir>/secrets.json` (readable by the owner only; the data folder is git-ignored).
 */
function localSecrets(dataDir: string): Secrets & { file: string; created: boolean } {
  const file = path.resolve(dataDir, 'secrets.json');
  if (fs.existsSync(file)) {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Secrets>;
    if (typeof s.relaySecret !== 'string' || typeof s.adminToken !== 'string') throw new ConfigError(`${file} is damaged: it needs "relaySecret" and "adminToken".`);
    if (typeof s.credentialKey !== 'string' || s.credentialKey.length < 32) {
      s.credentialKey = newCredentialKey();
      fs.writeFileSync(file, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
    }
    return { relaySecret: s.relaySecret, adminToken: s.adminToken, credentialKey: s.credentialKey, file, created: false };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secrets: Secrets = {
    relaySecret: `whsec_${crypto.randomBytes(32).toString('base64')}`,
    adminToken: crypto.randomBytes(24).toString('base64url'),
    credentialKey: newCredentialKey(),
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return { ...secrets, file, created: true };
}

export function checkRelaySecret(secret: string, name: string): string {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret);
  if (!m || Buffer.from(m[1] ?? '', 'base64').length < 24) {
    throw new ConfigError(`${name} must look like "whsec_" followed by at least 24 random bytes in base64 (for example the output of: node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))").`);
  }
  return secret;
}

/**
 * The relay secrets, admin token and credential key: from the environment when it gives both the
 * relay secret and the admin token, else completed from (or first written to) `<data dir>/secrets.json`.
 * What the operator should know about where they came from goes to `notices`.
 */
export function hubSecrets(env: NodeJS.ProcessEnv, dataDir: string, notices: string[]): { relaySecrets: string[]; adminToken: string; credentialKey: string } {
  let relaySecrets: string[];
  let adminToken: string;
  let credentialKey: string | undefined = env.STOCKRELAY_CREDENTIAL_KEY || undefined;
  if (credentialKey !== undefined && credentialKey.length < 32) throw new ConfigError('STOCKRELAY_CREDENTIAL_KEY must be at least 32 characters long (for example the output of: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))").');
  if (env.STOCKRELAY_RELAY_SECRET && env.STOCKRELAY_ADMIN_TOKEN) {
    relaySecrets = env.STOCKRELAY_RELAY_SECRET.split(',').map((s) => checkRelaySecret(s.trim(), 'STOCKRELAY_RELAY_SECRET'));
    adminToken = env.STOCKRELAY_ADMIN_TOKEN;
    if (credentialKey === undefined) {
      // Deterministic, so a hub without a data folder of its own keeps its credentials' relay secrets across restarts.
      credentialKey = crypto.createHmac('sha256', adminToken).update('stockrelay credential key v1').digest('base64url');
      notices.push('No STOCKRELAY_CREDENTIAL_KEY in the environment: the relay secrets of credentials are derived from the admin token, so changing STOCKRELAY_ADMIN_TOKEN changes them too. Set STOCKRELAY_CREDENTIAL_KEY to keep them apart (docs/security.md).');
    }
  } else {
    const local = localSecrets(dataDir);
    relaySecrets = env.STOCKRELAY_RELAY_SECRET ? env.STOCKRELAY_RELAY_SECRET.split(',').map((s) => checkRelaySecret(s.trim(), 'STOCKRELAY_RELAY_SECRET')) : [local.relaySecret];
    adminToken = env.STOCKRELAY_ADMIN_TOKEN || local.adminToken;
    credentialKey ??= local.credentialKey;
    const fromFile = [env.STOCKRELAY_RELAY_SECRET ? null : 'the relay secret', env.STOCKRELAY_ADMIN_TOKEN ? null : 'the admin token'].filter(Boolean).join(' and ');
    const missing = [env.STOCKRELAY_RELAY_SECRET ? null : 'STOCKRELAY_RELAY_SECRET', env.STOCKRELAY_ADMIN_TOKEN ? null : 'STOCKRELAY_ADMIN_TOKEN'].filter(Boolean).join(' and ');
    notices.push(
      local.created
        ? `No ${missing} in the environment: using ${fromFile} generated in ${local.file}.${env.STOCKRELAY_RELAY_SECRET ? '' : ' Keep them on this machine: give the sheet and each Airtable base a credential of its own instead (npx stockrelay credentials create --help).'}`
        : `Using ${fromFile} kept in ${local.file}.`,
    );
  }
  return { relaySecrets, adminToken, credentialKey };
}
