/**
 * `npm run test:fast`: a check of every part of the hub in about two minutes, with nothing but
 * Node.js. The suites of jest.config.js run on SQLite only (test/helpers/stores.ts; the global setup
 * then starts no PostgreSQL), without the ones that need more than that:
 * - PostgreSQL itself (the PostgreSQL store, the machine check that starts one);
 * - a browser (Chromium);
 * - long runs: sweeps over seeds, bursts of hundreds of events, every pair of platforms, processes
 *   started, killed and restarted, whole deployables end to end, waits for a slow platform.
 * `npm test` and `npm run test:jest` run them all. Any test file on SQLite alone, without a
 * PostgreSQL: STOCKRELAY_TEST_STORES=sqlite npx jest <paths>.
 */
const base = require('./jest.config');

// Read by test/helpers/stores.ts in the global setup and in every worker (they inherit it).
process.env.STOCKRELAY_TEST_STORES = 'sqlite';

/**
 * Suites left out for their length, so that the rest stays under two minutes on a 2-core machine
 * (each took from about half a minute to several on the shared machine they were measured on).
 */
const LONG = [
  // Sweeps: seeds, bursts and properties through a whole hub.
  '<rootDir>/test/simulation/',
  '<rootDir>/test/hub/crash.test.ts', // 1,000 relays, the hub killed twice
  '<rootDir>/test/channels/attribution.test.ts', // 1,000 pushes echoed back
  '<rootDir>/test/sheets/write-back.test.ts', // a burst of 500 sales
  '<rootDir>/test/orders/desk.property.test.ts',
  '<rootDir>/test/ledger/quantity-bounds.test.ts',
  '<rootDir>/test/api/doors.test.ts', // hostile bodies of a MiB and 100,000 levels
  // Hub and CLI processes started, killed and restarted; clasp and npm run as a person would.
  '<rootDir>/test/connectors/oauth.test.ts',
  '<rootDir>/test/addon/setup-as-written.test.ts',
  // Every platform, or every pair of them, through the hub and the emulators.
  '<rootDir>/test/sandbox/sandbox.test.ts',
  '<rootDir>/test/sandbox/web-stores.test.ts',
  '<rootDir>/test/sandbox/each-platform.test.ts',
  '<rootDir>/test/channels/refusals.test.ts',
  '<rootDir>/test/connectors/account-and-topic.test.ts',
  // Whole deployables end to end: the add-on, the Airtable scripts, the sheet and Airtable sinks.
  'e2e[^/]*\\.test\\.ts$',
  '<rootDir>/test/sheets/conflicts.test.ts',
  '<rootDir>/test/sheets/untagged-rows.test.ts',
  '<rootDir>/test/airtable/hub.test.ts',
  '<rootDir>/test/orders/desk.test.ts',
  '<rootDir>/test/outbox/alerts-fanout.test.ts',
  '<rootDir>/test/addon/bundle.test.ts', // builds the add-on and type-checks it
  // Waits for a platform that answers late or not at all; polls through backoff and stalls.
  '<rootDir>/test/inbox/prepare.test.ts',
  '<rootDir>/test/inbox/waits.test.ts',
  '<rootDir>/test/channels/polling.test.ts',
  '<rootDir>/test/channels/late-write.test.ts', // attribution windows waited out in real time
];

/**
 * Each platform's own suites, beyond the three the kit was built on (Shopify, Square, WooCommerce):
 * with some forty platforms planned, running them all would take test:fast past two minutes. The
 * hub, the kit and its conformance suite are checked through the three; a platform's own suites run
 * by name when it is touched: STOCKRELAY_TEST_STORES=sqlite npx jest test/connectors/<platform>.
 * (A pattern, not a list: a new platform needs no line here.)
 */
const PLATFORMS_BEYOND_THE_REFERENCE_THREE = ['<rootDir>/test/connectors/(?!(shopify|square|woocommerce)[./]|registry\\.|paging\\.|conformance\\.ts|helpers/|fixtures/)[^/]+'];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    // PostgreSQL itself.
    'postgres[^/]*\\.test\\.ts$',
    '<rootDir>/test/setup/',
    // A browser.
    'chromium[^/]*\\.test\\.ts$',
    ...LONG,
    ...PLATFORMS_BEYOND_THE_REFERENCE_THREE,
  ],
};
