#!/usr/bin/env bash
# Issue 3's table: gathers the ERM and QT-DoG RotatedMNIST runs kept under docs/results/
# (rmnist-erm-seeds/ and rmnist-qtdog-seeds/: s<seed> = test env 0, e5-s<seed> = test env 5; a
# folder without `done` is an unfinished run, shown as missing) into one temporary sweep-like
# folder and writes `qtdog report` of it to docs/results/rmnist-qtdog-vs-erm-report/.
# Usage (repo root, packages built): tools/results/qtdog-vs-erm-report.sh
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for alg in erm qtdog; do
  for r in docs/results/rmnist-$alg-seeds/*/; do
    n=$(basename "$r"); [ -f "$r/results.jsonl" ] || continue
    mkdir -p "$tmp/$alg-$n"; cp "$r"/{config.json,results.jsonl} "$tmp/$alg-$n/"; [ -f "$r/done" ] && cp "$r/done" "$tmp/$alg-$n/"
  done
done
mkdir -p "$tmp/rmnist-qtdog-vs-erm"; mv "$tmp"/{erm,qtdog}-* "$tmp/rmnist-qtdog-vs-erm/"
node packages/cli/bin/qtdog.js report "$tmp/rmnist-qtdog-vs-erm" --out docs/results/rmnist-qtdog-vs-erm-report
