#!/usr/bin/env bash
# Runs on the device machine (copied there as .device/tcp-bench.sh by
# prepare.sh): unpacks Node, puts the addon where the bundles look for it
# (<repo>/native/build), then runs the shared-memory all-reduce benchmark
# (bench/allreduce-shm.ts, PLEXUS_DEVICE_SHM=0 skips it) and the TCP one
# against the machine's own PyTorch Gloo, once with the default ring chunk and once per
# chunk size in PLEXUS_DEVICE_CHUNKS (bytes, space-separated; default
# "1048576 524288": at 4-16 MiB with 4 ranks the default 4 MiB chunk is a
# whole block, so a step's stages cannot overlap). Writes $OUT/*.json.
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
python=${PLEXUS_BENCH_PYTHON:-python3}
"$python" -c 'import torch; print("torch", torch.__version__)'
export PLEXUS_BENCH_WORKER="$dir/allreduce-tcp-worker.mjs" PLEXUS_BENCH_PYTHON="$python"
export PLEXUS_BENCH_MACHINE="${PLEXUS_BENCH_MACHINE:-host CPUs of the device machine ($cores cores)}"
export PLEXUS_BENCH_ROUNDS="${PLEXUS_BENCH_ROUNDS:-3}"
cd "$dir"
if [ "${PLEXUS_DEVICE_SHM:-1}" != 0 ]; then
  PLEXUS_BENCH_OUT="$out/allreduce-shm-$cores-cores.json" "$NODE" allreduce-shm.mjs
fi
PLEXUS_BENCH_OUT="$out/allreduce-tcp-$cores-cores.json" "$NODE" allreduce-tcp.mjs
for chunk in ${PLEXUS_DEVICE_CHUNKS-1048576 524288}; do
  PLEXUS_BENCH_CHUNK_BYTES=$chunk PLEXUS_BENCH_WORLD_SIZES='[4]' PLEXUS_BENCH_SIZES='[4194304,16777216]' \
    PLEXUS_BENCH_OUT="$out/allreduce-tcp-$cores-cores-chunk-$chunk.json" "$NODE" allreduce-tcp.mjs
done
