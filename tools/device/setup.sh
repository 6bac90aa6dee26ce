#!/usr/bin/env bash
# On the device machine, in the repo root: unpacks .devcarry/ (see pack-runtime.sh) and puts node on PATH.
# Usage: source tools/device/setup.sh
mkdir -p /tmp/nodebin
[ -x /tmp/nodebin/node ] || { xz -dc .devcarry/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node; }
export PATH=/tmp/nodebin:$PATH
[ -d node_modules/@tensorflow ] || tar xJf .devcarry/runtime.tar.xz
node --version
