/**
 * One folder for every temporary file a test run makes (data folders, config files, keys), removed
 * when the run ends, so test runs leave nothing behind in the system's temporary folder. Workers
 * start after this and inherit the variable.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async function globalSetup() {
  process.env.STOCKRELAY_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'stockrelay-tests-'));
};
