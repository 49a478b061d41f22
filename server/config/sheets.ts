/** Write-back to the Google Sheet (docs/sheets.md): its section, and the service account key it signs in with. */
import fs from 'node:fs';
import type { ConfigFile } from './schema';
import { ConfigError, type ServiceAccountKey, type SheetsConfig } from './types';

/**
 * Reads a service account key: JSON text, or the path of a .json file. Messages name where it came
 * from, never what it holds.
 */
export function readServiceAccountKey(value: string, where: string): ServiceAccountKey {
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = fs.readFileSync(text, 'utf8');
    } catch (err) {
      throw new ConfigError(`${where} names a key file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}). Give the path of the .json key of the service account, or the key itself.`);
    }
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${where}: the service account key is not valid JSON. Download the key again (Google Cloud console › IAM › Service accounts › Keys › Add key › JSON).`);
  }
  if (raw === null || typeof raw !== 'object' || raw.type !== 'service_account') throw new ConfigError(`${where}: this is not a service account key (its "type" should be "service_account").`);
  const email = raw.client_email;
  const key = raw.private_key;
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new ConfigError(`${where}: the service account key has no client_email.`);
  if (typeof key !== 'string' || !key.includes('PRIVATE KEY')) throw new ConfigError(`${where}: the service account key has no private_key.`);
  return { clientEmail: email, privateKey: key, privateKeyId: typeof raw.private_key_id === 'string' ? raw.private_key_id : null, tokenUri: typeof raw.token_uri === 'string' ? raw.token_uri : null };
}

export function sheetsConfig(file: ConfigFile, env: NodeJS.ProcessEnv): SheetsConfig | null {
  const s = file.sheets;
  if (!s) return null;
  if ((s.credentialsEnv === undefined) === (s.credentialsFile === undefined)) throw new ConfigError('Config file: sheets needs exactly one of credentialsEnv (the environment variable holding the service account key) and credentialsFile (the path of its .json file).');
  let credentials: ServiceAccountKey;
  if (s.credentialsEnv !== undefined) {
    const v = env[s.credentialsEnv];
    if (!v) throw new ConfigError(`Config file: sheets.credentialsEnv names ${s.credentialsEnv}, which is not set in the environment.`);
    credentials = readServiceAccountKey(v, s.credentialsEnv);
  } else {
    credentials = readServiceAccountKey(s.credentialsFile!.trim().startsWith('{') ? `./${s.credentialsFile!}` : s.credentialsFile!, 'sheets.credentialsFile');
  }
  for (const k of ['baseUrl', 'tokenUrl'] as const) {
    if (s[k] !== undefined && !URL.canParse(s[k])) throw new ConfigError(`Config file: sheets.${k} is not a usable URL (it needs a host).`);
  }
  const t = s.tabs ?? {};
  const tabs = { catalog: t.catalog ?? 'Catalog', movements: t.movements ?? 'Movements', orders: t.orders ?? 'Orders', alerts: t.alerts ?? 'Alerts', conflicts: t.conflicts ?? 'Conflicts', purchaseOrders: t.purchaseOrders ?? 'Purchase Orders' };
  if (new Set(Object.values(tabs)).size !== 6) throw new ConfigError('Config file: sheets.tabs names the same tab twice.');
  return { spreadsheetId: s.spreadsheetId, credentials, baseUrl: s.baseUrl ?? null, tokenUrl: s.tokenUrl ?? null, tabs, writesPerMinute: s.writesPerMinute ?? 60 };
}
