/**
 * Starting the hub the way `npm start` does, as a function: the config from the environment, the
 * sandbox when no channel is configured, the hub listening, and (in the sandbox) the demo catalog
 * seeded and pushed. main.ts calls it; tests call it to check what a newcomer gets.
 */
import type { HubConfig } from './config';
import { createHub, type Hub, type HubOptions } from './hub';
import type { Logger } from './log';
import { Metrics } from './metrics';
import { freePort, startSandbox, type Sandbox } from './sandbox';
import { chooseSandbox } from './sandbox-platforms';

export interface Started {
  hub: Hub;
  url: string;
  config: HubConfig;
  sandbox: Sandbox | undefined;
  /** Finishes the work in hand, closes the store, then stops the emulators. */
  stop(): Promise<void>;
}

/**
 * Whether this config and environment run the sandbox: no channel configured, and STOCKRELAY_SANDBOX
 * naming at least one platform (unset: the default three; "off": none).
 */
export function sandboxWanted(config: HubConfig, env: NodeJS.ProcessEnv): boolean {
  return config.channels.length === 0 && chooseSandbox(env.STOCKRELAY_SANDBOX).length > 0;
}

export async function startStockrelay(
  config: HubConfig,
  log: Logger,
  env: NodeJS.ProcessEnv,
  hubOptions: Partial<HubOptions> = {},
): Promise<Started> {
  let sandbox: Sandbox | undefined;
  if (sandboxWanted(config, env)) {
    // The emulators need the hub's address for their webhooks before the hub listens.
    const port = config.port === 0 ? await freePort() : config.port;
    ({ sandbox, config } = await startSandbox(config, port, log, chooseSandbox(env.STOCKRELAY_SANDBOX)));
    log.warn(sandbox.warning);
  }
  const hub = await createHub({ config, log, metrics: new Metrics({ defaultMetrics: true }), ...(sandbox ? { sandbox } : {}), ...hubOptions });
  let url: string;
  try {
    ({ url } = await hub.listen(config.port, config.host));
    if (sandbox) {
      await sandbox.seed(hub, `http://127.0.0.1:${config.port}`);
      log.info({ channels: sandbox.channels.map((c) => c.config.id) }, 'sandbox: demo catalog mapped on every channel and levels pushed');
    }
  } catch (err) {
    await hub.stop().catch(() => undefined);
    await sandbox?.stop().catch(() => undefined);
    throw err;
  }
  log.info(
    { url, store: hub.store.describe(), locations: config.locations.map((l) => l.id), channels: config.channels.map((c) => c.id), notify: config.notify.map((n) => n.id) },
    `stockrelay hub listening on ${url}`,
  );
  return {
    hub,
    url,
    config,
    sandbox,
    async stop() {
      await hub.stop();
      await sandbox?.stop();
    },
  };
}
