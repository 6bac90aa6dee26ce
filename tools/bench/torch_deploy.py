"""PyTorch fp32 side of `npm run bench:deploy` (tools/bench/deploy.mjs): evaluation latency at batch 1
and throughput at batch 32 of DomainBed's MNIST_CNN (28x28x1) and a torchvision-layout ResNet-50
(224x224x3), random weights, eager mode, torch.inference_mode, the given number of threads.

Usage: python3 tools/bench/torch_deploy.py '{"threads": 2, "classes": 7, "reps1": 15, "reps32": 3}'
Prints one JSON line: {"torch": version, "mnist_cnn": {...}, "resnet50": {...}} with, per network,
"b1_ms" (every batch-1 time) and "b32_ms" (every batch-32 time).
"""
import json
import sys
import time

import torch
import torch.nn as nn


class MnistCnn(nn.Module):
    """DomainBed's MNIST_CNN: 4 convs (64, 128/2, 128, 128), ReLU, GroupNorm(8), mean pool, linear."""

    def __init__(self, classes):
        super().__init__()
        chans = [(1, 64, 1), (64, 128, 2), (128, 128, 1), (128, 128, 1)]
        layers = []
        for cin, cout, stride in chans:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1), nn.ReLU(), nn.GroupNorm(8, cout)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(128, classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        cout = planes * 4
        self.c1, self.b1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.c2, self.b2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes)
        self.c3, self.b3 = nn.Conv2d(planes, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.b1(self.c1(x)))
        out = torch.relu(self.b2(self.c2(out)))
        out = self.b3(self.c3(out))
        return torch.relu(out + (self.down(x) if self.down is not None else x))


class ResNet50(nn.Module):
    """torchvision's ResNet-50 layout (v1.5: stride on the 3x3), eval mode (BatchNorm not folded)."""

    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for s, count in enumerate([3, 4, 6, 3]):
            planes = 64 * 2 ** s
            for b in range(count):
                blocks.append(Bottleneck(cin, planes, 2 if b == 0 and s > 0 else 1))
                cin = planes * 4
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def times(model, shape, reps, warmup=2):
    x = torch.randn(*shape)
    out = []
    with torch.inference_mode():
        for i in range(warmup + reps):
            t0 = time.perf_counter()
            model(x)
            if i >= warmup:
                out.append((time.perf_counter() - t0) * 1000)
    return out


def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a["threads"])
    torch.manual_seed(0)
    res = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for name, model, size in [("mnist_cnn", MnistCnn(a["classes_mnist"]), (1, 28, 28)), ("resnet50", ResNet50(a["classes"]), (3, 224, 224))]:
        model.eval()
        r1 = a["reps1_mnist"] if name == "mnist_cnn" else a["reps1"]
        res[name] = {"b1_ms": times(model, (1, *size), r1), "b32_ms": times(model, (32, *size), a["reps32"], 1)}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
