#!/bin/sh
# Installs what the benchmark's PyTorch side needs: Debian's python3-torch (PyTorch 1.13, CPU), in
# the system Python (/usr/bin/python3). Nothing to do when it is there already.
#
#   sh tools/bench/setup.sh          (as root, or: sudo sh tools/bench/setup.sh)
#
# The bench looks for torch in /usr/bin/python3, not in a pyenv or virtualenv python3 that may come
# first on PATH; set QTDOG_BENCH_PYTHON (or pass --python) to use another interpreter.
set -eu
PY="${QTDOG_BENCH_PYTHON:-/usr/bin/python3}"
if "$PY" -c 'import torch' 2>/dev/null; then
  echo "PyTorch $("$PY" -c 'import torch; print(torch.__version__)') is installed for $PY"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "python3-torch is missing for $PY; run this script as root (sudo sh $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install PyTorch for $PY yourself, or run the bench with --no-torch" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch
"$PY" -c 'import torch; print("PyTorch", torch.__version__, "installed for '"$PY"'")'
