#!/usr/bin/python3
"""The Python peer of `bachgen train` for the training-throughput benchmark (scripts/bench.sh,
docs/benchmarks.md): a straightforward PyTorch implementation of the same Music Transformer
(docs/model.md: pre-LN blocks, relative attention with the skew, voice embedding, tied output)
and LSTM, trained with the same step (masked mean cross-entropy, AdamW with the same decay
groups, gradient clipping at 1.0, warmup + cosine) on random windows of a prepared token shard.
Debian python3-torch (1.13); standard library otherwise.

    train_throughput.py --shard train.tokens --preset jsb-small --batch 16 --length 256 \
        --threads 2 --precision fp32 --steps 8 --warmup-steps 2

Prints one JSON object: tokens_per_second over the timed steps (after the warm-up steps), the
seconds per step, the first and last loss.
"""
import argparse
import json
import math
import random
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    # name: (kind, config) -- the same shapes as `bachgen presets`
    "tiny": ("music-transformer", dict(d_model=32, layers=2, heads=2, d_ff=64, max_relative=64, dropout=0.0)),
    "jsb-small": ("music-transformer", dict(d_model=128, layers=3, heads=4, d_ff=512, max_relative=256, dropout=0.1)),
    "jsb-base": ("music-transformer", dict(d_model=256, layers=6, heads=8, d_ff=1024, max_relative=512, dropout=0.1)),
    "lstm-base": ("music-lstm", dict(d_embed=256, hidden=512, layers=3, dropout=0.2)),
}


def read_shard(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"BGTOKENS", path + ": not a bachgen token shard"
    pieces, tokens = struct.unpack("<QQ", data[24:40])
    offsets = struct.unpack("<%dQ" % (pieces + 1), data[40:40 + 8 * (pieces + 1)])
    ids = torch.tensor(struct.unpack("<%dH" % tokens, data[40 + 8 * (pieces + 1):]), dtype=torch.int64)
    return ids, offsets


class RelativeAttention(nn.Module):
    def __init__(self, d_model, heads, max_relative, dropout):
        super().__init__()
        self.h, self.d, self.m = heads, d_model // heads, max_relative
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.relative = nn.Parameter(torch.randn(max_relative, self.d) / math.sqrt(self.d))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, dm = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.view(b, t, self.h, self.d).transpose(1, 2) for z in (q, k, v))
        q = q / math.sqrt(self.d)
        if t <= self.m:
            er = self.relative[self.m - t:]
        else:
            er = torch.cat([self.relative[:1].expand(t - self.m, self.d), self.relative])
        qe = q @ er.T                                   # (B, H, T, T): column c = distance c - (T-1)
        qe = F.pad(qe, (1, 0)).reshape(b, self.h, t + 1, t)[:, :, 1:]  # the skew of Huang et al.
        logits = q @ k.transpose(-2, -1) + qe
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        w = torch.softmax(logits.masked_fill(causal, float("-inf")), dim=-1)
        y = self.dropout(w) @ v
        return self.out(y.transpose(1, 2).reshape(b, t, dm))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1 = nn.LayerNorm(c["d_model"])
        self.attention = RelativeAttention(c["d_model"], c["heads"], c["max_relative"], c["dropout"])
        self.norm2 = nn.LayerNorm(c["d_model"])
        self.ff1 = nn.Linear(c["d_model"], c["d_ff"])
        self.ff2 = nn.Linear(c["d_ff"], c["d_model"])
        self.dropout = nn.Dropout(c["dropout"])

    def forward(self, x):
        h = x + self.dropout(self.attention(self.norm1(x)))
        return h + self.dropout(self.ff2(F.gelu(self.ff1(self.norm2(h)))))


class MusicTransformer(nn.Module):
    def __init__(self, vocab, c):
        super().__init__()
        self.d = c["d_model"]
        self.token_embedding = nn.Embedding(vocab, self.d)
        nn.init.normal_(self.token_embedding.weight, 0.0, 1.0 / math.sqrt(self.d))
        self.voice_embedding = nn.Embedding(4, self.d)
        self.dropout = nn.Dropout(c["dropout"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.final_norm = nn.LayerNorm(self.d)

    def forward(self, tokens, offset):
        t = tokens.shape[1]
        pos = offset.unsqueeze(1) + torch.arange(t).unsqueeze(0)
        x = self.token_embedding(tokens) * math.sqrt(self.d) + self.voice_embedding((pos - 1) % 4)
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x) @ self.token_embedding.weight.T


class MusicLstm(nn.Module):
    def __init__(self, vocab, c):
        super().__init__()
        self.embedding = nn.Embedding(vocab, c["d_embed"])
        self.lstm = nn.LSTM(c["d_embed"], c["hidden"], num_layers=c["layers"], batch_first=True,
                            dropout=c["dropout"] if c["layers"] > 1 else 0.0)
        self.dropout = nn.Dropout(c["dropout"])
        self.output = nn.Linear(c["hidden"], vocab)

    def forward(self, tokens, offset):
        return self.output(self.dropout(self.lstm(self.embedding(tokens))[0]))


def parameter_groups(model, weight_decay):
    decay, exempt = [], []
    for name, p in model.named_parameters():
        no = p.dim() < 2 or "embedding" in name or "relative" in name or "norm" in name
        (exempt if no else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": exempt, "weight_decay": 0.0}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shard", required=True)
    ap.add_argument("--preset", default="jsb-small", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--steps", type=int, default=8, help="timed steps")
    ap.add_argument("--warmup-steps", type=int, default=2, help="untimed steps first")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    ids, offsets = read_shard(args.shard)
    vocab = 50 if int(ids.max()) < 50 else 96
    kind, c = PRESETS[args.preset]
    model = MusicTransformer(vocab, c) if kind == "music-transformer" else MusicLstm(vocab, c)
    model.train()
    opt = torch.optim.AdamW(parameter_groups(model, 0.01), lr=1e-3)
    total = args.warmup_steps + args.steps

    def batch():
        # Random windows starting on a step boundary (BOS or soprano), padded at a piece's end.
        inp = torch.zeros(args.batch, args.length, dtype=torch.int64)
        tgt = torch.zeros(args.batch, args.length, dtype=torch.int64)
        mask = torch.zeros(args.batch, args.length)
        off = torch.zeros(args.batch, dtype=torch.int64)
        for r in range(args.batch):
            p = rng.randrange(len(offsets) - 1)
            n = offsets[p + 1] - offsets[p]
            start = 4 * rng.randrange(max(1, (n - 1) // 4)) if n > args.length + 1 else 0
            w = ids[offsets[p] + start:offsets[p] + min(n, start + args.length + 1)]
            k = len(w) - 1
            inp[r, :k], tgt[r, :k], mask[r, :k], off[r] = w[:-1], w[1:], 1.0, start
        return inp, tgt, mask, off

    losses, start_time, tokens = [], None, 0
    for step in range(total):
        if step == args.warmup_steps:
            start_time, tokens = time.perf_counter(), 0
        lr = 1e-3 * min(1.0, (step + 1) / 101)
        for g in opt.param_groups:
            g["lr"] = lr
        inp, tgt, mask, off = batch()
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            logits = model(inp, off).float()
        per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
        loss = (per_token * mask.reshape(-1)).sum() / mask.sum().clamp_min(1.0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        tokens += int(mask.sum())
    seconds = time.perf_counter() - start_time
    print(json.dumps({"peer": "python-pytorch", "torch": torch.__version__, "preset": args.preset,
                      "batch": args.batch, "length": args.length, "threads": args.threads,
                      "precision": args.precision, "steps": args.steps,
                      "seconds_per_step": seconds / args.steps, "tokens_per_second": tokens / seconds,
                      "first_loss": losses[0], "last_loss": losses[-1]}))


if __name__ == "__main__":
    main()
