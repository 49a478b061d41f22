/**
 * A hub process's use of one channel's OAuth tokens, run as its own process by
 * test/connectors/oauth.test.ts so that it can be killed (SIGKILL) at a chosen point:
 *
 *   node --import tsx test/helpers/oauth-child.ts      (settings in the OAUTH_CHILD environment variable, JSON)
 *
 * It opens the store, calls the emulator's protected resource with the channel's access token
 * (refreshing after a 401, as a connector does) and prints one line per step on stdout:
 * `answer` (a token answer arrived, nothing saved), `saved` (the answer's tokens are committed),
 * `used <status>` (the resource answered). With `stopAt`, it stops at that point and waits to be
 * killed. A failure prints `error <message>` and exits 1.
 */
import { authorizedFetch, OAuthTokenSource, TokenCipher } from '../../server/connectors/kit/oauth';
import type { OAuthSpec } from '../../server/connectors/types';
import { openStore, type StoreOptions } from '../../server/store/open';

interface ChildSettings {
  store: Partial<StoreOptions>;
  channelId: string;
  spec: OAuthSpec;
  oauthBaseUrl: string;
  credentials: Record<string, string>;
  credentialKey: string;
  resourceUrl: string;
  stopAt: 'answer' | 'saved' | null;
  leaseMs: number;
}

const say = (line: string) => new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
const forever = () => new Promise<never>(() => setInterval(() => undefined, 60_000));

async function main(): Promise<void> {
  const s = JSON.parse(process.env.OAUTH_CHILD ?? '{}') as ChildSettings;
  const store = await openStore(s.store as StoreOptions);
  const tokens = new OAuthTokenSource({
    channelId: s.channelId,
    platform: 'Demo',
    spec: s.spec,
    credentials: s.credentials,
    channelBaseUrl: null,
    settings: { oauthBaseUrl: s.oauthBaseUrl },
    store,
    cipher: new TokenCipher(s.credentialKey),
    leaseMs: s.leaseMs,
    pollMs: 50,
    hooks: {
      afterTokenAnswer: async () => {
        await say('answer');
        if (s.stopAt === 'answer') await forever();
      },
      afterTokenSaved: async () => {
        await say('saved');
        if (s.stopAt === 'saved') await forever();
      },
    },
  });
  try {
    const res = await authorizedFetch(tokens)(s.resourceUrl);
    await say(`used ${res.status}`);
  } catch (err) {
    await say(`error ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}

void main();
