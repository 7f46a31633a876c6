#!/usr/bin/env bash
# Runs on the device machine (copied there as .device/tcp-bench.sh by
# prepare.sh): unpacks Node, puts the addon where the bundles look for it
# (<repo>/native/build), then, each writing its JSON into $OUT as soon as it
# ends (so a run cut short by its time limit still returns what finished):
#  1. the TCP all-reduce benchmark against the machine's own PyTorch Gloo with
#     the defaults (PLEXUS_BENCH_WORLD_SIZES / _SIZES / _ROUNDS pass through);
#  2. one variant run per ring chunk size in PLEXUS_DEVICE_CHUNKS (bytes,
#     space-separated; default "1048576 524288") and per connection count in
#     PLEXUS_DEVICE_CONNECTIONS (default none), at PLEXUS_DEVICE_VARIANT_SIZES
#     (default [4194304,16777216]; world size 4), PLEXUS_DEVICE_VARIANT_ROUNDS
#     rounds (default 3), without the baseline extras (PLEXUS_BENCH_EXTRAS=0);
#  3. the shared-memory benchmark (bench/allreduce-shm.ts) at
#     PLEXUS_DEVICE_SHM_SIZES (default its own sizes); PLEXUS_DEVICE_SHM=0
#     skips it.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$dir")
if command -v node >/dev/null; then NODE=$(command -v node); else xz -dc "$dir/node.xz" > /tmp/node; chmod +x /tmp/node; NODE=/tmp/node; fi
mkdir -p "$root/native/build"
cp "$dir/addon/plexus_shm-linux-x64.node" "$root/native/build/"
"$NODE" -e "require('$root/native/build/plexus_shm-linux-x64.node')" \
  || echo "tcp-bench: the addon does not load here; the rows will say nativeIo: false"
out=${OUT:-/tmp/tcp-bench}
mkdir -p "$out"
cores=$(nproc)
lscpu | grep -E '^(Model name|Socket|Core|Thread|L2|L3|NUMA node\(s\))' || true
python=${PLEXUS_BENCH_PYTHON:-python3}
"$python" -c 'import torch; print("torch", torch.__version__)'
export PLEXUS_BENCH_WORKER="$dir/allreduce-tcp-worker.mjs" PLEXUS_BENCH_PYTHON="$python"
export PLEXUS_BENCH_MACHINE="${PLEXUS_BENCH_MACHINE:-host CPUs of the device machine ($cores cores)}"
export PLEXUS_BENCH_ROUNDS="${PLEXUS_BENCH_ROUNDS:-3}"
cd "$dir"
stamp() { echo "== $(date -u +%T) $*"; }
stamp "tcp, defaults"
PLEXUS_BENCH_OUT="$out/allreduce-tcp-$cores-cores.json" "$NODE" allreduce-tcp.mjs
variant() {  # name, then env assignments for the run
  local name=$1
  shift
  stamp "tcp variant $name"
  env "$@" PLEXUS_BENCH_EXTRAS=0 PLEXUS_BENCH_WORLD_SIZES='[4]' \
    PLEXUS_BENCH_SIZES="${PLEXUS_DEVICE_VARIANT_SIZES:-[4194304,16777216]}" \
    PLEXUS_BENCH_ROUNDS="${PLEXUS_DEVICE_VARIANT_ROUNDS:-3}" \
    PLEXUS_BENCH_OUT="$out/allreduce-tcp-$cores-cores-$name.json" "$NODE" allreduce-tcp.mjs
}
for chunk in ${PLEXUS_DEVICE_CHUNKS-1048576 524288}; do
  variant "chunk-$chunk" PLEXUS_BENCH_CHUNK_BYTES="$chunk"
done
for k in ${PLEXUS_DEVICE_CONNECTIONS-}; do
  variant "connections-$k" PLEXUS_BENCH_CONNECTIONS="$k"
done
if [ "${PLEXUS_DEVICE_SHM:-1}" != 0 ]; then
  stamp "shm"
  if [ -n "${PLEXUS_DEVICE_SHM_SIZES-}" ]; then export PLEXUS_BENCH_SIZES="$PLEXUS_DEVICE_SHM_SIZES"; else unset PLEXUS_BENCH_SIZES; fi
  PLEXUS_BENCH_OUT="$out/allreduce-shm-$cores-cores.json" "$NODE" allreduce-shm.mjs
fi
stamp done
