/**
 * What every entry point needs, built once per execution from the services: the spreadsheet,
 * the document's store, the connection settings, the hub client and the relay outbox.
 */
import type { PropertiesLike, Services, SpreadsheetLike, UserLike } from './gas';
import { HubClient } from './hub';
import { DocLock, RelayOutbox, type Sender, type SubmitResult } from './queue';
import { loadSettings, type Settings } from './settings';
import { ChunkedStore } from './store';

export const TOAST_TITLE = 'stockrelay';

export type RelayBody = { kind: string } & Record<string, unknown>;

export class Context {
  private cachedStore: ChunkedStore | null = null;
  private cachedOutbox: RelayOutbox | null = null;
  private cachedLock: DocLock | null = null;

  constructor(readonly services: Services) {}

  now(): Date {
    return this.services.now();
  }

  spreadsheet(): SpreadsheetLike {
    const ss = this.services.spreadsheetApp.getActiveSpreadsheet();
    if (!ss) throw new Error('No spreadsheet is open: stockrelay runs from a spreadsheet (open it and use the Extensions menu).');
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
    if (!p) throw new Error('This spreadsheet’s storage cannot be reached from here: open the spreadsheet and use the Extensions menu.');
    return p;
  }

  store(): ChunkedStore {
    return (this.cachedStore ??= new ChunkedStore(this.properties()));
  }

  settings(): Settings | null {
    return loadSettings(this.properties());
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
    return (this.cachedOutbox ??= new RelayOutbox(this.store(), this.lock(), () => this.now()));
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

  /** Signs and sends a relay (or queues it behind the ones waiting). */
  relay(body: RelayBody, summary: string): SubmitResult {
    return this.outbox().submit({ id: this.newRelayId(), kind: body.kind, body: JSON.stringify(body), summary }, this.sender());
  }

  toast(message: string, seconds = 6): void {
    try {
      this.spreadsheet().toast(message, TOAST_TITLE, seconds);
    } catch {
      /* no UI in this context (a time-driven trigger) */
    }
  }
}
