/**
 * What the API's route modules are given: the hub's parts (store, processor, channels…) and the few
 * things every route shares (the clock, whether the hub is shutting down, the inbox writer).
 */
import type { HubConfig, ChannelConfig } from '../config';
import type { InboxProcessor } from '../booking/worker';
import { InboxWriter } from '../inbox/writer';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { RelayVerifier } from '../relay/verify';
import type { Credentials } from '../credentials';
import type { Store } from '../store/types';
import type { ChannelRegistry } from '../channels/registry';
import type { Emulator } from '../connectors/emulator';
import type { AirtableWebhooks } from '../airtable/webhooks';
import type { ReconcileReport } from '../channels/reconcile';
import type { ChannelHealth } from '../outbox/dispatcher';
import type { FeedView } from '../channels/feed-state';
import { Announcer } from '../announce';

/**
 * What the API needs of sandbox mode (server/sandbox.ts): its emulated channels and its warning.
 * Declared here so the API does not depend on the sandbox, which starts a hub.
 */
export interface SandboxView {
  channels: readonly { config: ChannelConfig; emulator: Pick<Emulator, 'level' | 'sell' | 'refund'>; lastOrders: Map<string, string> }[];
  /** What the hub says at start and on /healthz: which emulators run, and that nothing reaches a real shop. */
  warning: string;
}

export interface AppDeps {
  store: Store;
  config: Pick<HubConfig, 'adminToken' | 'channels' | 'locations'> & Partial<Pick<HubConfig, 'orders' | 'reorder'>>;
  log: Logger;
  metrics: Metrics;
  processor: InboxProcessor;
  verifier: RelayVerifier;
  /** Credentials of the sheet, Airtable bases and readers (docs/security.md); absent, only the admin token and the hub-wide relay secrets work. */
  credentials?: Credentials | null;
  clock?: () => Date;
  /** Check every response against the OpenAPI document (tests turn this on). */
  validateResponses?: boolean;
  /** True once the hub is shutting down: /readyz answers 503 and writes are refused. */
  isShuttingDown?: () => boolean;
  /** Connected channels: their webhooks are received at /v1/webhooks/{channelId}. */
  channels?: ChannelRegistry | undefined;
  /** Sandbox mode: the emulators running beside the hub (see server/sandbox.ts); the /v1/sandbox routes exist only then. */
  sandbox?: SandboxView | undefined;
  /** How long a write through the API waits for its booking before answering 202. */
  waitForBookingMs?: number;
  /** When a failing channel's pushes resume, or null when it is not suspended (docs/dispatch.md). */
  channelSuspendedUntil?: (channelId: string) => string | null;
  /** How a channel is doing: answering, failing or suspended, with its last error (docs/dispatch.md). */
  channelHealth?: (channelId: string) => ChannelHealth | null;
  /** How the polled feeds (of one channel, or all) are doing (docs/polling.md). */
  feeds?: (channelId?: string) => Promise<FeedView[]>;
  /** Stores relays and channel webhooks by group commit (server/inbox/writer.ts); one of its own when absent. */
  inboxWriter?: InboxWriter;
  /** The Airtable webhook (docs/airtable.md), when configured. */
  airtableWebhooks?: AirtableWebhooks | null;
  /** docs/reconcile.md */
  reconcile?: (opts: { channelId?: string | undefined; dryRun?: boolean | undefined }) => Promise<ReconcileReport>;
  /** The hub's one way to announce (server/announce.ts); absent, alerts raised through the API reach no sheet, base or subscriber. */
  announcer?: Announcer;
}

/** The OpenAPI document one app serves and validates against. */
export type ApiDocument = Record<string, unknown> & { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };

export interface ApiContext extends Omit<AppDeps, 'clock' | 'isShuttingDown' | 'waitForBookingMs' | 'inboxWriter' | 'credentials' | 'announcer'> {
  clock: () => Date;
  shuttingDown: () => boolean;
  /** How long a write through the API waits for its booking before answering 202. */
  waitMs: number;
  /** Relays and channel webhooks are stored by group commit: one transaction for all that arrive together. */
  inbox: InboxWriter;
  credentials: Credentials | null;
  announcer: Announcer;
  /** The document this app serves at /openapi.json: without the sandbox routes outside sandbox mode. */
  document: ApiDocument;
}

export function apiContext(deps: AppDeps, document: ApiDocument): ApiContext {
  return {
    ...deps,
    clock: deps.clock ?? (() => new Date()),
    shuttingDown: deps.isShuttingDown ?? (() => false),
    waitMs: deps.waitForBookingMs ?? 5000,
    inbox: deps.inboxWriter ?? new InboxWriter(deps.store),
    credentials: deps.credentials ?? null,
    announcer: deps.announcer ?? new Announcer([]),
    document,
  };
}
