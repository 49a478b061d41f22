/**
 * No import cycle anywhere in the hub or the add-on, not even through `import type` (issue #17):
 * a cycle is where a change in one part silently depends on the load order of another. madge reads
 * the imports the way TypeScript resolves them (tsconfig paths included).
 */
import path from 'node:path';
import madge from 'madge';

const root = path.resolve(__dirname, '../..');

test('the import graph of server/ and appsscript/src/ has no cycle, type-only imports included', async () => {
  const graph = await madge([path.join(root, 'server'), path.join(root, 'appsscript/src')], {
    baseDir: root,
    fileExtensions: ['ts'],
    tsConfig: path.join(root, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  });
  // The graph is real: it holds the hub's entry point and what it imports.
  const modules = Object.keys(graph.obj());
  expect(modules).toContain('server/main.ts');
  expect(modules.length).toBeGreaterThan(100);
  expect(graph.circular()).toEqual([]);
}, 120_000);
