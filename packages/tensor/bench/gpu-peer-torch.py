"""PyTorch peers for the GPU checks, run in the same call on the GPU machine.

Times, at the sizes of `gpu-check.ts` and `kv-cache/bench/gpu-decode.ts`:
- spmm N=1M, E=10M uniformly random edges, F=64: cuSPARSE CSR `torch.sparse.mm`
  and the gather + `index_add_` form that tfjs-style code uses;
- fp32 matmul 4096 with TF32 off (what tfjs' WebGPU matmul computes);
- dense decode / prefill attention (`scaled_dot_product_attention`) with the
  kv-cache bench's model shape (32 query heads, 8 KV heads, head dim 128).
Writes JSON to the path given as the first argument.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, reps=10, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        runs.append((time.perf_counter() - t0) * 1e3)
    runs.sort()
    return round(runs[len(runs) // 2], 4)


def main(out_path):
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    g = torch.Generator(device=dev).manual_seed(42)
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}

    n, e, f = 1_000_000, 10_000_000, 64
    rows = torch.randint(0, n, (e,), device=dev, generator=g)
    cols = torch.randint(0, n, (e,), device=dev, generator=g)
    w = torch.rand(e, device=dev, generator=g)
    x = torch.randn(n, f, device=dev, generator=g)
    csr = torch.sparse_coo_tensor(torch.stack([rows, cols]), w, (n, n)).coalesce().to_sparse_csr()

    def gather_index_add():
        out = torch.zeros(n, f, device=dev)
        out.index_add_(0, rows, x[cols] * w[:, None])
        return out

    result["spmm"] = {
        "N": n, "E": e, "F": f,
        "csrSparseMmMs": median_ms(lambda: torch.sparse.mm(csr, x)),
        "gatherIndexAddMs": median_ms(gather_index_add),
    }

    m = 4096
    a = torch.randn(m, m, device=dev, generator=g)
    b = torch.randn(m, m, device=dev, generator=g)
    ms = median_ms(lambda: a @ b)
    result["matmul"] = {"n": m, "tf32": False, "medianMs": ms, "tflops": round(2 * m**3 / (ms * 1e9), 2)}

    heads, kv_heads, d = 32, 8, 128
    rows_out = []
    for batch, context, chunk in [(8, 1024, 1), (32, 1024, 1), (16, 4096, 1), (4, 2048, 256), (1, 4096, 512)]:
        q = torch.randn(batch, heads, chunk, d, device=dev, generator=g)
        k = torch.randn(batch, kv_heads, context, d, device=dev, generator=g)
        v = torch.randn(batch, kv_heads, context, d, device=dev, generator=g)
        rep = heads // kv_heads
        # Causal over the chunk's own tail: query i sees keys [0, context - chunk + i].
        mask = None
        if chunk > 1:
            qi = torch.arange(chunk, device=dev)[:, None] + (context - chunk)
            mask = torch.arange(context, device=dev)[None, :] <= qi

        def attend():
            kk = k.repeat_interleave(rep, dim=1)
            vv = v.repeat_interleave(rep, dim=1)
            return F.scaled_dot_product_attention(q, kk, vv, attn_mask=mask)

        rows_out.append({
            "kind": "decode" if chunk == 1 else "prefill",
            "batch": batch, "context": context, "chunk": chunk,
            "numHeads": heads, "numKvHeads": kv_heads, "headDim": d,
            "torchSdpaMs": median_ms(attend),
        })
    result["attention"] = rows_out
    text = json.dumps(result, indent=2)
    print(text)
    with open(out_path, "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu-peer-torch.json")
