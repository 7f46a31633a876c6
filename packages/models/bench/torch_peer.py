"""PyTorch peer for bench/train.ts: the same Llama / Mixtral decoder as
@plexus/models (Hugging Face modeling semantics: RMSNorm, rotate_half rotary
embeddings, repeat_kv GQA, causal softmax attention, SwiGLU MLP or Mixtral's
softmax -> top-k -> renormalise MoE with a per-expert loop), trained with
torch.optim.AdamW on random token batches. Prints one JSON line.

Run: /usr/bin/python3 bench/torch_peer.py '<config json>' --batch 8 --seq 64 --steps 5 --threads 1
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_THREADS = torch.get_num_threads()


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.H, self.KV, self.hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        D = c["hidden_size"]
        self.q_proj = nn.Linear(D, self.H * self.hd, bias=False)
        self.k_proj = nn.Linear(D, self.KV * self.hd, bias=False)
        self.v_proj = nn.Linear(D, self.KV * self.hd, bias=False)
        self.o_proj = nn.Linear(self.H * self.hd, D, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.KV
        if rep > 1:
            k = k[:, :, None].expand(B, self.KV, rep, T, self.hd).reshape(B, self.H, T, self.hd)
            v = v[:, :, None].expand(B, self.KV, rep, T, self.hd).reshape(B, self.H, T, self.hd)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd) + mask
        o = torch.matmul(F.softmax(att, dim=-1), v).transpose(1, 2).reshape(B, T, self.H * self.hd)
        return self.o_proj(o)


class MLP(nn.Module):
    def __init__(self, D, I):
        super().__init__()
        self.gate_proj = nn.Linear(D, I, bias=False)
        self.up_proj = nn.Linear(D, I, bias=False)
        self.down_proj = nn.Linear(I, D, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Expert(nn.Module):
    def __init__(self, D, I):
        super().__init__()
        self.w1 = nn.Linear(D, I, bias=False)
        self.w2 = nn.Linear(I, D, bias=False)
        self.w3 = nn.Linear(D, I, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoE(nn.Module):
    """As transformers' MixtralSparseMoeBlock (loss-free part)."""

    def __init__(self, c):
        super().__init__()
        self.k = c["num_experts_per_tok"]
        self.gate = nn.Linear(c["hidden_size"], c["num_local_experts"], bias=False)
        self.experts = nn.ModuleList(Expert(c["hidden_size"], c["intermediate_size"]) for _ in range(c["num_local_experts"]))

    def forward(self, x):
        B, T, D = x.shape
        flat = x.reshape(-1, D)
        logits = self.gate(flat)
        w = F.softmax(logits, dim=1, dtype=torch.float)
        w, sel = torch.topk(w, self.k, dim=-1)
        w = w / w.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(flat)
        mask = F.one_hot(sel, num_classes=len(self.experts)).permute(2, 1, 0)
        for e, expert in enumerate(self.experts):
            idx, tok = torch.where(mask[e])
            if tok.numel() == 0:
                continue
            out.index_add_(0, tok, expert(flat[tok]) * w[tok, idx, None])
        # Switch load-balancing loss as @plexus/moe-routing computes it (top-1 fractions x mean probs).
        E = len(self.experts)
        f = F.one_hot(sel[:, 0], E).float().mean(0)
        aux = E * (f * F.softmax(logits, dim=1).mean(0)).sum()
        return out.view(B, T, D), aux


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.moe = c.get("num_local_experts", 0) > 0
        if self.moe:
            self.block_sparse_moe = SparseMoE(c)
        else:
            self.mlp = MLP(c["hidden_size"], c["intermediate_size"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        h = self.post_attention_layernorm(x)
        if self.moe:
            y, aux = self.block_sparse_moe(h)
            return x + y, aux
        return x + self.mlp(h), None


class CausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.tied = c["tie_word_embeddings"]
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        hd = c["head_dim"]
        self.inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))

    def forward(self, ids):
        B, T = ids.shape
        freqs = torch.arange(T).float()[:, None] * self.inv_freq[None]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        auxes = []
        for layer in self.layers:
            x, aux = layer(x, cos, sin, mask)
            if aux is not None:
                auxes.append(aux)
        x = self.norm(x)
        head = self.embed_tokens.weight if self.tied else self.lm_head.weight
        logits = F.linear(x, head)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        if auxes:
            loss = loss + self.c.get("router_aux_loss_coef", 0.0) * torch.stack(auxes).mean()
        return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.loads(a.config)
    model = CausalLM(c)
    # Hugging Face's _init_weights: N(0, initializer_range^2) matrices, norms at 1.
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            nn.init.normal_(p, 0.0, c.get("initializer_range", 0.02))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    times = []
    cpu_times = []
    for s in range(a.steps + 1):
        ids = torch.randint(0, c["vocab_size"], (a.batch, a.seq), generator=g)
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = model(ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        if s > 0:  # the first step is warm-up
            times.append(dt)
            cpu_times.append(dc)
    med = statistics.median(times)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "default_threads": DEFAULT_THREADS,
        "step_ms_median": med * 1000,
        "tokens_per_second": a.batch * a.seq / med,
        "cpu_ms_median": statistics.median(cpu_times) * 1000,
        "tokens_per_cpu_second": a.batch * a.seq / statistics.median(cpu_times),
        "steps": len(times),
        "loss": loss.item(),
    }))


if __name__ == "__main__":
    main()
