/**
 * Builds the Airtable automation scripts: each script of src/scripts.ts is bundled by esbuild into one
 * paste-ready file — no import, export or require left, top-level await kept (Airtable runs the
 * script's body as an async function), ES2020 syntax otherwise — headed by a comment block saying
 * what it does, how to trigger it, and its input variables and outputs.
 *
 * Run: `npm run build:airtable` writes airtable-scripts/dist/ and refreshes airtable-scripts/paste/,
 * the copies suppliers take from the repository (a test checks they equal a fresh build).
 * From a test: `buildAirtableScripts(outDir)`.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { OUTPUTS, SCRIPTS, type ScriptInfo } from './src/scripts';

const SRC = path.join(__dirname, 'src');
export const DEFAULT_OUT = path.join(__dirname, 'dist');
/** The committed copies, for suppliers to open and copy. */
export const PASTE_DIR = path.join(__dirname, 'paste');

export interface BuiltScript {
  name: string;
  file: string;
  code: string;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const LINE = 100;

/** The comment block at the top of a bundle. */
export function header(s: ScriptInfo): string {
  const width = Math.max(...s.inputs.filter((i) => !i.name.includes(',')).map((i) => i.name.length));
  const indent = ` *   ${' '.repeat(width)}  `;
  const inputs = s.inputs.flatMap((i) => {
    const what = `${i.required ? 'Required. ' : ''}${i.what}`;
    // A group of variables gets a line of its own.
    const first = i.name.length > width ? [...wrap(i.name, LINE - 6).map((l) => ` *   ${l}`), indent] : [` *   ${i.name.padEnd(width)}  `];
    const text = wrap(what, LINE - indent.length);
    const head = first.pop()!;
    return [...first, `${head}${text[0] ?? ''}`, ...text.slice(1).map((l) => `${indent}${l}`)];
  });
  const para = (t: string, lead = ' * ') => wrap(t, LINE - lead.length).map((l) => `${lead}${l}`);
  const lines = [
    `/*`,
    ` * stockrelay · ${s.name}`,
    ` * Paste this whole file into an Airtable automation's "Run a script" action.`,
    ` *`,
    ...para(s.summary.join(' ')),
    ` *`,
    ` * Trigger:`,
    ...para(s.trigger.join(' '), ' *   '),
    ` *`,
    ` * Input variables (left of the script editor, "+ Add input variable"; names exactly as here):`,
    ...inputs,
    ` *`,
    ...para(`Outputs, for the automation's later steps: ${OUTPUTS} A failed run also stops with its message, so it shows as failed in the automation's run history.`),
    ` *`,
    ` * Built by airtable-scripts/build.ts from airtable-scripts/src; change the sources, not this file.`,
    ` */`,
  ];
  const text = lines.map((l) => l.trimEnd()).join('\n');
  if (text.slice(2, -2).includes('*/')) throw new Error(`The header of ${s.name} would close its comment early.`);
  return `${text}\n`;
}

async function bundle(s: ScriptInfo): Promise<string> {
  const res = await esbuild.build({
    stdin: {
      // The only top-level statement with an effect: run the script with Airtable's own globals.
      contents: `import { airtableEnv } from './airtable';\nimport { ${s.run} } from '${s.module}';\n\nawait ${s.run}(airtableEnv());\n`,
      resolveDir: SRC,
      sourcefile: `${s.name}.ts`,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    // Airtable runs the script inside an async function: a top-level await is what waits for the hub.
    supported: { 'top-level-await': true },
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = res.outputFiles[0]!.text;
  if (/^\s*(import|export)\b|\brequire\(/m.test(js)) throw new Error(`${s.name}: the bundle still has an import, export or require; Airtable scripts have no modules.`);
  // The three globals Airtable gives a script, named for linters and readers.
  const code = `${header(s)}/* global input, output, base */\n${js.endsWith('\n') ? js : `${js}\n`}`;
  // Fail the build, not the automation: the file must parse as the body of an async function.
  new vm.Script(`(async () => {\n${code}\n})`, { filename: `${s.name}.js` });
  return code;
}

export async function buildAirtableScripts(outDir: string = DEFAULT_OUT): Promise<BuiltScript[]> {
  const codes = await Promise.all(SCRIPTS.map(bundle));
  fs.mkdirSync(outDir, { recursive: true });
  return SCRIPTS.map((s, i) => {
    const file = path.join(outDir, `${s.name}.js`);
    fs.writeFileSync(file, codes[i]!);
    return { name: s.name, file, code: codes[i]! };
  });
}

if (require.main === module) {
  (async () => {
    const built = await buildAirtableScripts(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUT);
    fs.mkdirSync(PASTE_DIR, { recursive: true });
    for (const b of built) fs.writeFileSync(path.join(PASTE_DIR, `${b.name}.js`), b.code);
    console.error(`Built ${built.map((b) => path.relative(process.cwd(), b.file)).join(', ')}; copied to ${path.relative(process.cwd(), PASTE_DIR)}/`);
  })().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
