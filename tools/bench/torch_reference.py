"""PyTorch side of qtdog's benchmark (tools/bench/bench.mjs).

A long-lived child process: it reads one JSON command per line on stdin and answers one JSON line on
stdout, so torch's start-up is paid once and both sides can be measured in turn, in one run.
Everything else it prints goes to stderr.

Commands (every answer carries "ok" and "maxrss_kb", this process's peak RSS):
  {"cmd": "hello"}                                   -> versions
  {"cmd": "setup", "id", "net": "mnist_cnn"|"resnet18", "algo": "ERM"|"ERM+LSQ"|"SAM"|"CORAL",
   "batches": [64] or [32, 32, 32, 32, 32], "input": [C, H, W], "classes", "seed"}
  {"cmd": "train", "id", "threads", "steps", "warmup"} -> {"step_ms": [...]}
  {"cmd": "eval", "id", "threads", "batch", "batches", "warmup"} -> {"batch_ms": [...]}
  {"cmd": "conv", "threads", "reps", "shapes": [{"n", "h", "w", "cin", "cout", "k", "stride", "pad"}]}
                                                     -> {"ms": [median per shape]}
  {"cmd": "drop", "id"}, {"cmd": "quit"}

The models are the ones qtdog's networks reproduce: DomainBed's MNIST_CNN and a torchvision-layout
ResNet-18 (written here; torchvision is not needed). The optimizer is Adam (lr 1e-3, no weight
decay), the loss cross-entropy on the pooled minibatches, as DomainBed's ERM. ERM+LSQ fake-quantizes
every convolution's weight with a learned step size per output channel (LSQ, Esser et al. 2020, as
QT-DoG uses it: 7 bits, straight-through rounding, gradient scale 1/sqrt(qp * numel)); SAM takes the
gradient at w + rho g/||g|| (rho 0.05, two passes); CORAL is DomainBed's (mean and covariance
differences over domain pairs, mmd_gamma 1).
"""
import json
import platform
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def maxrss_kb():
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------- LSQ weight fake quantization

class RoundPass(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def grad_scale(x, scale):
    # Value x, gradient scaled by `scale`.
    return (x - x * scale).detach() + x * scale


def lsq_quantize(w, s, qn, qp):
    """round(clamp(w / s, qn, qp)) * s with LSQ's gradients (s per output channel, dim 0)."""
    g = 1.0 / (qp * w.numel()) ** 0.5
    s = grad_scale(s, g).view(-1, *([1] * (w.dim() - 1)))
    return RoundPass.apply(torch.clamp(w / s, qn, qp)) * s


class QConv2d(nn.Conv2d):
    """A Conv2d whose weight goes through LSQ once `quantize(bits)` was called."""

    def quantize(self, bits):
        self.qn, self.qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        with torch.no_grad():
            init = 2 * self.weight.abs().mean(dim=(1, 2, 3)) / self.qp ** 0.5
        self.step = nn.Parameter(init.clamp_min(1e-8))

    def forward(self, x):
        w = self.weight
        if hasattr(self, "step"):
            w = lsq_quantize(w, self.step, self.qn, self.qp)
        return self._conv_forward(x, w, self.bias)


# ---------------------------------------------------------------- networks

class MnistCnn(nn.Module):
    """DomainBed's MNIST_CNN: conv 64, conv 128 s2, conv 128, conv 128; ReLU then GroupNorm(8)."""

    def __init__(self, channels, classes):
        super().__init__()
        self.convs = nn.ModuleList([
            QConv2d(channels, 64, 3, 1, padding=1),
            QConv2d(64, 128, 3, stride=2, padding=1),
            QConv2d(128, 128, 3, 1, padding=1),
            QConv2d(128, 128, 3, 1, padding=1),
        ])
        self.gns = nn.ModuleList([nn.GroupNorm(8, 64), nn.GroupNorm(8, 128), nn.GroupNorm(8, 128), nn.GroupNorm(8, 128)])
        self.classifier = nn.Linear(128, classes)

    def featurize(self, x):
        for conv, gn in zip(self.convs, self.gns):
            x = gn(F.relu(conv(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.classifier(self.featurize(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = QConv2d(cin, planes, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = QConv2d(planes, planes, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(QConv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout: stem 7x7/2 + BN + ReLU + max-pool 3x3/2, 4 stages of 2 basic blocks."""

    def __init__(self, channels, classes):
        super().__init__()
        self.conv1 = QConv2d(channels, 64, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for s, planes in enumerate([64, 128, 256, 512]):
            for b in range(2):
                blocks.append(BasicBlock(cin, planes, 2 if b == 0 and s > 0 else 1))
                cin = planes
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(512, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def featurize(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.blocks(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.classifier(self.featurize(x))


# ---------------------------------------------------------------- algorithms

def coral_distance(x, y):
    mean_diff = (x.mean(0) - y.mean(0)).pow(2).mean()
    cx, cy = torch.cov(x.t()), torch.cov(y.t())
    return mean_diff + (cx - cy).pow(2).mean()


class Setup:
    def __init__(self, msg):
        torch.manual_seed(msg.get("seed", 0))
        c, h, w = msg["input"]
        classes = msg["classes"]
        self.algo = msg["algo"]
        self.batches = msg["batches"]
        net = {"mnist_cnn": MnistCnn, "resnet18": ResNet18}[msg["net"]]
        self.model = net(c, classes)
        if self.algo == "ERM+LSQ":
            for m in self.model.modules():
                if isinstance(m, QConv2d):
                    m.quantize(7)
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, weight_decay=0)
        # A few random minibatch sets, used in turn (the data does not change the cost).
        g = torch.Generator().manual_seed(1)
        self.data = [
            [(torch.rand(b, c, h, w, generator=g), torch.randint(classes, (b,), generator=g)) for b in self.batches]
            for _ in range(4)
        ]
        self.input = (c, h, w)
        self.classes = classes
        self.k = 0

    def next_minibatches(self):
        mbs = self.data[self.k % len(self.data)]
        self.k += 1
        return mbs

    def erm_loss(self, mbs):
        x = torch.cat([m[0] for m in mbs])
        y = torch.cat([m[1] for m in mbs])
        return F.cross_entropy(self.model(x), y)

    def coral_loss(self, mbs):
        x = torch.cat([m[0] for m in mbs])
        feats = self.model.featurize(x)
        logits = self.model.classifier(feats)
        parts_f = torch.split(feats, [len(m[1]) for m in mbs])
        parts_l = torch.split(logits, [len(m[1]) for m in mbs])
        nll = sum(F.cross_entropy(l, m[1]) for l, m in zip(parts_l, mbs)) / len(mbs)
        pairs = [(i, j) for i in range(len(mbs)) for j in range(i + 1, len(mbs))]
        penalty = sum(coral_distance(parts_f[i], parts_f[j]) for i, j in pairs) / len(pairs) if pairs else 0.0
        return nll + 1.0 * penalty

    def step(self):
        mbs = self.next_minibatches()
        self.opt.zero_grad()
        if self.algo == "CORAL":
            loss = self.coral_loss(mbs)
            loss.backward()
        elif self.algo == "SAM":
            rho = 0.05
            loss = self.erm_loss(mbs)
            loss.backward()
            params = [p for p in self.model.parameters() if p.grad is not None]
            with torch.no_grad():
                norm = torch.norm(torch.stack([p.grad.norm(2) for p in params]), 2)
                eps = [p.grad * (rho / (norm + 1e-12)) for p in params]
                for p, e in zip(params, eps):
                    p.add_(e)
            self.opt.zero_grad()
            self.erm_loss(mbs).backward()
            with torch.no_grad():
                for p, e in zip(params, eps):
                    p.sub_(e)
        else:
            loss = self.erm_loss(mbs)
            loss.backward()
        self.opt.step()
        return loss.item()


# ---------------------------------------------------------------- commands

setups = {}


def timed(fn, n, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t))
    return out


def handle(msg):
    cmd = msg["cmd"]
    if "threads" in msg:
        torch.set_num_threads(int(msg["threads"]))
    if cmd == "hello":
        return {"torch": torch.__version__, "python": platform.python_version(), "max_threads": torch.get_num_threads()}
    if cmd == "setup":
        setups[msg["id"]] = Setup(msg)
        return {"params": sum(p.numel() for p in setups[msg["id"]].model.parameters())}
    if cmd == "train":
        s = setups[msg["id"]]
        s.model.train()
        return {"step_ms": timed(s.step, msg["steps"], msg.get("warmup", 1)), "threads": torch.get_num_threads()}
    if cmd == "eval":
        s = setups[msg["id"]]
        s.model.eval()
        x = torch.rand(msg["batch"], *s.input)

        def run():
            with torch.no_grad():
                s.model(x).argmax(1)

        out = timed(run, msg["batches"], msg.get("warmup", 1))
        s.model.train()
        return {"batch_ms": out, "threads": torch.get_num_threads()}
    if cmd == "conv":
        ms = []
        for sh in msg["shapes"]:
            x = torch.rand(sh["n"], sh["cin"], sh["h"], sh["w"])
            w = torch.rand(sh["cout"], sh["cin"], sh["k"], sh["k"])
            with torch.no_grad():
                t = sorted(timed(lambda: F.conv2d(x, w, None, sh["stride"], sh["pad"]), msg.get("reps", 3), 1))
            ms.append(t[len(t) // 2])
        return {"ms": ms, "threads": torch.get_num_threads()}
    if cmd == "drop":
        setups.pop(msg["id"], None)
        return {}
    if cmd == "quit":
        return None
    raise ValueError(f"unknown command {cmd!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            out = handle(msg)
            if out is None:
                print(json.dumps({"ok": True, "maxrss_kb": maxrss_kb()}), flush=True)
                return
            out.update(ok=True, maxrss_kb=maxrss_kb())
        except Exception as e:  # reported to the bench, which prints it and goes on
            out = {"ok": False, "error": f"{type(e).__name__}: {e}", "maxrss_kb": maxrss_kb()}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
