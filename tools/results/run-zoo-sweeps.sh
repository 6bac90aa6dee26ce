#!/usr/bin/env bash
# Issue 4's sweeps, one after another, 2 jobs at a time (1 worker each): ColoredMNIST, then
# RotatedMNIST, then the two SWAD jobs side by side. Every sweep is resumable: stop this with
# Ctrl-C (running jobs release their locks and resume from their last checkpoint) and start it
# again to go on.
#   nohup tools/results/run-zoo-sweeps.sh > zoo-sweeps.log 2>&1 &
# Then, per sweep: tools/results/snapshot-sweep.sh runs/sweeps/NAME docs/results/NAME/raw and
# qtdog report docs/results/NAME/raw --out docs/results/NAME --html; the table of docs/results.md
# comes from tools/results/zoo-table.mjs.
set -uo pipefail
cd "$(dirname "$0")/../.."
# A sweep stopped by a signal exits with 130 (SIGINT) or 143 (SIGTERM) instead of dying of it, so
# the signal alone would not stop this script: stop here too, and do not start the next sweep.
trap 'echo "zoo sweeps: stopped"; exit 130' INT TERM
Q="node packages/cli/bin/qtdog.js"
sweep() {
  $Q sweep "$@"
  local rc=$?
  if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then echo "zoo sweeps: stopped"; exit $rc; fi
  [ $rc -eq 0 ] || echo "$1 exited $rc"
}
sweep configs/sweeps/zoo-cmnist.yaml --jobs 2
sweep configs/sweeps/zoo-rmnist.yaml --jobs 2
sweep configs/sweeps/zoo-cmnist-swad.yaml &
sweep configs/sweeps/zoo-rmnist-swad.yaml
wait
echo "zoo sweeps: all done"
