#!/usr/bin/env bash
# On the device machine: stops the runs under DIR and packs each run folder, without the .prev
# copies that a complete checkpoint makes redundant, into $OUT/<run>.tar.xz (one file each, to stay
# under the 16 MiB a returned file may have), and the logs and configs into $OUT/logs.tar.xz.
# With WAIT seconds, each run is first let go on until it writes its next run state (so the steps
# since its last checkpoint are not lost) and then paused (SIGSTOP, freeing its cores for the
# others); runs still short of one after WAIT lose what they did since. Then all are SIGKILLed:
# each resumes from its last checkpoint wherever `qtdog run` is given the folder again.
# Usage: tools/device/pack-runs.sh DIR [WAIT]
dir=$1; wait=${2:-0}; t0=$(date +%s)
declare -A since
for r in "$dir"/*/; do n=$(basename "$r"); since[$n]=$(stat -c %Y "$r/checkpoints/state/manifest.json" 2>/dev/null || echo 0); done
while [ $(( $(date +%s) - t0 )) -lt "$wait" ]; do
  left=0
  for n in "${!since[@]}"; do
    pid=$(pgrep -f "qtdog.js run .* -o $dir/$n\$" | head -1); [ -z "$pid" ] && continue
    [ "$(ps -o stat= -p "$pid" | cut -c1)" = T ] && continue
    m=$(stat -c %Y "$dir/$n/checkpoints/state/manifest.json" 2>/dev/null || echo 0)
    if [ "$m" -gt "${since[$n]}" ]; then sleep 2; kill -STOP "$pid"; echo "paused $n after a new run state"; else left=1; fi
  done
  [ $left = 0 ] && break; sleep 5
done
pkill -9 -f 'qtdog.js run' ; sleep 1
for r in "$dir"/*/; do
  n=$(basename "$r"); case $n in dump-*) continue;; esac
  ex=(); for c in "$r"checkpoints/*.prev; do [ -e "${c%.prev}/manifest.json" ] && ex+=(--exclude="checkpoints/$(basename "$c")"); done
  tar cf - -C "$dir" "${ex[@]/=checkpoints/=$n/checkpoints}" "$n" | xz -T4 -2 > "$OUT/$n.tar.xz"
done
tar cf - -C "$dir" --exclude='dump-*' $(cd "$dir" && ls *.log *.yaml) | xz -2 > "$OUT/logs.tar.xz"
ls -la "$OUT"
