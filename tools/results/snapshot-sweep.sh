#!/usr/bin/env bash
# Copies what `qtdog report` reads from a sweep folder (sweep.json, ensembles.json; each job's
# config.json, config.yaml, job.json, results.jsonl, final.json, log.txt and `done`), leaving out
# checkpoints, so a finished sweep's raw results can be committed beside its report and the report
# rebuilt from them:
#   tools/results/snapshot-sweep.sh runs/sweeps/NAME docs/results/sweep-NAME/raw [--with-best]
#   qtdog report docs/results/sweep-NAME/raw --out docs/results/sweep-NAME --html
# --with-best also keeps each finished job's 'best' checkpoint (the training-domain validation
# choice: 1.5 MB for MNIST_CNN), so the trials can still be ensembled (qtdog report --ensembles,
# qtdog ensemble) from the snapshot once the sweep folder is gone, as a sweep continued over
# machines needs.
# Unfinished jobs are copied too (the report marks them missing); re-run to refresh. Do not name
# the destination runs/: .gitignore keeps every runs/ folder out of git.
set -euo pipefail
usage='usage: snapshot-sweep.sh SWEEP_DIR DEST [--with-best]'
src=${1:?$usage}; dest=${2:?$usage}; best=${3:-}
[ -z "$best" ] || [ "$best" = --with-best ] || { echo "$usage (got '$best')" >&2; exit 2; }
[ -f "$src/sweep.json" ] || { echo "$src: no sweep.json (not a sweep folder)" >&2; exit 1; }
mkdir -p "$dest"; cp "$src/sweep.json" "$dest/"
# The trials' ensembles (qtdog report --ensembles), computed from checkpoints a snapshot leaves out.
if [ -f "$src/ensembles.json" ]; then cp "$src/ensembles.json" "$dest/"; fi
for job in "$src"/*/; do
  id=$(basename "$job"); [ -f "$job/job.json" ] || continue
  mkdir -p "$dest/$id"
  for f in config.json config.yaml job.json results.jsonl final.json log.txt done; do
    if [ -f "$job/$f" ]; then cp "$job/$f" "$dest/$id/"; else rm -f "$dest/$id/$f"; fi
  done
  if [ -n "$best" ] && [ -f "$job/done" ] && [ -f "$job/checkpoints/best/manifest.json" ]; then
    mkdir -p "$dest/$id/checkpoints/best"
    cp "$job/checkpoints/best/manifest.json" "$job/checkpoints/best/weights.bin" "$dest/$id/checkpoints/best/"
  fi
done
echo "copied $(ls -d "$dest"/*/ | wc -l) jobs of $src to $dest${best:+ (with the best checkpoints of finished jobs)}"
