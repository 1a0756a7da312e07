#!/usr/bin/env python3
"""Training throughput of the MNIST CNN (`networks/cnn_mnist.net`), PyTorch CPU vs neurosim.

Both train Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(16, 32, 3, padding=1)
→ ReLU → MaxPool2d(2) → Conv2d(32, 64, 3, padding=1) → ReLU → MaxPool2d(2) → Dropout(0.25)
→ Flatten → Linear(576, 128) → ReLU → Dropout(0.5) → Linear(128, 10), softmax +
cross-entropy, Adam lr 1e-3 with cosine annealing over the run, batch 32, shuffled each
epoch, on the 8,000 shipped training digits, with the same thread
count. neurosim runs `target/release/neurosim run` on `cnn_mnist.net` without its validation
(`run --json` reports each epoch's wall time). Prints samples/s of each and the ratio, and
the test accuracy each reaches, as a check that both train the same network.

    pip install torch numpy
    cargo build --release
    python3 benches/compare/pytorch_cnn.py --threads 1 2 --epochs 3 --rounds 2
"""
import gzip
import statistics

import numpy as np

from side_by_side import DATA, comparison_args, neurosim_throughput, throughput_table
from torch_loop import epoch_seconds

BATCH = 32


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
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.5),
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


def main() -> None:
    args = comparison_args(__doc__.splitlines()[0], epochs=3)
    import torch
    print(f"PyTorch {torch.__version__}, 8000 MNIST digits/epoch, batch {BATCH}, "
          f"median of {args.epochs} epochs, best of {args.rounds} rounds")
    throughput_table(
        "samples/s", args.threads, args.rounds,
        lambda n: pytorch(n, args.epochs),
        lambda n: neurosim_throughput(
            "cnn_mnist.net", n, args.epochs, 8000,
            edit=lambda text: text.replace(", validate = test", "")),
    )


if __name__ == "__main__":
    main()
