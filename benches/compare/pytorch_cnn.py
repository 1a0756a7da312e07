#!/usr/bin/env python3
"""Training throughput of the MNIST CNN (`networks/cnn_mnist.net`), PyTorch CPU vs neurosim.

Both train Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(16, 32, 3, padding=1)
→ ReLU → MaxPool2d(2) → Dropout(0.25) → Flatten → Linear(1568, 128) → ReLU → Dropout(0.5)
→ Linear(128, 10), softmax + cross-entropy, Adam lr 1e-3 with cosine annealing over the run,
batch 64, shuffled each epoch, on the 8,000 shipped training digits, with the same thread
count. neurosim runs `target/release/neurosim run` on `cnn_mnist.net` without its validation
(`run --json` reports each epoch's wall time). Prints samples/s of each and the ratio, and
the test accuracy each reaches, as a check that both train the same network.

    pip install torch numpy
    cargo build --release
    python3 benches/compare/pytorch_cnn.py --threads 1 2 --epochs 3 --rounds 2
"""
import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from torch_loop import epoch_seconds

BATCH = 64
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "networks" / "data"


def idx(name: str) -> np.ndarray:
    raw = gzip.open(DATA / name).read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def pytorch(threads: int, epochs: int) -> tuple[float, float]:
    """(median samples/s over `epochs` epochs, test accuracy) of PyTorch on `threads` threads."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.tensor(idx("train-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    times = epoch_seconds(model, x, y, BATCH, epochs, optimizer, schedule)
    n = len(x)
    xt = torch.tensor(idx("t10k-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    yt = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    model.eval()
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    return n / statistics.median(times), accuracy


def neurosim(threads: int, epochs: int) -> tuple[float, float]:
    """(median samples/s over the epochs `run --json` reports, test accuracy)."""
    binary = ROOT / "target" / "release" / "neurosim"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    text = (ROOT / "networks" / "cnn_mnist.net").read_text()
    text = text.replace(", validate = test", "")
    text = text.replace('"data/', f'"{DATA}/')
    text = re.sub(r"epochs = \d+", f"epochs = {epochs}", text)
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "cnn.net"
        net.write_text(text)
        out = subprocess.run(
            [str(binary), "run", str(net), "--json", "--quiet", "--threads", str(threads),
             "-o", str(Path(tmp) / "cnn.h5")],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    epoch_s = summary["train"]["epoch_s"]
    return 8000 / statistics.median(epoch_s), summary["evaluate"]["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds per thread count; the best round counts")
    args = parser.parse_args()
    os.environ.pop("OPENBLAS_CORETYPE", None)
    import torch
    print(f"PyTorch {torch.__version__}, 8000 MNIST digits/epoch, batch {BATCH}, "
          f"median of {args.epochs} epochs, best of {args.rounds} rounds")
    print(f"{'threads':>7} {'pytorch samples/s':>18} {'neurosim samples/s':>19} {'ratio':>6}"
          f" {'pytorch acc':>12} {'neurosim acc':>13}")
    for threads in args.threads:
        torch_best = ns_best = 0.0
        torch_acc = ns_acc = 0.0
        for _ in range(args.rounds):  # alternate so both see the same machine load
            speed, torch_acc = pytorch(threads, args.epochs)
            torch_best = max(torch_best, speed)
            speed, ns_acc = neurosim(threads, args.epochs)
            ns_best = max(ns_best, speed)
        print(f"{threads:>7} {torch_best:>18,.0f} {ns_best:>19,.0f} {ns_best / torch_best:>6.2f}"
              f" {torch_acc:>12.4f} {ns_acc:>13.4f}")


if __name__ == "__main__":
    main()
