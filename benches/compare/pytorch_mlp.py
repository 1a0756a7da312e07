#!/usr/bin/env python3
"""Training throughput of the MNIST MLP, PyTorch CPU vs neurosim, side by side.

Both train 784-128-128-10 (ReLU, softmax + cross-entropy, Adam lr 1e-3, batch 128, shuffled
each epoch) on 60,000 random MNIST-shaped samples, with the same thread count. neurosim runs
`examples/mlp_throughput.rs` (built with `cargo build --release --example mlp_throughput`).
Prints samples/s of each and the ratio. Random data is enough: throughput does not depend on
the values.

    pip install torch numpy
    python3 benches/compare/pytorch_mlp.py --threads 1 2 --epochs 3 --rounds 2
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from torch_loop import epoch_seconds

SAMPLES, BATCH = 60_000, 128
ROOT = Path(__file__).resolve().parents[2]


def pytorch(threads: int, epochs: int) -> float:
    """Median samples/s over `epochs` epochs of PyTorch training on `threads` threads."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(SAMPLES, 784)
    y = torch.randint(0, 10, (SAMPLES,))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = epoch_seconds(model, x, y, BATCH, epochs, optimizer)
    return SAMPLES / statistics.median(times)


def neurosim(threads: int, epochs: int) -> float:
    """Median samples/s reported by the neurosim example."""
    binary = ROOT / "target" / "release" / "examples" / "mlp_throughput"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release", "--example", "mlp_throughput"],
                       cwd=ROOT, check=True)
    out = subprocess.run([str(binary), str(threads), "--epochs", str(epochs)],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    match = re.search(r"samples_per_s=(\d+)", out)
    if not match:
        sys.exit(f"unexpected output from mlp_throughput: {out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds per thread count; the best round counts")
    args = parser.parse_args()
    os.environ.pop("OPENBLAS_CORETYPE", None)
    import torch
    print(f"PyTorch {torch.__version__}, {SAMPLES} samples/epoch, batch {BATCH}, "
          f"median of {args.epochs} epochs, best of {args.rounds} rounds")
    print(f"{'threads':>7} {'pytorch samples/s':>18} {'neurosim samples/s':>19} {'ratio':>6}")
    for threads in args.threads:
        torch_best = ns_best = 0.0
        for _ in range(args.rounds):  # alternate so both see the same machine load
            torch_best = max(torch_best, pytorch(threads, args.epochs))
            ns_best = max(ns_best, neurosim(threads, args.epochs))
        print(f"{threads:>7} {torch_best:>18,.0f} {ns_best:>19,.0f} {ns_best / torch_best:>6.2f}")


if __name__ == "__main__":
    main()
