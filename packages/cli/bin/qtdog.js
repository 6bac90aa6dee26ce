#!/usr/bin/env node
// A committed launcher, so npm links the `qtdog` command at install time, before the build exists.
import('../dist/bin.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('qtdog: the CLI is not built yet; run `npm run build` (npm ci builds it through prepare)\n');
    process.exit(1);
  }
  throw e;
});
