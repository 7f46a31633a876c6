# One rank of PyTorch's Gloo all-reduce, as the peer of bench/allreduce-tcp.ts
# and bench/allreduce-shm.ts (Debian's /usr/bin/python3 with torch). Same
# sizes, warm-up, iteration counts and timing as the Node workers
# (timed-all-reduce.ts: nccl-tests' loop time / iters averaged over ranks,
# LOOPS samples, plus the slowest rank's time of each iteration); prints one
# `RESULT {...}` line per size on rank 0.
import json
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist

LOOPS = 3
sizes = json.loads(sys.argv[1])
# A peer that never arrives fails the run in 2 minutes, not Gloo's default 30.
dist.init_process_group("gloo", timeout=timedelta(seconds=120))
rank, world = dist.get_rank(), dist.get_world_size()
torch.set_num_threads(1)
for nbytes in sizes:
    buf = torch.ones(nbytes // 4, dtype=torch.float32)
    # As itersFor in timed-all-reduce.ts.
    iters = 5 if nbytes >= 128 << 20 else 10 if nbytes >= 16 << 20 else 20 if nbytes >= 1 << 20 else 50
    dist.all_reduce(buf)
    loop_ms = torch.zeros(LOOPS, dtype=torch.float64)
    per_iter = torch.zeros(LOOPS * iters, dtype=torch.float64)
    for loop in range(LOOPS):
        buf.fill_(1)
        dist.barrier()
        start = time.perf_counter()
        for i in range(iters):
            t0 = time.perf_counter()
            dist.all_reduce(buf)
            per_iter[loop * iters + i] = (time.perf_counter() - t0) * 1000
        loop_ms[loop] = (time.perf_counter() - start) * 1000 / iters
    dist.all_reduce(loop_ms)
    loop_ms /= world
    dist.all_reduce(per_iter, op=dist.ReduceOp.MAX)
    if rank == 0:
        print(
            "RESULT "
            + json.dumps(
                {
                    "bytes": nbytes,
                    "iters": iters,
                    "ms": loop_ms.tolist(),
                    "slowestMs": per_iter.tolist(),
                    "torch": torch.__version__,
                }
            ),
            flush=True,
        )
dist.barrier()
dist.destroy_process_group()
