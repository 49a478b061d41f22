/**
 * `npm start`: runs the hub — API and workers in one process — on its embedded SQLite store, or on
 * PostgreSQL when DATABASE_URL is set. See README.md for the settings.
 */
import { ConfigError, loadConfig } from './config';
import { createHub } from './hub';
import { createLogger } from './log';
import { Metrics } from './metrics';
import { freePort, startSandbox, type Sandbox } from './sandbox';
import { SANDBOX_PLATFORMS } from './sandbox-platforms';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`stockrelay cannot start: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  let { config } = loaded;
  const { notices } = loaded;
  const log = createLogger(config.logLevel);
  for (const n of notices) log.info(n);

  // No channel configured: run against the built-in emulators, and say so loudly.
  let sandbox: Sandbox | undefined;
  // (Until the emulators of issue #3 are plugged into server/sandbox-platforms.ts there is nothing to run.)
  if (config.channels.length === 0 && process.env.STOCKRELAY_SANDBOX !== 'off' && SANDBOX_PLATFORMS.length > 0) {
    const port = config.port === 0 ? await freePort() : config.port;
    ({ sandbox, config } = await startSandbox(config, port, log));
    log.warn(
      'SANDBOX MODE: no channel is configured (STOCKRELAY_CONFIG), so the hub runs against built-in emulators of Shopify, Square and WooCommerce with a demo catalog. Nothing reaches a real shop. Try: npm run stockrelay -- simulate sale --channel square --sku ART-0001',
    );
  }

  const hub = await createHub({ config, log, metrics: new Metrics({ defaultMetrics: true }), ...(sandbox ? { sandbox } : {}) });
  const { url } = await hub.listen(config.port, config.host);
  if (sandbox) {
    await sandbox.seed(hub, `http://127.0.0.1:${config.port}`);
    log.info({ channels: sandbox.channels.map((c) => c.config.id) }, 'sandbox: demo catalog mapped on every channel and levels pushed');
  }
  log.info(
    { url, store: hub.store.describe(), locations: config.locations.map((l) => l.id), channels: config.channels.map((c) => c.id), notify: config.notify.map((n) => n.id) },
    `stockrelay hub listening on ${url}`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing work in hand');
    hub
      .stop()
      .then(() => sandbox?.stop())
      .then(() => {
        log.info('stopped cleanly');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('stockrelay failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
