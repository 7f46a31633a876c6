# One rank of PyTorch's Gloo all-reduce, as the peer of bench/allreduce-tcp.ts
# (Debian's /usr/bin/python3 with torch). Same sizes, warm-up and iteration
# counts as the Node worker; prints one `RESULT {...}` line per size on rank 0.
import json
import sys
import time

import torch
import torch.distributed as dist

sizes = json.loads(sys.argv[1])
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.set_num_threads(1)
for nbytes in sizes:
    buf = torch.ones(nbytes // 4, dtype=torch.float32)
    iters = 10 if nbytes >= 16 << 20 else 20 if nbytes >= 1 << 20 else 50
    dist.all_reduce(buf)
    dist.barrier()
    per_iter = torch.zeros(iters, dtype=torch.float64)
    for i in range(iters):
        t0 = time.perf_counter()
        dist.all_reduce(buf)
        per_iter[i] = (time.perf_counter() - t0) * 1000
    dist.all_reduce(per_iter, op=dist.ReduceOp.MAX)
    if rank == 0:
        print("RESULT " + json.dumps({"bytes": nbytes, "iters": iters, "ms": per_iter.tolist()}), flush=True)
dist.barrier()
dist.destroy_process_group()
