"""PyTorch peer of bench/gpu-gcn.ts's large layer, on CUDA: one GCN layer
64 -> 64 (A_hat X W + b, A_hat = D^-1/2 (A + I) D^-1/2 as PyG's gcn_norm
builds it), forward + backward of sum(output) into W and b, on a random graph
with N nodes and E uniformly random directed edges, CSR sparse matmul
(cuSPARSE). Median of 20 after 3 warm-up steps; prints JSON.
usage: torch_gcn_layer.py [N] [E] [device]
"""
import json
import sys
import time

import torch

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
device = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cuda")
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
g = torch.Generator(device=device).manual_seed(5)
src = torch.randint(0, n, (m,), device=device, generator=g)
dst = torch.randint(0, n, (m,), device=device, generator=g)
loops = torch.arange(n, device=device)
rows = torch.cat([dst, loops])
cols = torch.cat([src, loops])
deg = torch.zeros(n, device=device).index_add_(0, rows, torch.ones_like(rows, dtype=torch.float32))
w = deg[rows].rsqrt() * deg[cols].rsqrt()
a_hat = torch.sparse_coo_tensor(torch.stack([rows, cols]), w, (n, n)).coalesce().to_sparse_csr()
x = torch.randn(n, 64, device=device, generator=g)
weight = torch.nn.Parameter(torch.empty(64, 64, device=device))
torch.nn.init.xavier_uniform_(weight)
bias = torch.nn.Parameter(torch.zeros(64, device=device))


def step():
    weight.grad = None
    bias.grad = None
    out = torch.sparse.mm(a_hat, x @ weight) + bias
    out.sum().backward()


for _ in range(3):
    step()
sync()
times = []
for _ in range(20):
    t0 = time.perf_counter()
    step()
    sync()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(json.dumps({"nodes": n, "edges": m, "medianMs": times[len(times) // 2], "torch": torch.__version__, "device": str(device)}))
