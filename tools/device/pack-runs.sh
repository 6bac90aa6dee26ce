#!/usr/bin/env bash
# On the device machine: stops the runs under DIR (SIGKILL: each resumes from its last checkpoint)
# and packs each run folder, without the .prev copies that a complete checkpoint makes redundant,
# into $OUT/<run>.tar.xz (one file each, to stay under the 16 MiB a returned file may have), and
# the logs and configs into $OUT/logs.tar.xz. Usage: tools/device/pack-runs.sh DIR
dir=$1
pkill -9 -f 'qtdog.js run' ; sleep 1
for r in "$dir"/*/; do
  n=$(basename "$r"); case $n in dump-*) continue;; esac
  ex=(); for c in "$r"checkpoints/*.prev; do [ -e "${c%.prev}/manifest.json" ] && ex+=(--exclude="checkpoints/$(basename "$c")"); done
  tar cf - -C "$dir" "${ex[@]/=checkpoints/=$n/checkpoints}" "$n" | xz -T4 -2 > "$OUT/$n.tar.xz"
done
tar cf - -C "$dir" --exclude='dump-*' $(cd "$dir" && ls *.log *.yaml) | xz -2 > "$OUT/logs.tar.xz"
ls -la "$OUT"
