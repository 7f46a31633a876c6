"""PyTorch peer for the GCN epoch-time benchmark (Debian's python3-torch, CPU, one thread).

Reads a graph written by bench/run.ts or bench/gpu-gcn.ts (raw little-endian
arrays) and times one training step (forward, backward, Adam) of the same
two-layer GCN: relu(A_hat X W1) -> dropout -> A_hat H W2, cross-entropy on the
training nodes. `torch_gcn.py DIR [cuda]` runs it on the GPU (the GPU check).
Prints JSON: {"medianMs": ..., "epochs": ...}.
"""
import json
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(0)
d = sys.argv[1]
device = torch.device(sys.argv[2] if len(sys.argv) > 2 else "cpu")
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
meta = json.load(open(f"{d}/meta.json"))
n, f, c, h = meta["numNodes"], meta["numFeatures"], meta["numClasses"], meta["hidden"]
rd = lambda name, dt: np.fromfile(f"{d}/{name}.bin", dtype=dt)
indptr, indices, weights = rd("adj.indptr", "<i4"), rd("adj.indices", "<i4"), rd("adj.weights", "<f4")
# Multi-edges make repeated column ids, which torch's CSR constructor rejects:
# build COO and coalesce (summing duplicates, the same operator), then convert.
rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
coo = torch.sparse_coo_tensor(torch.from_numpy(np.stack([rows, indices.astype(np.int64)])), torch.from_numpy(weights), size=(n, n))
a_hat = coo.coalesce().to_sparse_csr().to(device)
if meta["sparseFeatures"]:
    fi, fx, fv = rd("x.indptr", "<i4"), rd("x.indices", "<i4"), rd("x.values", "<f4")
    x = torch.sparse_csr_tensor(torch.from_numpy(fi.astype(np.int64)), torch.from_numpy(fx.astype(np.int64)), torch.from_numpy(fv), size=(n, f)).to(device)
else:
    x = torch.from_numpy(rd("x.dense", "<f4").reshape(n, f)).to(device)
y = torch.from_numpy(rd("labels", "<i4").astype(np.int64)).to(device)
train = torch.from_numpy(rd("train", "<i4").astype(np.int64)).to(device)

w1 = torch.nn.Parameter(torch.empty(f, h, device=device)); torch.nn.init.xavier_uniform_(w1)
b1 = torch.nn.Parameter(torch.zeros(h, device=device))
w2 = torch.nn.Parameter(torch.empty(h, c, device=device)); torch.nn.init.xavier_uniform_(w2)
b2 = torch.nn.Parameter(torch.zeros(c, device=device))
opt = torch.optim.Adam([w1, b1, w2, b2], lr=0.01)

def step():
    opt.zero_grad()
    xw = torch.sparse.mm(x, w1) if meta["sparseFeatures"] else x @ w1
    hid = torch.relu(torch.sparse.mm(a_hat, xw) + b1)
    hid = torch.nn.functional.dropout(hid, 0.5, training=True)
    out = torch.sparse.mm(a_hat, hid @ w2) + b2
    loss = torch.nn.functional.cross_entropy(out[train], y[train]) + 5e-4 / 2 * (w1 * w1).sum()
    loss.backward()
    opt.step()

for _ in range(3):
    step()
sync()
times = []
for _ in range(meta["epochs"]):
    t0 = time.perf_counter()
    step()
    sync()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(json.dumps({"medianMs": times[len(times) // 2], "epochs": meta["epochs"], "torch": torch.__version__, "device": str(device)}))
