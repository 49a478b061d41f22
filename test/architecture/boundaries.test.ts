/**
 * The import boundaries of the layout (issue #17), read from the source:
 * - the hub (server/) and the add-on (appsscript/) meet only in server/shared/, which imports
 *   nothing but itself (and TypeBox for the relays' schemas, which the add-on takes as types only,
 *   so its bundle never carries TypeBox); the Airtable scripts likewise;
 * - server/core/ (the pure rules) imports only itself and server/shared/;
 * - a connector's translator reaches only the core, the shared module, its own folder and the
 *   connectors' vocabulary (types.ts, money.ts), all the way down.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');

interface Import {
  /** The module path as written. */
  spec: string;
  /** The file it names (repo-relative), or null for a package. */
  file: string | null;
  typeOnly: boolean;
  line: number;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') out.push(...sourceFiles(p));
    } else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p.split(path.sep).join('/'));
  }
  return out;
}

function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(ROOT, path.dirname(from), spec);
  for (const ext of ['', '.ts', '.tsx', '/index.ts']) {
    const f = base + ext;
    if (fs.existsSync(f) && fs.statSync(f).isFile()) return rel(f);
  }
  throw new Error(`${from}: "${spec}" names no file.`);
}

const cache = new Map<string, Import[]>();

/** Every module a file names: imports, re-exports, `import()`, `require()` and `import('…')` types. */
function importsOf(file: string): Import[] {
  const hit = cache.get(file);
  if (hit) return hit;
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (lit: ts.Node, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(lit)) return;
    out.push({ spec: lit.text, file: resolve(file, lit.text), typeOnly, line: sf.getLineAndCharacterOfPosition(lit.getStart()).line + 1 });
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) add(n.moduleSpecifier, n.isTypeOnly);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal, true);
    else if (ts.isCallExpression(n) && n.arguments[0] && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) add(n.arguments[0], false);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  cache.set(file, out);
  return out;
}

const inside = (file: string | null, dir: string) => file !== null && file.startsWith(`${dir}/`);
const where = (file: string, i: Import) => `${file}:${i.line} imports "${i.spec}"`;

/** Files of `from` whose imports break `allowed`, as "file:line imports …". */
function breaches(files: string[], allowed: (file: string, i: Import) => boolean): string[] {
  return files.flatMap((f) => importsOf(f).filter((i) => !allowed(f, i)).map((i) => where(f, i)));
}

const SERVER = sourceFiles('server');
const ADDON = sourceFiles('appsscript').filter((f) => f !== 'appsscript/build.ts');
const AIRTABLE = sourceFiles('airtable-scripts/src');

describe('import boundaries', () => {
  it('the hub reaches nothing of the add-on (what both need is in server/shared/)', () => {
    expect(breaches(SERVER, (_f, i) => !inside(i.file, 'appsscript') && !inside(i.file, 'airtable-scripts'))).toEqual([]);
  });

  it('the add-on reaches the hub only through server/shared/', () => {
    expect(breaches(ADDON, (_f, i) => !inside(i.file, 'server') || inside(i.file, 'server/shared'))).toEqual([]);
  });

  it('the Airtable scripts reach the hub only through server/shared/', () => {
    expect(breaches(AIRTABLE, (_f, i) => i.file === null || inside(i.file, 'airtable-scripts') || inside(i.file, 'server/shared'))).toEqual([]);
  });

  it('the add-on takes the relays’ schemas as types only (TypeBox stays out of its bundle)', () => {
    expect(breaches([...ADDON, ...AIRTABLE], (_f, i) => i.file !== 'server/shared/relay.ts' || i.typeOnly)).toEqual([]);
  });

  it('server/shared/ imports only itself (and TypeBox for the relay schemas)', () => {
    const shared = SERVER.filter((f) => inside(f, 'server/shared'));
    expect(shared.length).toBeGreaterThan(0);
    expect(breaches(shared, (_f, i) => (i.file === null ? i.spec === '@sinclair/typebox' : inside(i.file, 'server/shared')))).toEqual([]);
  });

  it('server/core/ imports only itself and server/shared/ (no store, no HTTP, no config, no logger)', () => {
    const core = SERVER.filter((f) => inside(f, 'server/core'));
    expect(core.length).toBeGreaterThan(0);
    // node:crypto: booking keys are bounded by a hash (core/keys.ts); hashing is pure.
    expect(breaches(core, (_f, i) => (i.file === null ? i.spec === 'node:crypto' : inside(i.file, 'server/core') || inside(i.file, 'server/shared')))).toEqual([]);
  });

  it('a connector’s translator reaches only the core, server/shared/, its own folder and the connectors’ vocabulary', () => {
    const translators = SERVER.filter((f) => /^server\/connectors\/[^/]+\/translate\.ts$/.test(f));
    expect(translators.length).toBeGreaterThanOrEqual(3);
    const vocabulary = ['server/connectors/types.ts', 'server/connectors/money.ts'];
    const found: string[] = [];
    for (const t of translators) {
      const own = path.posix.dirname(t);
      const ok = (f: string) => inside(f, own) || inside(f, 'server/core') || inside(f, 'server/shared') || vocabulary.includes(f);
      // Everything the translator loads, not only what it names.
      const seen = new Set([t]);
      const todo = [t];
      while (todo.length) {
        const f = todo.pop()!;
        for (const i of importsOf(f)) {
          // A type-only import loads nothing: a translator may name a type its connector's client declares.
          if (i.typeOnly) continue;
          if (i.file === null || !ok(i.file)) found.push(`${where(f, i)} (loaded by ${t})`);
          else if (!seen.has(i.file)) {
            seen.add(i.file);
            todo.push(i.file);
          }
        }
      }
    }
    expect(found).toEqual([]);
  });
});
