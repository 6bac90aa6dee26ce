#!/usr/bin/env bash
# Copies what `qtdog report` reads from a sweep folder (sweep.json, ensembles.json; each job's config.json,
# config.yaml, job.json, results.jsonl, final.json, log.txt and `done`), leaving out checkpoints, so a finished
# sweep's raw results can be committed beside its report and the report rebuilt from them:
#   tools/results/snapshot-sweep.sh runs/sweeps/NAME docs/results/sweep-NAME/raw
#   qtdog report docs/results/sweep-NAME/raw --out docs/results/sweep-NAME --html
# Unfinished jobs are copied too (the report marks them missing); re-run to refresh. Do not name
# the destination runs/: .gitignore keeps every runs/ folder out of git.
set -euo pipefail
src=${1:?usage: snapshot-sweep.sh SWEEP_DIR DEST}; dest=${2:?usage: snapshot-sweep.sh SWEEP_DIR DEST}
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
done
echo "copied $(ls -d "$dest"/*/ | wc -l) jobs of $src to $dest"
