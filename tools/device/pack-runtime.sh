#!/usr/bin/env bash
# Packs what a qtdog run needs at runtime (built packages, production node_modules without dev
# tools, bundle variants and source maps, and this machine's node binary) into .devcarry/, small
# enough (about 41 MB xz) to travel to the lent 16-core device machine, which has no npm registry.
# Usage (repo root, after npm run build): tools/device/pack-runtime.sh
set -euo pipefail
root=$(pwd); stage=$(mktemp -d)
cp -a node_modules "$stage/"
(cd "$stage/node_modules" && rm -rf nx @nx typescript playwright-core prettier core-js vitest @vitest vite rollup @rollup \
  @esbuild esbuild vega* @resvg @changesets @types sucrase @babel tsup @manypkg .cache
  find . \( -name '*.map' -o -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' -o -name '*.d.ts' -o -name '*_test.js' \) -delete
  for p in @tensorflow/*; do find "$p/dist" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +; rm -rf "$p/src"; done)
for p in packages/*; do
  mkdir -p "$stage/$p"; cp -a "$p/dist" "$stage/$p/"
  [ -d "$p/node_modules" ] && cp -a "$p/node_modules" "$stage/$p/"
done
mkdir -p .devcarry
(cd "$stage" && tar cf - node_modules packages) | xz -T2 -6 > .devcarry/runtime.tar.xz
[ -f .devcarry/node.xz ] || xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .devcarry/node.xz
rm -rf "$stage"; ls -la .devcarry
