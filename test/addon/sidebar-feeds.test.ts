/**
 * The sidebar's channel list says, per channel, what the hub checks on it by itself (the feeds it
 * polls, docs/polling.md): when it last looked, and whether looking fails, in a shop owner's words.
 * A hub older than polling (no `feeds`) shows the list as before.
 */
import { duration, feedLines, type ApiFeed } from '../../appsscript/src/sidebar-api';
import { furnishedRig } from './fakes/furnished';

const NOW = Date.parse('2026-11-22T10:30:00.000Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const feed = (f: Partial<ApiFeed>): ApiFeed => ({ feed: 'orders', status: 'ok', everyMs: 60_000, lastPollAt: ago(60_000), lastSuccessAt: ago(60_000), lagSeconds: 60, consecutiveErrors: 0, lastError: null, ...f });

test('each state of a feed in plain words', () => {
  expect(feedLines([feed({ lastSuccessAt: ago(2 * 60_000 + 5_000) })], NOW)).toEqual(['Orders checked 2 min ago (every 1 min).']);
  expect(feedLines([feed({ status: 'starting', lastSuccessAt: null, lastPollAt: null })], NOW)).toEqual(['Orders: the first check is under way.']);
  expect(feedLines([feed({ status: 'failing', consecutiveErrors: 2, lastError: 'WooCommerce had a server error (HTTP 500).' })], NOW)).toEqual([
    'Orders last checked 1 min ago; the last 2 tries failed, the hub tries again on its own. Last answer: WooCommerce had a server error (HTTP 500).',
  ]);
  expect(feedLines([feed({ status: 'stalled', consecutiveErrors: 4, lastSuccessAt: ago(12 * 60_000), lastError: 'WooCommerce refused the API key (HTTP 401).' })], NOW)).toEqual([
    'Orders not checked for 12 min: sales made there may be missing here until it works again; the hub keeps trying. Last answer: WooCommerce refused the API key (HTTP 401).',
  ]);
  expect(feedLines([feed({ status: 'off' })], NOW)).toEqual(["Orders are not checked (turned off in the hub's settings)."]);
  expect([duration(30_000), duration(90 * 60_000), duration(5 * 3_600_000), duration(3 * 86_400_000)]).toEqual(['less than a minute', '90 min', '5 h', '3 days']);
});

test('the channel list shows the lines of the channels the hub polls, and none for the others', () => {
  const { hub, addon } = furnishedRig();
  const now = Date.now();
  hub.channels[1]!.feeds = [{ feed: 'orders', status: 'failing', everyMs: 120_000, lastPollAt: new Date(now - 30_000).toISOString(), lastSuccessAt: new Date(now - 5 * 60_000 - 10_000).toISOString(), lagSeconds: 310, consecutiveErrors: 1, lastError: 'WooCommerce had a server error (HTTP 503).', cursorAdvancedAt: null, nextPollAt: null, eventsStored: 3 }];
  hub.channels[0]!.feeds = [];
  const s = addon.sidebarState();
  expect(s.channels.error).toBeNull();
  expect(s.channels.data[1]!.checks).toEqual(['Orders last checked 5 min ago; the last try failed, the hub tries again on its own. Last answer: WooCommerce had a server error (HTTP 503).']);
  expect(s.channels.data[0]!.checks).toBeUndefined();
  // Etsy's entry comes from the hub without `feeds` at all (an older hub): as before.
  expect(s.channels.data[2]).toEqual({ id: 'etsy', name: 'Etsy shop', platform: 'etsy', health: 'not connected', detail: 'The hub has no connector for this platform yet.' });
  expect(JSON.parse(JSON.stringify(s))).toEqual(s);
});
