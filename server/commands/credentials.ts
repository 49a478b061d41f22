/**
 * `npx stockrelay credentials …`: list, create, rotate and revoke the credentials the sheet add-on
 * and the Airtable bases use (docs/security.md), and say where to paste what was issued.
 */
import type { Command } from 'commander';
import { CREDENTIAL_SCOPES, SCOPE_HELP } from '../credentials';
import { CliError, call, positive, table, type Globals } from './common';

interface CredentialView {
  id: number;
  name: string;
  scopes: string[];
  status: 'active' | 'revoked';
  tokenPrefix: string | null;
  relaySecretPrefix: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  rotatedAt: string | null;
  revokedAt: string | null;
}
interface Issued {
  credential: CredentialView;
  token: string | null;
  relaySecret: string | null;
}

/** What to do with a credential's secrets, by scope. */
function whereToPaste(c: CredentialView): string[] {
  if (c.scopes.includes('sidebar')) {
    return ['Next: in the spreadsheet choose stockrelay › Connect to hub, and paste the relay secret and the token when asked.'];
  }
  if (c.scopes.includes('relay')) {
    return ['Next: in the Airtable base, paste the relay secret into the relaySecret input variable of each stockrelay script (docs/airtable.md).'];
  }
  return ['Next: send the token as "Authorization: Bearer <token>" with each request.'];
}

function printIssued(r: Issued, verb: string): void {
  const c = r.credential;
  console.log(`${verb} credential ${c.id} "${c.name}" (scope ${c.scopes.join(', ')}).\n`);
  if (r.token) console.log(`  Token:         ${r.token}`);
  if (r.relaySecret) console.log(`  Relay secret:  ${r.relaySecret}`);
  console.log('\nCopy them now: the hub keeps only a fingerprint of each and cannot show them again.');
  for (const line of whereToPaste(c)) console.log(line);
}

const short = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '—');

/** `credentials list|create|rotate|revoke`: the credentials of the sheet add-on and the Airtable bases. */
export function registerCredentialCommands(program: Command, globals: () => Globals): void {
  const scopeList = CREDENTIAL_SCOPES.map((s) => `  ${s.padEnd(8)} ${SCOPE_HELP[s]}`).join('\n');
  const credentials = program
    .command('credentials')
    .description('Give the sheet, each Airtable base and each report its own credential, so the admin token never leaves this machine.')
    .addHelpText(
      'after',
      [
        '',
        'Each place that talks to the hub gets a credential of its own, which can do only what that place needs',
        'and can be revoked without touching the others. Scopes:',
        scopeList,
        '',
        'Examples:',
        '  npx stockrelay credentials create --name "Shop sheet" --scope sidebar',
        '  npx stockrelay credentials create --name "Airtable: Gallery base" --scope relay',
        '  npx stockrelay credentials list',
        '  npx stockrelay credentials rotate 3     (new secrets; the old ones stop at once)',
        '  npx stockrelay credentials revoke 3     (stops it at once, for good)',
        '',
        'No restart is needed: every change counts from the next request. See docs/security.md.',
      ].join('\n'),
    );

  credentials
    .command('list')
    .description('Every credential: what it may do, when it was last used, whether it is revoked (never the secrets themselves).')
    .action(async () => {
      const r = (await call(globals(), 'GET', '/v1/credentials')) as { credentials: CredentialView[] };
      if (r.credentials.length === 0) {
        console.log('No credentials yet. Make one with: npx stockrelay credentials create --name "Shop sheet" --scope sidebar');
        return;
      }
      console.log(
        table(
          ['id', 'name', 'scope', 'status', 'token', 'relay secret', 'created', 'last used'],
          r.credentials.map((c) => [
            String(c.id),
            c.name,
            c.scopes.join(','),
            c.status === 'revoked' ? `revoked ${short(c.revokedAt)}` : c.rotatedAt ? `active (rotated ${short(c.rotatedAt)})` : 'active',
            c.tokenPrefix ? `${c.tokenPrefix}…` : '—',
            c.relaySecretPrefix ? `${c.relaySecretPrefix}…` : '—',
            short(c.createdAt),
            short(c.lastUsedAt),
          ]),
        ),
      );
    });

  credentials
    .command('create')
    .description('Make a credential for one place (the sheet, one Airtable base, one report) and print its secrets once.')
    .requiredOption('--name <name>', 'where it will be used, like "Shop sheet" or "Airtable: Gallery base"')
    .requiredOption('--scope <scope>', `what it may do: ${CREDENTIAL_SCOPES.join(', ')} (see below)`)
    .addHelpText('after', `\nScopes:\n${scopeList}`)
    .action(async (o: { name: string; scope: string }) => {
      const scopes = o.scope.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = scopes.filter((s) => !(CREDENTIAL_SCOPES as readonly string[]).includes(s));
      if (bad.length > 0 || scopes.length === 0) throw new CliError(`--scope must be one of ${CREDENTIAL_SCOPES.join(', ')}${bad.length ? `, not "${bad.join('", "')}"` : ''}. Run "npx stockrelay credentials create --help" to see what each allows.`);
      printIssued((await call(globals(), 'POST', '/v1/credentials', { name: o.name, scopes })) as Issued, 'Made');
    });

  credentials
    .command('rotate')
    .description('Give a credential a new token and relay secret; the old ones are refused from the next request on.')
    .argument('<id>', 'the credential’s id (see "credentials list")', positive)
    .action(async (id: number) => {
      printIssued((await call(globals(), 'POST', `/v1/credentials/${id}/rotate`)) as Issued, 'Rotated');
    });

  credentials
    .command('revoke')
    .description('Stop a credential for good: its token and relay secret are refused from the next request on.')
    .argument('<id>', 'the credential’s id (see "credentials list")', positive)
    .action(async (id: number) => {
      console.log(((await call(globals(), 'DELETE', `/v1/credentials/${id}`)) as { message: string }).message);
    });
}
