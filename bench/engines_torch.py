"""PyTorch twin of the engines' five architectures, timed on the same shapes
as bench/engines.mjs (which runs this as a comparison column only; nothing
in cis490 depends on Python). Prints one JSON line: {kind: ms_per_step}.

Usage: python3 bench/engines_torch.py '{"kinds": [...], "threads": 2, "steps": 20, "warmup": 3,
        "batch": 256, "n_channels": 46, "seq_len": 100, "n_features": 230, "n_classes": 6,
        "hidden": 64, "layers": 2, "heads": 4, "dropout": 0.1}'
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # same setting as the addon
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        mods, d = [], c["n_features"]
        for _ in range(c["layers"]):
            mods += [nn.Linear(d, c["hidden"]), nn.LayerNorm(c["hidden"]), nn.GELU(), nn.Dropout(c["dropout"])]
            d = c["hidden"]
        mods.append(nn.Linear(d, c["n_classes"]))
        self.body = nn.Sequential(*mods)

    def forward(self, x, m):
        return self.body(x)


class Cnn(nn.Module):
    def __init__(self, c):
        super().__init__()
        mods, d = [], 2 * c["n_channels"]
        for l in range(c["layers"]):
            dil = 1 << min(l, 6)
            mods += [nn.Conv1d(d, c["hidden"], 5, padding=2 * dil, dilation=dil), nn.GELU(), nn.Dropout(c["dropout"])]
            d = c["hidden"]
        self.body = nn.Sequential(*mods)
        self.head = nn.Linear(c["hidden"], c["n_classes"])

    def forward(self, x, m):
        return self.head(self.body(torch.cat([x, m], 1)).mean(2))


class Rnn(nn.Module):
    def __init__(self, c, lstm):
        super().__init__()
        cls = nn.LSTM if lstm else nn.GRU
        self.lstm = lstm
        self.rnn = cls(2 * c["n_channels"], c["hidden"], num_layers=c["layers"], batch_first=True,
                       dropout=c["dropout"] if c["layers"] > 1 else 0.0)
        self.drop = nn.Dropout(c["dropout"])
        self.head = nn.Linear(c["hidden"], c["n_classes"])

    def forward(self, x, m):
        out, h = self.rnn(torch.cat([x, m], 1).transpose(1, 2).contiguous())
        h_n = h[0] if self.lstm else h
        return self.head(self.drop(h_n[-1]))


class Tfm(nn.Module):
    def __init__(self, c):
        super().__init__()
        D = c["hidden"]
        self.proj = nn.Linear(2 * c["n_channels"], D)
        self.pos = nn.Parameter(torch.randn(c["seq_len"], 1, D) * 0.02)
        layer = nn.TransformerEncoderLayer(D, c["heads"], 2 * D, c["dropout"], activation="gelu")
        self.enc = nn.TransformerEncoder(layer, c["layers"], enable_nested_tensor=False)
        self.drop = nn.Dropout(c["dropout"])
        self.head = nn.Linear(D, c["n_classes"])

    def forward(self, x, m):
        h = self.proj(torch.cat([x, m], 1).permute(2, 0, 1)) + self.pos
        valid = m.amax(1) > 0.5
        valid = valid | ~valid.any(1, keepdim=True)
        h = self.enc(h, src_key_padding_mask=~valid)
        w = valid.to(h.dtype).transpose(0, 1).unsqueeze(2)
        return self.head(self.drop((h * w).sum(0) / w.sum(0).clamp_min(1.0)))


def make(kind, c):
    return {"mlp": lambda: Mlp(c), "cnn": lambda: Cnn(c), "gru": lambda: Rnn(c, False),
            "lstm": lambda: Rnn(c, True), "transformer": lambda: Tfm(c)}[kind]()


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    B, C, T, K = c["batch"], c["n_channels"], c["seq_len"], c["n_classes"]
    out = {}
    for kind in c["kinds"]:
        net = make(kind, c)
        decay = [p for n, p in net.named_parameters() if p.dim() >= 2 and n != "pos"]
        rest = [p for n, p in net.named_parameters() if not (p.dim() >= 2 and n != "pos")]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
        shape = (B, c["n_features"]) if kind == "mlp" else (B, C, T)
        batches = []
        for _ in range(4):
            m = (torch.rand(shape) > 0.15).to(torch.uint8)
            batches.append((torch.randn(shape) * m, m, torch.randint(0, K, (B,))))
        w = torch.ones(K)
        net.train()

        def step(i):
            x, m8, y = batches[i % len(batches)]
            m = m8.float() if kind != "mlp" else None
            for g in opt.param_groups:
                g["lr"] = 1e-3
            opt.zero_grad()
            loss = F.cross_entropy(net(x, m), y, weight=w)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            return loss.item()

        for i in range(c["warmup"]):
            step(i)
        t0 = time.perf_counter()
        for i in range(c["steps"]):
            step(i)
        out[kind] = (time.perf_counter() - t0) * 1000 / c["steps"]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms_per_step": out}))


if __name__ == "__main__":
    main()
