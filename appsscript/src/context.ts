/**
 * What every entry point needs, built once per execution from the services: the spreadsheet,
 * the document's store, the connection settings, the hub client and the relay outbox.
 */
import type { PropertiesLike, Services, SpreadsheetLike, UserLike } from './gas';
import { HubClient } from './hub';
import { DocLock, RelayOutbox, resultFor, type FlushResult, type KnownEffect, type Sender, type SubmitResult } from './queue';
import { loadSettings, type Settings } from './settings';
import { ChunkedStore } from './store';

export const TOAST_TITLE = 'stockrelay';

export type RelayBody = { kind: string } & Record<string, unknown>;

export class Context {
  private cachedStore: ChunkedStore | null = null;
  private cachedOutbox: RelayOutbox | null = null;
  private cachedLock: DocLock | null = null;
  private cachedSettings: Settings | null | undefined = undefined;

  constructor(readonly services: Services) {}

  now(): Date {
    return this.services.now();
  }

  spreadsheet(): SpreadsheetLike {
    const ss = this.services.spreadsheetApp.getActiveSpreadsheet();
    if (!ss) throw new Error('No spreadsheet is open: stockrelay runs from a spreadsheet (open it and use the stockrelay menu).');
    return ss;
  }

  /** The spreadsheet's time zone (dates in cells are midnight there); UTC when it cannot be read. */
  timeZone(): string {
    try {
      return this.spreadsheet().getSpreadsheetTimeZone() || 'Etc/UTC';
    } catch {
      return 'Etc/UTC';
    }
  }

  properties(): PropertiesLike {
    const p = this.services.propertiesService.getDocumentProperties();
    if (!p) throw new Error('This spreadsheet’s storage cannot be reached from here: open the spreadsheet and use the stockrelay menu.');
    return p;
  }

  store(): ChunkedStore {
    return (this.cachedStore ??= new ChunkedStore(this.properties()));
  }

  /** The connection settings, read once per execution (each read of a property counts against a daily quota). */
  settings(): Settings | null {
    if (this.cachedSettings === undefined) this.cachedSettings = loadSettings(this.properties());
    return this.cachedSettings;
  }

  hub(): HubClient | null {
    const s = this.settings();
    return s ? new HubClient(this.services.urlFetchApp, s, this.services.utilities, () => this.now()) : null;
  }

  lock(): DocLock {
    return (this.cachedLock ??= new DocLock(this.services.lockService.getDocumentLock()));
  }

  /** Runs `fn` holding the document lock (re-entrant). */
  locked<T>(fn: () => T): T {
    return this.lock().run(fn);
  }

  outbox(): RelayOutbox {
    return (this.cachedOutbox ??= new RelayOutbox(this.store(), this.lock(), this.services.lockService.getScriptLock(), () => this.now()));
  }

  sender(): Sender | null {
    const hub = this.hub();
    return hub ? (id, body) => hub.sendRelay(id, body) : null;
  }

  /**
   * Who made a change. In a trigger, only the editor from the event counts (the script runs as the
   * person who installed the trigger, who is not necessarily the editor): no email, no actor.
   * From a menu or the sidebar, it is the person using it.
   */
  actor(user?: UserLike, inTrigger = false): string | undefined {
    const tries = inTrigger
      ? [() => user?.getEmail()]
      : [() => user?.getEmail(), () => this.services.session.getActiveUser().getEmail(), () => this.services.session.getEffectiveUser().getEmail()];
    for (const t of tries) {
      try {
        const email = t();
        if (email) return email.slice(0, 200);
      } catch {
        /* not allowed in this context: try the next */
      }
    }
    return undefined;
  }

  newRelayId(): string {
    return `msg_${this.services.utilities.getUuid().replace(/-/g, '')}`;
  }

  /** Puts a relay at the end of the queue (under the document lock); returns its webhook-id. Sends nothing. */
  enqueue(body: RelayBody, summary: string, known?: KnownEffect): string {
    const id = this.newRelayId();
    this.outbox().enqueue([{ id, kind: body.kind, body: JSON.stringify(body), summary, ...(known ? { known } : {}) }]);
    return id;
  }

  /** Sends what waits, outside the document lock; null when not connected (everything stays queued). */
  deliver(): FlushResult | null {
    const sender = this.sender();
    return sender ? this.outbox().flush(sender) : null;
  }

  /** Queues a relay, then sends what waits (this one included, in its turn). Not under the document lock. */
  relay(body: RelayBody, summary: string): SubmitResult {
    const id = this.enqueue(body, summary);
    const flushed = this.deliver();
    return resultFor(id, flushed, flushed ? 0 : this.outbox().waiting().length);
  }

  toast(message: string, seconds = 6): void {
    try {
      this.spreadsheet().toast(message, TOAST_TITLE, seconds);
    } catch {
      /* no UI in this context (a time-driven trigger) */
    }
  }
}
