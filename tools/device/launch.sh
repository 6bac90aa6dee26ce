#!/usr/bin/env bash
# On the device machine, after setup.sh: starts detached runs (setsid, so they outlive the call)
# under DIR. Each JOB is kind:config:testEnv:seed[:workers]; kind 'qtdog' runs our CLI on
# configs/<config>.yaml with seed and trialSeed set to seed, 'torch' dumps that config's
# environments and splits and runs the PyTorch reference (tools/reference/domainbed_erm.py) on the GPU.
# Usage: tools/device/launch.sh DIR JOB...
dir=$1; shift; mkdir -p "$dir"
for job in "$@"; do
  IFS=: read -r kind cfg env seed workers <<< "$job"
  name="$cfg-e$env-s$seed"; c="$dir/$name.yaml"
  sed -e "s/^seed: .*/seed: $seed/" -e "s/^trialSeed: .*/trialSeed: $seed/" -e "s/^  testEnvs: .*/  testEnvs: [$env]/" \
      -e "s/^  backend: auto/  backend: auto\n  workers: ${workers:-4}/" "configs/$cfg.yaml" > "$c"
  if [ "$kind" = qtdog ]; then
    setsid nohup node packages/cli/bin/qtdog.js run "$c" -o "$dir/$name" > "$dir/$name.log" 2>&1 < /dev/null &
  else
    setsid nohup bash -c "node tools/reference/dump-environments.mjs '$c' '$dir/dump-$name' && \
      PYTHONUNBUFFERED=1 python3 tools/reference/domainbed_erm.py '$dir/dump-$name' --seed $seed --threads 1 --device cuda" \
      > "$dir/torch-$name.log" 2>&1 < /dev/null &
  fi
  echo "started $kind $name"
done
