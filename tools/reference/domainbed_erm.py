"""PyTorch reference for qtdog's ERM runs: DomainBed's MNIST_CNN, Adam, one minibatch per training
environment per step, training-domain validation, on the exact arrays and splits qtdog uses
(written by dump-environments.mjs). Prints one JSON line per checkpoint and a summary.

Usage: python3 domainbed_erm.py <dump-dir> --steps 1001 --batch 32 --lr 1e-3 --freq 100 --seed 0
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MnistCnn(nn.Module):
    """DomainBed's MNIST_CNN: conv 64, conv 128 s2, conv 128, conv 128; ReLU then GroupNorm(8)."""

    def __init__(self, channels, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 64, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(128, 128, 3, 1, padding=1)
        self.conv4 = nn.Conv2d(128, 128, 3, 1, padding=1)
        self.gn = nn.ModuleList([nn.GroupNorm(8, 64), nn.GroupNorm(8, 128), nn.GroupNorm(8, 128), nn.GroupNorm(8, 128)])
        self.classifier = nn.Linear(128, classes)

    def forward(self, x):
        for conv, gn in zip([self.conv1, self.conv2, self.conv3, self.conv4], self.gn):
            x = gn(F.relu(conv(x)))
        return self.classifier(x.mean(dim=(2, 3)))


def load(dump):
    meta = json.load(open(os.path.join(dump, "meta.json")))
    h, w, c = meta["inputShape"]
    envs = []
    for i, e in enumerate(meta["environments"]):
        x = np.fromfile(os.path.join(dump, f"env{i}_x.f32"), dtype=np.float32).reshape(-1, h, w, c)
        envs.append({
            "x": torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
            "y": torch.from_numpy(np.fromfile(os.path.join(dump, f"env{i}_y.i32"), dtype=np.int32).astype(np.int64)),
            "in": torch.from_numpy(np.fromfile(os.path.join(dump, f"env{i}_in.i32"), dtype=np.int32).astype(np.int64)),
            "out": torch.from_numpy(np.fromfile(os.path.join(dump, f"env{i}_out.i32"), dtype=np.int32).astype(np.int64)),
        })
    return meta, envs


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), 500):
            correct += (model(x[s:s + 500]).argmax(1) == y[s:s + 500]).sum().item()
    model.train()
    return correct / max(1, len(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--steps", type=int, default=1001)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--freq", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is at hand (same model, faster)")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    meta, envs = load(a.dump)
    test = meta["testEnvs"]
    train = [i for i in range(len(envs)) if i not in test]
    dev = torch.device(a.device)
    for e in envs:
        e["x"], e["y"] = e["x"].to(dev), e["y"].to(dev)
    model = MnistCnn(meta["inputShape"][2], meta["numClasses"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=0)
    g = torch.Generator().manual_seed(a.seed)
    best, best_val, t0, step_time = None, -1, time.time(), 0.0
    for step in range(a.steps):
        # DomainBed's InfiniteDataLoader samples with replacement.
        xs, ys = [], []
        for i in train:
            idx = envs[i]["in"][torch.randint(len(envs[i]["in"]), (a.batch,), generator=g)].to(dev)
            xs.append(envs[i]["x"][idx])
            ys.append(envs[i]["y"][idx])
        s0 = time.time()
        loss = F.cross_entropy(model(torch.cat(xs)), torch.cat(ys))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step_time += time.time() - s0
        if step % a.freq == 0 or step == a.steps - 1:
            rec = {"step": step, "loss": loss.item(), "wallTime": time.time() - t0}
            for i, e in enumerate(envs):
                rec[f"env{i}_in_acc"] = accuracy(model, e["x"][e["in"].to(dev)], e["y"][e["in"].to(dev)])
                rec[f"env{i}_out_acc"] = accuracy(model, e["x"][e["out"].to(dev)], e["y"][e["out"].to(dev)])
            val = sum(rec[f"env{i}_out_acc"] for i in train) / len(train)
            if val > best_val:
                best_val, best = val, rec
            print(json.dumps(rec), flush=True)
    summary = {"selected_step": best["step"], "test_acc_selected": [best[f"env{t}_in_acc"] for t in test],
               "wall_time_s": time.time() - t0, "mean_step_ms": 1000 * step_time / a.steps, "threads": a.threads, "device": a.device}
    print(json.dumps({"summary": summary}), flush=True)


if __name__ == "__main__":
    main()
