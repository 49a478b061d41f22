/**
 * The Sheets API client: Google's own `googleapis` library, signed in as a service account (a JWT
 * exchanged for an access token at Google's token endpoint). The addresses can be moved for tests:
 * `baseUrl` for the API, `tokenUrl` (or the key's own `token_uri`) for the token endpoint.
 */
import { google, type sheets_v4 } from 'googleapis';
import type { SheetsConfig } from '../config';

export const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
/** Where google-auth-library sends its token requests (gtoken's fixed address). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type SheetsApi = sheets_v4.Sheets;

export function createSheetsApi(cfg: Pick<SheetsConfig, 'credentials' | 'baseUrl' | 'tokenUrl'>): SheetsApi {
  const auth = new google.auth.JWT({
    email: cfg.credentials.clientEmail,
    key: cfg.credentials.privateKey,
    ...(cfg.credentials.privateKeyId ? { keyId: cfg.credentials.privateKeyId } : {}),
    scopes: [SHEETS_SCOPE],
    // Node's own fetch (gaxios would otherwise load node-fetch at the first request).
    transporterOptions: { fetchImplementation: fetch },
  });
  const tokenUrl = cfg.tokenUrl ?? (cfg.credentials.tokenUri && cfg.credentials.tokenUri !== GOOGLE_TOKEN_URL ? cfg.credentials.tokenUri : null);
  if (tokenUrl) {
    // The library has Google's token address built in; the key file (or the config) may name
    // another, as a test's fake does. The request itself is the library's own.
    auth.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUrl);
        return config;
      },
    });
  }
  return google.sheets({ version: 'v4', auth, ...(cfg.baseUrl ? { rootUrl: cfg.baseUrl.endsWith('/') ? cfg.baseUrl : `${cfg.baseUrl}/` } : {}) });
}
