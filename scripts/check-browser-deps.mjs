#!/usr/bin/env node
/**
 * Preflight of `npm run test:browser`: the browser suite drives Debian's Chromium (with fonts)
 * and its Redis scenario starts redis-server. Fails with the Debian packages to install when
 * either is missing, before anything is built or started.
 *
 *   node scripts/check-browser-deps.mjs            # chromium and redis-server
 *   node scripts/check-browser-deps.mjs --no-redis # chromium only
 */
import { BROWSER_PACKAGES, findChromium, findRedisServer } from './demo-screenshot.mjs';

const needRedis = !process.argv.includes('--no-redis');
const missing = [];
const lines = [];
const chromium = findChromium();
if (!chromium) {
  missing.push(...BROWSER_PACKAGES);
  lines.push('- Chromium: not at /usr/bin/chromium, not `chromium` on PATH (nor $CHROMIUM)');
}
if (needRedis && !findRedisServer()) {
  missing.push('redis-server');
  lines.push('- redis-server: not on PATH (nor $REDIS_SERVER_BIN); the two-gateway Redis scenario needs it');
}
if (missing.length > 0) {
  console.error('test:browser: missing system packages');
  for (const line of lines) console.error(line);
  console.error(`Install the Debian packages: apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  console.error('(`bash .ci/run` installs them; `npm test` runs without them.)');
  process.exit(1);
}
console.log(`test:browser: chromium at ${chromium}${needRedis ? `, redis-server at ${findRedisServer()}` : ''}`);
