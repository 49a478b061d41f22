/**
 * Builds the add-on into appsscript/dist (what clasp pushes):
 * - Code.js: src/main.ts bundled by esbuild as one IIFE assigned to `__stockrelay`, followed by a
 *   top-level `function <name>() {…}` for every entry point (Apps Script only calls those);
 * - Sidebar.html: the sidebar page with its CSS and JS inlined;
 * - appsscript.json: the manifest (V8, explicit OAuth scopes, no addOns section).
 * Any other script file in the folder (the Code.gs `clasp create` pulls) is removed.
 * Run: `npm run build:addon` (or `buildAddon(outDir)` from a test).
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { BUNDLE_GLOBAL, ENTRY_POINTS } from './src/entries';
import { MANIFEST } from './src/manifest';

const SRC = path.join(__dirname, 'src');
export const DEFAULT_OUT = path.join(__dirname, 'dist');

export interface BuildResult {
  outDir: string;
  files: string[];
}

/** The generated top-level functions: one per entry point, each calling into the bundle. */
export function entryWrappers(): string {
  return ENTRY_POINTS.map((name) => `function ${name}() {\n  return ${BUNDLE_GLOBAL}.${name}.apply(this, arguments);\n}`).join('\n\n');
}

async function bundleCode(): Promise<string> {
  const res = await esbuild.build({
    entryPoints: [path.join(SRC, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: BUNDLE_GLOBAL,
    platform: 'neutral',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = res.outputFiles[0]!.text;
  const code = `// stockrelay Google Sheets add-on — built by appsscript/build.ts; edit appsscript/src, not this file.\n${js}\n// Entry points Apps Script calls by name (menu items, triggers, google.script.run).\n${entryWrappers()}\n`;
  // Fail the build, not the spreadsheet: every entry point must be a function of the bundle.
  const sandbox: Record<string, unknown> = {};
  vm.runInNewContext(code, sandbox, { filename: 'Code.js' });
  const bundle = sandbox[BUNDLE_GLOBAL] as Record<string, unknown> | undefined;
  const missing = ENTRY_POINTS.filter((n) => typeof bundle?.[n] !== 'function');
  if (missing.length) throw new Error(`Code.js does not export: ${missing.join(', ')} (export them from appsscript/src/main.ts).`);
  return code;
}

async function bundleSidebar(): Promise<string> {
  const res = await esbuild.build({
    entryPoints: [path.join(SRC, 'sidebar', 'client.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2019',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  // "</script" inside the code would end the inline script early.
  const js = res.outputFiles[0]!.text.replace(/<\/script/gi, '<\\/script');
  const css = fs.readFileSync(path.join(SRC, 'sidebar', 'sidebar.css'), 'utf8');
  const html = fs.readFileSync(path.join(SRC, 'sidebar', 'Sidebar.html'), 'utf8');
  if (!html.includes('/* inline:css */') || !html.includes('/* inline:js */')) throw new Error('Sidebar.html lost its /* inline:css */ or /* inline:js */ marker.');
  return html.replace('/* inline:css */', () => css).replace('/* inline:js */', () => js);
}

/** Files clasp would push from the build folder (server code, HTML, the manifest). */
const PUSHED = /\.(gs|js|ts|html|json)$/i;

export async function buildAddon(outDir: string = DEFAULT_OUT): Promise<BuildResult> {
  const [code, sidebar] = await Promise.all([bundleCode(), bundleSidebar()]);
  fs.mkdirSync(outDir, { recursive: true });
  const files = {
    'Code.js': code,
    'Sidebar.html': sidebar,
    'appsscript.json': `${JSON.stringify(MANIFEST, null, 2)}\n`,
  };
  // `clasp create` and `clasp clone` pull the project's own files (Code.gs, …) into this folder; pushed
  // beside Code.js, a Code.gs would clash with it ("Code" twice). Only what the build writes stays.
  for (const name of fs.readdirSync(outDir)) {
    if (PUSHED.test(name) && !(name in files) && fs.statSync(path.join(outDir, name)).isFile()) fs.rmSync(path.join(outDir, name));
  }
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, name), text);
  return { outDir, files: Object.keys(files).map((f) => path.join(outDir, f)) };
}

if (require.main === module) {
  buildAddon(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUT).then(
    (r) => console.error(`Built ${r.files.map((f) => path.relative(process.cwd(), f)).join(', ')}`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
