/**
 * `npm start`: runs the hub — API and workers in one process — on its embedded SQLite store, or on
 * PostgreSQL when DATABASE_URL is set. See README.md for the settings.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { startStockrelay } from './start';

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
  const { config } = loaded;
  const { notices } = loaded;
  const log = createLogger(config.logLevel);
  for (const n of notices) log.info(n);

  // No channel configured: run against the built-in emulators, and say so loudly (server/start.ts).
  const { stop } = await startStockrelay(config, log, process.env);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing work in hand');
    stop()
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
