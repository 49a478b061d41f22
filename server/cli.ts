#!/usr/bin/env node
/**
 * `npx stockrelay <command>` (or `npm run stockrelay -- <command>`): talk to a running hub from the shell.
 *
 *   simulate sale     make a sale on a sandbox channel and show every channel's level before and after
 *   simulate return   refund the last sandbox sale of a SKU (with or without restock)
 *   simulate restock  add stock in the hub (as the sheet would) and watch it reach every channel
 *   levels            one item's levels in the hub and on every sandbox channel
 *   discover          match a channel's catalog to ours and print the report
 *   reconcile         read every channel back, fix or flag each difference (--dry-run to look only)
 *   credentials       list, create, rotate and revoke the credentials of the sheet and Airtable bases
 *   authorize         connect a channel whose platform uses OAuth (consent once; the hub refreshes)
 *   config-schema     print the JSON Schema of the config file
 *
 * The credentials commands are in server/commands/credentials.ts; what every command shares (the
 * call to the hub, its errors, a table) in server/commands/common.ts.
 */
import { Command } from 'commander';
import { ConfigFileSchema } from './config';
import { AuthorizeError, runAuthorize } from './connectors/kit/oauth-authorize';
import { inWords, sandboxCapable } from './connectors';
import { registerCredentialCommands } from './commands/credentials';
import { CliError, call, positive, table, type Globals } from './commands/common';

/** The sandbox's channel ids, as the hub names them (STOCKRELAY_SANDBOX chooses which run). */
const SANDBOX_CHANNEL_HELP = `sandbox channel: ${inWords(sandboxCapable().filter((p) => p.byDefault).map((p) => p.channelId)).replace(/ and (\S+)$/, ' or $1')} by default; \`GET /v1/sandbox\` lists those running`;

interface LevelsView {
  sku: string;
  hub: { locationId: string; onHand: number; available: number }[];
  channels: { channelId: string; name: string; levels: { locationId: string; level: number | null }[] }[];
}

function levelsTable(before: LevelsView, after?: LevelsView): string {
  const rows: string[][] = [['where', 'location', after ? 'before' : 'level', ...(after ? ['after'] : [])]];
  for (const l of before.hub) {
    const a = after?.hub.find((x) => x.locationId === l.locationId);
    rows.push(['hub (available)', l.locationId, String(l.available), ...(after ? [String(a?.available ?? '-')] : [])]);
  }
  for (const c of before.channels) {
    for (const l of c.levels) {
      const a = after?.channels.find((x) => x.channelId === c.channelId)?.levels.find((x) => x.locationId === l.locationId);
      rows.push([c.name, l.locationId, String(l.level ?? '-'), ...(after ? [String(a?.level ?? '-')] : [])]);
    }
  }
  return table(rows[0]!, rows.slice(1));
}

/** Polls until every channel shows what the hub publishes (or the time is up), then returns the levels. */
async function settled(opts: Globals, sku: string, changedFrom: LevelsView, waitMs: number): Promise<{ view: LevelsView; ms: number }> {
  const start = Date.now();
  let view: LevelsView = changedFrom;
  while (Date.now() - start < waitMs) {
    await new Promise((r) => setTimeout(r, 100));
    view = (await call(opts, 'GET', `/v1/sandbox/levels/${encodeURIComponent(sku)}`)) as LevelsView;
    const hubChanged = JSON.stringify(view.hub) !== JSON.stringify(changedFrom.hub);
    const converged = view.channels.every((c) => c.levels.every((l) => l.level === null || l.level === view.hub.find((h) => h.locationId === l.locationId)?.available));
    if (hubChanged && converged) break;
  }
  return { view, ms: Date.now() - start };
}

export function buildCli(): Command {
  const program = new Command('stockrelay')
    .description('Talk to a running stockrelay hub.')
    .option('--hub <url>', 'the hub address (STOCKRELAY_HUB_URL, else 127.0.0.1 on PORT)', process.env.STOCKRELAY_HUB_URL ?? `http://127.0.0.1:${process.env.PORT || 8080}`)
    .option('--token <token>', 'the admin token (default: STOCKRELAY_ADMIN_TOKEN, or data/secrets.json)')
    .showHelpAfterError();

  const globals = (): Globals => program.opts<Globals>();
  registerSimulateCommands(program, globals);
  registerChannelCommands(program, globals);
  registerCredentialCommands(program, globals);
  registerAuthorizeCommand(program);

  program
    .command('config-schema')
    .description('Print the JSON Schema of the config file (STOCKRELAY_CONFIG), for editors and CI checks.')
    .action(() => {
      console.log(JSON.stringify(configJsonSchema(), null, 2));
    });

  return program;
}

/** `simulate sale|return|restock`: make things happen on the sandbox's emulated channels and watch every level follow. */
function registerSimulateCommands(program: Command, globals: () => Globals): void {
  const simulate = program.command('simulate').description('Sandbox mode: make things happen on the emulated channels and watch every level follow.');

  simulate
    .command('sale')
    .description('Sell on one channel (its POS or web store) and show every channel before and after.')
    .requiredOption('--channel <id>', SANDBOX_CHANNEL_HELP)
    .requiredOption('--sku <sku>', 'the item sold')
    .option('--quantity <n>', 'how many', positive, 1)
    .option('--location <id>', 'our location the sale is made at, as at a POS (default: where the platform fulfils a web order from)')
    .option('--wait <ms>', 'how long to wait for every channel to follow', positive, 5000)
    .action(async (o: { channel: string; sku: string; quantity: number; location?: string; wait: number }) => {
      const g = globals();
      const before = (await call(g, 'GET', `/v1/sandbox/levels/${encodeURIComponent(o.sku)}`)) as LevelsView;
      const { orderId } = (await call(g, 'POST', `/v1/sandbox/channels/${o.channel}/sales`, { sku: o.sku, quantity: o.quantity, ...(o.location ? { location: o.location } : {}) })) as { orderId: string };
      const { view, ms } = await settled(g, o.sku, before, o.wait);
      // A sale at a location is made at that location's counter, as on the platform's POS (Shopify POS at a Shopify location).
      const where = o.location ? ` at the ${o.location} counter` : '';
      console.log(`Sold ${o.quantity} × ${o.sku}${where} on ${o.channel} (order ${orderId}). Every channel followed in ${ms} ms:\n`);
      console.log(levelsTable(before, view));
    });

  simulate
    .command('return')
    .description('Refund the last sandbox sale of a SKU on a channel, putting the goods back unless --no-restock.')
    .requiredOption('--channel <id>', SANDBOX_CHANNEL_HELP)
    .requiredOption('--sku <sku>', 'the item returned')
    .option('--order <id>', 'the order to refund (default: the last one made with "simulate sale")')
    .option('--no-restock', 'money back only: the goods do not go back on the shelf')
    .option('--wait <ms>', 'how long to wait for every channel to follow', positive, 5000)
    .action(async (o: { channel: string; sku: string; order?: string; restock: boolean; wait: number }) => {
      const g = globals();
      const before = (await call(g, 'GET', `/v1/sandbox/levels/${encodeURIComponent(o.sku)}`)) as LevelsView;
      const r = (await call(g, 'POST', `/v1/sandbox/channels/${o.channel}/refunds`, { sku: o.sku, restock: o.restock, ...(o.order ? { orderId: o.order } : {}) })) as { refundId: string; orderId: string };
      const { view, ms } = o.restock ? await settled(g, o.sku, before, o.wait) : { view: before, ms: 0 };
      console.log(`Refunded order ${r.orderId} on ${o.channel} (refund ${r.refundId}, ${o.restock ? 'restocked' : 'not restocked: no stock moves'}).${o.restock ? ` Every channel followed in ${ms} ms:` : ''}\n`);
      console.log(levelsTable(before, view));
    });

  simulate
    .command('restock')
    .description('Add stock in the hub, as a staff edit in the sheet would, and watch it reach every channel.')
    .requiredOption('--sku <sku>', 'the item')
    .option('--quantity <n>', 'how many arrived', positive, 1)
    .option('--location <id>', 'our location', 'gallery')
    .option('--wait <ms>', 'how long to wait for every channel to follow', positive, 5000)
    .action(async (o: { sku: string; quantity: number; location: string; wait: number }) => {
      const g = globals();
      const before = (await call(g, 'GET', `/v1/sandbox/levels/${encodeURIComponent(o.sku)}`)) as LevelsView;
      await call(g, 'POST', `/v1/items/${encodeURIComponent(o.sku)}/adjustments`, { location: o.location, quantity: o.quantity, reason: 'restock', note: 'stockrelay simulate restock' });
      const { view, ms } = await settled(g, o.sku, before, o.wait);
      console.log(`Restocked ${o.quantity} × ${o.sku} at ${o.location}. Every channel followed in ${ms} ms:\n`);
      console.log(levelsTable(before, view));
    });
}

/** `levels`, `discover` and `reconcile`: what the channels show, match and differ in. */
function registerChannelCommands(program: Command, globals: () => Globals): void {
  program
    .command('levels')
    .description('One item’s levels in the hub and on every sandbox channel.')
    .requiredOption('--sku <sku>', 'the item')
    .action(async (o: { sku: string }) => {
      console.log(levelsTable((await call(globals(), 'GET', `/v1/sandbox/levels/${encodeURIComponent(o.sku)}`)) as LevelsView));
    });

  program
    .command('discover')
    .description('Match a channel’s catalog to ours by SKU and print what matched, what is duplicated, unmatched or missing.')
    .requiredOption('--channel <id>', 'the channel')
    .action(async (o: { channel: string }) => {
      const r = (await call(globals(), 'POST', `/v1/channels/${encodeURIComponent(o.channel)}/discover`)) as {
        matched: { sku: string }[];
        duplicated: { sku: string; listings: unknown[] }[];
        unmatched: { sku: string | null; title: string }[];
        missing: string[];
      };
      console.log(`${r.matched.length} SKU(s) mapped.`);
      for (const d of r.duplicated) console.log(`  listed ${d.listings.length} times (not mapped until fixed on the platform): ${d.sku}`);
      for (const u of r.unmatched) console.log(`  on the platform but not in the catalog: ${u.sku || '(no SKU)'} — ${u.title}`);
      for (const m of r.missing) console.log(`  in the catalog but not on the platform: ${m}`);
    });

  program
    .command('reconcile')
    .description('Read every channel back, compare with what the hub publishes, and fix or flag each difference (see docs/reconcile.md).')
    .option('--channel <id>', 'only this channel')
    .option('--dry-run', 'only say what would be done; change nothing')
    .action(async (o: { channel?: string; dryRun?: boolean }) => {
      const r = (await call(globals(), 'POST', '/v1/reconcile', { ...(o.channel ? { channel: o.channel } : {}), dryRun: o.dryRun === true })) as {
        channels: { name: string; checked: number; error: string | null; notListed: string[]; differences: { sku: string; location: string; channelShows: number | null; published: number; explanation: string; action: string }[] }[];
      };
      for (const c of r.channels) {
        const head = `${c.name}: ${c.checked} level(s) checked, ${c.differences.length} different${o.dryRun ? ' (dry run: nothing changed)' : ''}.`;
        console.log(c.error ? `${head} ${c.error}` : head);
        if (c.differences.length > 0) {
          console.log(
            table(
              ['sku', 'location', 'channel shows', 'published', 'why', 'action'],
              c.differences.map((d) => [d.sku, d.location, String(d.channelShows ?? '—'), String(d.published), d.explanation.replace(/_/g, ' '), d.action]),
            ),
          );
        }
        if (c.notListed.length > 0) console.log(`  not listed on ${c.name}: ${c.notListed.slice(0, 20).join(', ')}${c.notListed.length > 20 ? ` and ${c.notListed.length - 20} more` : ''}`);
      }
    });
}

/** `authorize`: the one-time OAuth consent of a channel, run on the hub's machine. */
function registerAuthorizeCommand(program: Command): void {
  program
    .command('authorize')
    .description('Connect a channel whose platform uses OAuth (docs/credentials-oauth.md): open the address it prints, allow access, paste back where the browser was sent.')
    .requiredOption('--channel <id>', 'the channel, as in the config file')
    .option('--redirect <address>', 'the whole address the platform sent the browser to, if you did not paste it when asked')
    .option('--code <code>', 'only the code from that address (the state cannot be checked then; prefer --redirect)')
    .option('--client-credentials', 'for platforms that give tokens to your app\'s own id and secret: fetch one and keep it')
    .addHelpText(
      'after',
      [
        '',
        'Run it on the hub\'s machine, with the hub\'s environment (the same config file, database and',
        'STOCKRELAY_CREDENTIAL_KEY). The tokens are kept encrypted in the hub\'s database; a running hub',
        'uses them from its next request. Run it again whenever the hub says a channel must be authorised again.',
        '',
        'Examples:',
        '  npm run stockrelay -- authorize --channel square-pos',
        "  npm run stockrelay -- authorize --channel square-pos --redirect 'https://example.com/callback?code=…&state=…'",
      ].join('\n'),
    )
    .action(async (o: { channel: string; redirect?: string; code?: string; clientCredentials?: boolean }) => {
      try {
        await runAuthorize(o, { env: process.env, input: process.stdin, output: process.stdout });
      } catch (err) {
        if (err instanceof AuthorizeError) throw new CliError(err.message);
        throw err;
      }
    });
}

/** The config file's JSON Schema as committed in docs/config.schema.json. */
export function configJsonSchema(): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'stockrelay config file',
    ...JSON.parse(JSON.stringify(ConfigFileSchema)),
  };
}

if (require.main === module) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(err instanceof CliError ? err.message : `stockrelay: ${(err as Error).message}`);
      process.exit(1);
    });
}
