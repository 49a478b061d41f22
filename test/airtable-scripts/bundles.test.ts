/**
 * What a supplier pastes: each bundle is one script without modules, starting with the comment block
 * that documents its input variables, ending with the top-level await that runs it; and the copies
 * committed in airtable-scripts/paste/ are exactly what the build makes today.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { SCRIPTS } from '../../airtable-scripts/src/scripts';
import { buildBundles } from './fakes';

const PASTE = path.join(__dirname, '..', '..', 'airtable-scripts', 'paste');
let bundles: Record<string, string> = {};
beforeAll(async () => {
  bundles = await buildBundles();
}, 60_000);

test('the build makes one file per script', () => {
  expect(Object.keys(bundles).sort()).toEqual(['make-adjustment', 'relay-record-change', 'request-sync']);
});

test.each(SCRIPTS.map((s) => [s.name, s] as const))('%s has no import, export or require, and runs itself with one top-level await', (name, info) => {
  const code = bundles[name]!;
  const file = ts.createSourceFile(`${name}.js`, code, ts.ScriptTarget.ES2020, true, ts.ScriptKind.JS);
  const kinds = file.statements.map((s) => ts.SyntaxKind[s.kind]);
  expect(kinds).not.toContain('ImportDeclaration');
  expect(kinds).not.toContain('ExportDeclaration');
  expect(kinds).not.toContain('ExportAssignment');
  expect(file.statements.some((s) => ts.getModifiers(s as ts.HasModifiers)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))).toBe(false);
  expect(code).not.toMatch(/\brequire\s*\(|\bimport\s*\(/);
  // the only statement with an effect: await the script with Airtable's globals
  const last = file.statements[file.statements.length - 1]!;
  expect(last.getText()).toBe(`await ${info.run}(airtableEnv());`);
  expect(file.statements.filter((s) => ts.isExpressionStatement(s))).toEqual([last]);
});

test.each(SCRIPTS.map((s) => [s.name, s] as const))('%s starts with its comment block, which names every input variable', (name, info) => {
  const code = bundles[name]!;
  expect(code.startsWith(`/*\n * stockrelay · ${name}\n`)).toBe(true);
  const block = code.slice(0, code.indexOf('*/') + 2);
  expect(block).toMatch(/Input variables/);
  for (const input of info.inputs) for (const v of input.name.split(', ')) expect(block).toContain(v);
  for (const input of info.inputs.filter((i) => i.required)) expect(block).toMatch(new RegExp(`\\* {3}${input.name} +Required\\.`));
  expect(block.replace(/\n \* */g, ' ')).toMatch(/status \(sent \| already sent \| nothing to send \| failed\)/);
  expect(block.split('\n').every((l) => l.length <= 100)).toBe(true);
  // the code starts right after it
  expect(code.slice(block.length)).toMatch(/^\n\/\* global input, output, base \*\/\n/);
});

test('the copies in airtable-scripts/paste are what the build makes now (run npm run build:airtable and commit them)', () => {
  for (const name of Object.keys(bundles)) {
    const file = path.join(PASTE, `${name}.js`);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(bundles[name]);
  }
  expect(fs.readdirSync(PASTE).sort()).toEqual(Object.keys(bundles).map((n) => `${n}.js`).sort());
});
