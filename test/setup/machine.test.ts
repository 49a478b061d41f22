/**
 * What `npm test` finds or starts on a machine that has only Node.js (test/helpers/machine.ts,
 * test/global-setup.ts): a PostgreSQL of the run's own when DATABASE_URL is not set, the Chromium to
 * drive, and the tests' hub config on a port the OS gives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import globalSetup, { POSTGRES_KEY } from '../global-setup';
import globalTeardown from '../global-teardown';
import { findChromium, type RunningPostgres } from '../helpers/machine';
import { tempDir, testConfig } from '../helpers/hub';

jest.setTimeout(180_000);

/** Runs `fn` with these environment variables (undefined: unset), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

async function query(url: string, sql: string): Promise<any[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('PostgreSQL for a run without DATABASE_URL', () => {
  test('the global setup starts a real server on 127.0.0.1 on a port the OS gave, never as root; the teardown stops it and removes its folder', async () => {
    await withEnv({ DATABASE_URL: undefined, STOCKRELAY_TEST_TMP: undefined, STOCKRELAY_TEST_PG_ERROR: undefined, STOCKRELAY_TEST_STORES: undefined }, async () => {
      await globalSetup();
      const running = (globalThis as Record<string, unknown>)[POSTGRES_KEY] as RunningPostgres | undefined;
      try {
        expect(process.env.STOCKRELAY_TEST_PG_ERROR).toBeUndefined();
        expect(running).toBeDefined();
        const url = new URL(process.env.DATABASE_URL!);
        expect(url.hostname).toBe('127.0.0.1');
        expect(Number(url.port)).toBe(running!.port);
        expect(running!.port).not.toBe(5432);

        // A real server that stores what it is given.
        const [row] = await query(process.env.DATABASE_URL!, `select current_user as who, current_setting('data_directory') as dir, current_setting('server_version_num')::int as version`);
        expect(row.who).toBe('postgres');
        expect(row.dir.startsWith(running!.dir)).toBe(true);
        expect(row.version).toBeGreaterThanOrEqual(150000);
        await query(process.env.DATABASE_URL!, 'create table kept (n int); insert into kept values (41), (1)');
        expect((await query(process.env.DATABASE_URL!, 'select sum(n)::int as s from kept'))[0].s).toBe(42);

        // PostgreSQL refuses root: as root, the server runs as an unprivileged user.
        const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${running!.pid}/status`, 'utf8'))![1]);
        expect(uid).toBe(process.getuid!() === 0 ? fs.statSync(path.join(running!.dir, 'data')).uid : process.getuid!());
        expect(uid).not.toBe(0);
      } finally {
        await globalTeardown();
      }
      expect(fs.existsSync(running!.dir)).toBe(false);
      expect(fs.existsSync(`/proc/${running!.pid}`)).toBe(false);
      await expect(query(process.env.DATABASE_URL!, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
      expect((globalThis as Record<string, unknown>)[POSTGRES_KEY]).toBeUndefined();
    });
  });

  test('with DATABASE_URL set, that server is used and nothing is started', async () => {
    const given = 'postgres://someone@127.0.0.1:5432/given';
    await withEnv({ DATABASE_URL: given, STOCKRELAY_TEST_TMP: undefined }, async () => {
      await globalSetup();
      const tmp = process.env.STOCKRELAY_TEST_TMP!;
      expect(process.env.DATABASE_URL).toBe(given);
      expect((globalThis as Record<string, unknown>)[POSTGRES_KEY]).toBeUndefined();
      expect(fs.existsSync(tmp)).toBe(true);
      await globalTeardown();
      expect(fs.existsSync(tmp)).toBe(false);
    });
  });
});

describe('the Chromium the browser tests drive', () => {
  const fakeBrowser = (dir: string, name: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '#!/bin/sh\necho fake\n', { mode: 0o755 });
    return file;
  };

  test('CHROMIUM_PATH is taken as given; one that names nothing is an error that says which setting to correct', async () => {
    const dir = tempDir('sr-chromium-');
    const mine = fakeBrowser(dir, 'my-chrome');
    expect(await findChromium({ CHROMIUM_PATH: mine, PATH: '' })).toEqual({ executablePath: mine, env: {}, source: 'CHROMIUM_PATH' });
    await expect(findChromium({ CHROMIUM_PATH: path.join(dir, 'missing'), PATH: '' })).rejects.toThrow(`CHROMIUM_PATH is ${path.join(dir, 'missing')}, but no program is there`);
  });

  test('the machine\'s chromium on the PATH is preferred to the one npm ships', async () => {
    const dir = tempDir('sr-chromium-');
    const other = tempDir('sr-chromium-');
    fs.writeFileSync(path.join(other, 'chromium'), 'not executable', { mode: 0o644 });
    const system = fakeBrowser(dir, 'chromium');
    expect(await findChromium({ PATH: [other, dir].join(path.delimiter) })).toEqual({ executablePath: system, env: {}, source: 'PATH' });
    const ubuntu = tempDir('sr-chromium-');
    const named = fakeBrowser(ubuntu, 'chromium-browser');
    expect(await findChromium({ PATH: ubuntu })).toEqual({ executablePath: named, env: {}, source: 'PATH' });
  });

  test('with none on the machine, the Chromium of the @sparticuz/chromium package is unpacked and runs here', async () => {
    const found = await findChromium({ PATH: tempDir('sr-empty-path-') });
    expect(found.source).toBe('npm');
    const run = spawnSync(found.executablePath, ['--version'], { env: { ...process.env, ...found.env }, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toMatch(/^Chromium \d+\./);
    // A second look finds the unpacked one again rather than unpacking anew.
    const mtime = fs.statSync(found.executablePath).mtimeMs;
    expect((await findChromium({ PATH: '' })).executablePath).toBe(found.executablePath);
    expect(fs.statSync(found.executablePath).mtimeMs).toBe(mtime);
  });
});

describe('the tests\' hub config', () => {
  test('listens on 127.0.0.1 on a port the OS gives, never on the default 8080, unless a test says otherwise', () => {
    expect(testConfig('sqlite')).toMatchObject({ port: 0, host: '127.0.0.1' });
    expect(testConfig('sqlite', {}, { PORT: '1720' }).port).toBe(1720);
  });
});
