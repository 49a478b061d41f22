/**
 * One guard for every loop that reads a platform's list page by page (catalog discovery, level
 * reads, Airtable's webhook payloads). A server that ignores the page number or the cursor answers
 * the same page for ever; a loop that trusts it makes thousands of requests and, worse, may take a
 * list made of one page repeated for the whole catalog. The guard stops the loop with an error that
 * says what the platform did and what to fix, when:
 * - a page has exactly the same items, in the same order, as a page already read;
 * - a cursor comes back that was already followed;
 * - another page would be asked for after `maxPages` (a hard cap, whatever the platform says):
 *   loops call `more()` before each next request.
 * Stopping at the last page the platform reports (a total, an empty cursor) stays the loop's job;
 * the guard only refuses what cannot be right. Nothing is taken from a list the guard stopped.
 */
import crypto from 'node:crypto';
import { ConnectorError } from './types';

/** Pages read in one go before the guard gives up: 2,000 pages of 100 are 200,000 items. */
export const MAX_PAGES = 2000;

export interface PageGuardOptions {
  /** Who answers, as staff know it: "WooCommerce". */
  platform: string;
  /** What the loop was doing, after "while trying to": "list the catalog". */
  what: string;
  /** The likely cause of a repeated page and what to do about it, for the integrator. */
  hint: string;
  maxPages?: number;
  /** The error to throw; a channel-fault ConnectorError by default (the channel answers wrongly as a whole). */
  error?: (message: string) => Error;
}

export class PageGuard {
  private pages = 0;
  private items = 0;
  /** Fingerprint of each page's items → the page it was first seen on. */
  private readonly seen = new Map<string, number>();
  private readonly cursors = new Set<string>();
  private readonly maxPages: number;

  constructor(private readonly opts: PageGuardOptions) {
    this.maxPages = opts.maxPages ?? MAX_PAGES;
  }

  /** How many pages were checked so far. */
  get count(): number {
    return this.pages;
  }

  /**
   * Checks one page just read: its items' ids in the order given, and the cursor that would fetch
   * the next page (if the platform pages by cursor). Throws when the list is not advancing.
   */
  page(ids: readonly string[], nextCursor?: string | null): void {
    this.pages++;
    this.items += ids.length;
    const { platform, what, hint } = this.opts;
    if (ids.length > 0) {
      const fp = crypto.createHash('sha256').update(ids.join('\u0000')).digest('base64');
      const first = this.seen.get(fp);
      if (first !== undefined) {
        throw this.fail(
          `${platform} answered page ${this.pages} with the same ${ids.length} item${ids.length === 1 ? '' : 's'} as page ${first} while trying to ${what}: ${hint}. ` +
            `The hub stopped after ${this.pages} requests and took nothing from this list; try again once that is fixed.`,
        );
      }
      this.seen.set(fp, this.pages);
    }
    if (nextCursor !== undefined && nextCursor !== null && nextCursor !== '') {
      if (this.cursors.has(nextCursor)) {
        throw this.fail(
          `${platform} gave a page cursor it had already given (after page ${this.pages}) while trying to ${what}: ${hint}. ` +
            `The hub stopped after ${this.pages} requests and took nothing from this list; try again once that is fixed.`,
        );
      }
      this.cursors.add(nextCursor);
    }
  }

  /**
   * Call before asking for another page: throws when the cap is reached. A loop that stops by
   * itself after `maxPages` pages (the list ended there) never calls it and is not refused.
   */
  more(): void {
    if (this.pages < this.maxPages) return;
    const { platform, what } = this.opts;
    throw this.fail(
      `${platform} still had more after ${this.pages} pages (${this.items} items) while trying to ${what}, the most the hub reads in one go: ` +
        `either the list is larger than that, or ${platform} keeps answering new pages. The hub took nothing from this list.`,
    );
  }

  private fail(message: string): Error {
    return this.opts.error ? this.opts.error(message) : new ConnectorError(message, false, null, null, { channelFault: true });
  }
}
