/** Removes the run's temporary folder (test/global-setup.js). */
const fs = require('node:fs');

module.exports = async function globalTeardown() {
  const dir = process.env.STOCKRELAY_TEST_TMP;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
