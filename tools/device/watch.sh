#!/usr/bin/env bash
# On the device machine: waits up to N seconds while runs under DIR go on, printing each run's
# checkpoints so far every minute, stops early once every run wrote 'done', then packs the run
# folders (results, configs, logs, checkpoints for resuming elsewhere) into $OUT/runs.tar.xz.
# PACK=0 skips the packing (a later call goes on watching or runs pack-runs.sh).
# Usage: [PACK=0] tools/device/watch.sh DIR SECONDS
dir=$1; secs=$2; t0=$(date +%s)
while :; do
  sleep 60; now=$(( $(date +%s) - t0 )); all=1; echo "--- ${now}s load $(cut -d' ' -f1 /proc/loadavg)"
  for r in "$dir"/*/; do
    n=$(wc -l < "$r/results.jsonl" 2>/dev/null || echo 0); d=; [ -e "$r/done" ] && d=done || all=0
    echo "$(basename "$r"): $n checkpoints $d $(tail -c 160 "$r/results.jsonl" 2>/dev/null | tr '\n' ' ' | tail -c 100)"
  done
  for l in "$dir"/*.log; do echo "$(basename "$l"): $(tail -c 200 "$l" | tr '\r\n' '  ' | tail -c 150)"; done
  [ $all = 1 ] && break; [ $now -ge $secs ] && break
done
[ "${PACK:-1}" = 0 ] && exit 0
tar cf - -C "$dir" --exclude='dump-*' . | xz -T4 -3 > "$OUT/runs.tar.xz"; ls -la "$OUT"
