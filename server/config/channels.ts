/**
 * The channels and notify webhooks of the config file, checked against the locations, the environment
 * (credentials and secrets are named there, never written in the file) and each platform's connector.
 */
import { connectorFor } from '../connectors';
import { requiredCredentials } from '../connectors/kit/oauth';
import type { ConnectorDefinition } from '../connectors/types';
import { checkPolling } from './polling';
import type { ConfigFile } from './schema';
import { checkRelaySecret } from './secrets';
import { ConfigError, type ChannelConfig, type NotifyConfig } from './types';

type ChannelSection = NonNullable<ConfigFile['channels']>[number];

/** `extra`: platforms beyond the registry's that this hub is built with (a test's in-test platform). */
export function channelConfigs(file: ConfigFile, env: NodeJS.ProcessEnv, locationIds: ReadonlySet<string>, extra: readonly ConnectorDefinition[]): ChannelConfig[] {
  const channels = (file.channels ?? []).map((c, i) => channelConfig(c, i, env, locationIds, extra));
  if (new Set(channels.map((c) => c.id)).size !== channels.length) throw new ConfigError('Config file: two channels share the same id.');
  return channels;
}

function channelConfig(c: ChannelSection, i: number, env: NodeJS.ProcessEnv, locationIds: ReadonlySet<string>, extra: readonly ConnectorDefinition[]): ChannelConfig {
  for (const ours of Object.keys(c.locations)) {
    if (!locationIds.has(ours)) throw new ConfigError(`Config file: channels.${i}.locations names location "${ours}", which is not declared under locations.`);
  }
  const credentials = channelCredentials(c, i, env);
  // The schema's "uri" format lets through addresses no client can use, such as "http://".
  if (c.baseUrl !== undefined && !URL.canParse(c.baseUrl)) throw new ConfigError(`Config file: channels.${i}.baseUrl is not a usable URL (it needs a host).`);
  const settings = c.settings ?? {};
  const def = extra.find((d) => d.platform === c.platform) ?? connectorFor(c.platform);
  if (def) checkConnectorNeeds(def, c.platform, i, credentials, settings);
  return {
    id: c.id,
    name: c.name,
    platform: c.platform,
    locations: c.locations,
    buffer: c.buffer ?? 0,
    cap: c.cap ?? null,
    hideAtZero: c.hideAtZero ?? false,
    relistOnRestock: c.relistOnRestock ?? c.hideAtZero ?? false,
    reconcile: c.reconcile ?? 'adopt',
    baseUrl: c.baseUrl ?? null,
    settings,
    credentials,
    ...(c.polling ? { polling: checkPolling(c.polling, `channels.${i}`, def?.capabilities.polled ?? null, c.platform) } : {}),
  };
}

/** Credential name → its value, read from the environment variable the file names. */
function channelCredentials(c: ChannelSection, i: number, env: NodeJS.ProcessEnv): Record<string, string> {
  const credentials: Record<string, string> = {};
  for (const [name, envName] of Object.entries(c.credentials ?? {})) {
    const v = env[envName];
    if (!v) throw new ConfigError(`Config file: channels.${i}.credentials.${name} names ${envName}, which is not set in the environment.`);
    credentials[name] = v;
  }
  return credentials;
}

/** The credentials and settings the platform's connector cannot work without. */
function checkConnectorNeeds(def: ConnectorDefinition, platform: string, i: number, credentials: Record<string, string>, settings: ChannelConfig['settings']): void {
  // A channel that uses OAuth (docs/credentials-oauth.md) names the app's client id and secret instead of a token.
  for (const name of requiredCredentials(def, credentials)) {
    if (!(name in credentials)) throw new ConfigError(`Config file: channels.${i} (${platform}) needs credentials.${name}: the name of the environment variable holding it.`);
  }
  for (const name of def.requiredSettings) {
    if (settings[name] === undefined || settings[name] === '') {
      const help = def.settingHelp?.[name];
      throw new ConfigError(`Config file: channels.${i} (${platform}) needs settings.${name}.${help ? ` ${help}` : ''}`);
    }
  }
}

export function notifyConfigs(file: ConfigFile, env: NodeJS.ProcessEnv): NotifyConfig[] {
  return (file.notify ?? []).map((n, i) => {
    if (!URL.canParse(n.url)) throw new ConfigError(`Config file: notify.${i}.url is not a usable URL (it needs a host).`);
    let secret: string | null = null;
    if (n.secretEnv) {
      const v = env[n.secretEnv];
      if (!v) throw new ConfigError(`Config file: notify.${i}.secretEnv names ${n.secretEnv}, which is not set in the environment.`);
      secret = checkRelaySecret(v, n.secretEnv);
    }
    return { id: n.id, url: n.url, secret, topics: n.topics, format: n.format ?? 'standard' };
  });
}
