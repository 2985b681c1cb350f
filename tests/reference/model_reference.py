#!/usr/bin/python3
"""Independent reference for bachgen's models, written from docs/model.md (not from the C++):
loads a model exported with `bachgen export --safetensors` (read with the standard library;
Debian has no safetensors package), scores every piece of a token shard, and prints one JSON
object {"pieces": [{"log_probs": [...]}]} like `bachgen score --json`. Debian python3-torch.

    model_reference.py MODEL.safetensors SHARD.tokens
    model_reference.py --torchscript OUT.pt VOCAB   (writes a small scripted model, see below)
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        raw = data[8 + n + begin:8 + n + end]
        count = (end - begin) // 4
        values = struct.unpack("<%df" % count, raw)
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(entry["shape"])
    return tensors, json.loads(meta["bachgen"])


def read_shard(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"BGTOKENS"
    pieces, tokens = struct.unpack("<QQ", data[24:40])
    offsets = struct.unpack("<%dQ" % (pieces + 1), data[40:40 + 8 * (pieces + 1)])
    ids = struct.unpack("<%dH" % tokens, data[40 + 8 * (pieces + 1):])
    return [list(ids[offsets[i]:offsets[i + 1]]) for i in range(pieces)]


def layer_norm(x, w, prefix):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], 1e-5)


def linear(x, w, prefix):
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def transformer_logits(w, c, tokens):
    T = len(tokens)
    D, H, M, P = c["d_model"], c["heads"], c["max_relative"], c["voice_period"]
    d = D // H
    ids = torch.tensor(tokens)
    pos = torch.arange(T)
    x = w["token_embedding.weight"][ids] * math.sqrt(D)
    if P > 0:
        x = x + w["voice_embedding.weight"][(pos - 1) % P]
    B = c.get("beat_steps", 0)
    if B > 0:
        x = x + w["beat_embedding.weight"][torch.div(pos - 1, P, rounding_mode="floor") % B]
    if c.get("conditions", False):
        # docs/model.md#conditions: scored with nothing known, every index is 0 (unknown).
        x = x + w["bar_embedding.weight"][0] + w["end_embedding.weight"][0] + w["key_embedding.weight"][0]
    if c["absolute_positions"]:
        pe = torch.zeros(T, D)
        for i in range(D // 2):
            freq = math.exp(-(2 * i) * math.log(10000.0) / D)
            pe[:, 2 * i] = torch.sin(pos * freq)
            pe[:, 2 * i + 1] = torch.cos(pos * freq)
        x = x + pe
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for k in range(c["layers"]):
        b = "block%d" % k
        a = layer_norm(x, w, b + ".norm1")
        qkv = linear(a, w, b + ".attention.qkv")
        q, kk, v = qkv[:, :D], qkv[:, D:2 * D], qkv[:, 2 * D:]
        out = torch.zeros(T, D)
        for h in range(H):
            qh, kh, vh = q[:, h * d:(h + 1) * d], kk[:, h * d:(h + 1) * d], v[:, h * d:(h + 1) * d]
            logits = qh @ kh.T
            if c["relative"]:
                R = w[b + ".attention.relative"]
                rel = torch.zeros(T, T)
                for i in range(T):
                    for j in range(i + 1):
                        m = max(j - i, -(M - 1)) + (M - 1)
                        rel[i, j] = qh[i] @ R[m]
                logits = logits + rel
            logits = logits / math.sqrt(d)
            logits = logits.masked_fill(causal, float("-inf"))
            out[:, h * d:(h + 1) * d] = torch.softmax(logits, -1) @ vh
        x = x + linear(out, w, b + ".attention.out")
        f = layer_norm(x, w, b + ".norm2")
        f = linear(f, w, b + ".ff1")
        f = 0.5 * f * (1 + torch.erf(f / math.sqrt(2)))
        x = x + linear(f, w, b + ".ff2")
    x = layer_norm(x, w, "final_norm")
    if c["tie_embeddings"]:
        return x @ w["token_embedding.weight"].T
    return linear(x, w, "output")


def lstm_logits(w, c, tokens):
    lstm = torch.nn.LSTM(c["d_embed"], c["hidden"], num_layers=c["layers"], batch_first=True)
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(w["lstm." + name])
    e = w["embedding.weight"][torch.tensor(tokens)].unsqueeze(0)
    h, _ = lstm(e)
    return linear(h[0], w, "output")


class ScriptedModel(torch.nn.Module):
    """A small causal model for the TorchScript test: an embedding, a causal running mean, a
    linear head."""

    def __init__(self, vocab):
        super().__init__()
        torch.manual_seed(5)
        self.embedding = torch.nn.Embedding(vocab, 16)
        self.head = torch.nn.Linear(16, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        e = self.embedding(tokens)
        counts = torch.arange(1, tokens.shape[1] + 1, dtype=e.dtype).view(1, -1, 1)
        return self.head(torch.cumsum(e, dim=1) / counts)


def main():
    torch.set_grad_enabled(False)
    if sys.argv[1] == "--torchscript":
        out, vocab = sys.argv[2], sys.argv[3]
        size = {"satb16": 50, "satb16-onset": 96, "performance388": 391}[vocab]
        scripted = torch.jit.script(ScriptedModel(size).eval())
        torch.jit.save(scripted, out, _extra_files={"bachgen_vocab": vocab})
        # Its scores of the shard given as the fourth argument, for the test to compare.
        pieces = read_shard(sys.argv[4])
        result = []
        for tokens in pieces:
            logits = scripted(torch.tensor([tokens[:-1]]))[0].double()
            lp = torch.log_softmax(logits, -1)
            result.append({"log_probs": [float(lp[i, tokens[i + 1]]) for i in range(len(tokens) - 1)]})
        print(json.dumps({"pieces": result}))
        return
    w, spec = read_safetensors(sys.argv[1])
    c = spec["config"]
    result = []
    for tokens in read_shard(sys.argv[2]):
        if spec["kind"] == "music-transformer":
            logits = transformer_logits(w, c, tokens[:-1])
        else:
            logits = lstm_logits(w, c, tokens[:-1])
        lp = torch.log_softmax(logits.double(), -1)
        result.append({"log_probs": [float(lp[i, tokens[i + 1]]) for i in range(len(tokens) - 1)]})
    print(json.dumps({"pieces": result}))


if __name__ == "__main__":
    main()
