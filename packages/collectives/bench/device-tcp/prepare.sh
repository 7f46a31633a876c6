#!/usr/bin/env bash
# Packs the all-reduce benchmarks (bench/allreduce-tcp.ts with its worker,
# bench/allreduce-shm.ts, and their Gloo peer) into .device/ at the repo root
# for a run on the GPU machine's host CPUs, which have no Node.js: esbuild
# bundles of the three entry points, the native addon as built here, Node
# itself (xz), and run.sh beside this file.
#
#   bash packages/collectives/bench/device-tcp/prepare.sh
#   then a device run with carry [".device"]:  bash .device/tcp-bench.sh
# Results come back under $OUT (one JSON per configuration; see run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/../.." && pwd)
root=$(git -C "$pkg" rev-parse --show-toplevel)
out="$root/.device"
mkdir -p "$out/addon"
grep -qx '/.device/' "$root/.git/info/exclude" 2>/dev/null || echo '/.device/' >> "$root/.git/info/exclude"

node "$pkg/scripts/build-native.mjs" --if-stale --quiet
addon="$pkg/native/build/plexus_shm-linux-x64.node"
[ -f "$addon" ] || { echo "prepare: the native addon did not build (see scripts/build-native.mjs)" >&2; exit 1; }
cp "$addon" "$out/addon/plexus_shm-linux-x64.node"

# esbuild comes with tsup (a dev dependency of this package).
esb=$(cd "$pkg" && node -e "const p=require('path');console.log(require.resolve('esbuild/bin/esbuild',{paths:[p.dirname(require.resolve('tsup/package.json'))]}))" 2>/dev/null || true)
[ -n "$esb" ] || esb="npx --yes esbuild@0.25"
shim="$out/.cjs-shim.mjs"
printf '%s\n' "import { fileURLToPath } from 'node:url';" "import { dirname } from 'node:path';" \
  'export const __filename = fileURLToPath(import.meta.url);' 'export const __dirname = dirname(__filename);' > "$shim"
for entry in allreduce-tcp allreduce-tcp-worker allreduce-shm; do
  $esb "$pkg/bench/$entry.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:'*.node' --outfile="$out/$entry.mjs" --inject:"$shim" \
    --banner:js="import {createRequire as __plexusCreateRequire} from 'node:module'; const require = __plexusCreateRequire(import.meta.url);" \
    --log-level=warning
done
cp "$pkg/bench/allreduce_gloo.py" "$pkg/bench/raw-socket-exchange.mjs" "$out/"
[ -f "$out/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
cp "$here/run.sh" "$out/tcp-bench.sh"
du -sh "$out" | sed 's/^/carry size: /'
echo 'on the device machine, with .device carried: bash .device/tcp-bench.sh'
