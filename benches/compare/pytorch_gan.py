#!/usr/bin/env python3
"""The GAN of `networks/gan.net` (a ring of 8 Gaussians), PyTorch CPU vs neurosim, seed by seed.

Both train the same networks: generator 8 → 128 ReLU → 128 ReLU → 2, discriminator 2 → 128
LeakyReLU(0.2) → 128 LeakyReLU(0.2) → 1 sigmoid, binary cross-entropy, Adam lr 5e-4 with
β1 = 0.5 for each part, batch 128, 150 epochs of the 4,000 shipped points, N(0, 1) noise.
Every batch is one discriminator step (a real and a generated batch, gradients summed) and one
generator step with the non-saturating loss, as PyTorch's DCGAN example. Weights start from
the same initialiser (`--init xavier`, the file's, or `he`), biases at zero.

Printed per seed: the fraction of 2,000 generated points within 3 sd (0.15) of a mode, the
number of modes holding at least 2 % of them (8 = full coverage), and the median seconds of
one epoch. Both run on one thread (the networks are too small for a second to pay).

    pip install torch numpy h5py
    cargo build --release
    python3 benches/compare/pytorch_gan.py --seeds 1 2 3 4 --init xavier he
"""
import argparse
import json
import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from side_by_side import DATA, ROOT

EPOCHS, BATCH, NOISE, SAMPLES = 150, 128, 8, 2000


def ring_quality(points: np.ndarray) -> tuple[float, int]:
    """(fraction within 3 sd of a mode, modes holding ≥ 2 % of the points)."""
    modes = np.array([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)]
                      for k in range(8)])
    distance = np.linalg.norm(points[:, None, :] - modes[None], axis=2)
    near = distance.min(1) < 0.15
    share = np.bincount(distance.argmin(1)[near], minlength=8) / len(points)
    return float(near.mean()), int((share >= 0.02).sum())


def pytorch(seed: int, init: str) -> tuple[float, int, float]:
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    real = torch.tensor(np.loadtxt(DATA / "ring_train.csv", delimiter=",", skiprows=1),
                        dtype=torch.float32)
    generator = nn.Sequential(nn.Linear(NOISE, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                              nn.Linear(128, 2))
    discriminator = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128),
                                  nn.LeakyReLU(0.2), nn.Linear(128, 1))
    for layer in [*generator, *discriminator]:
        if isinstance(layer, nn.Linear):
            if init == "he":
                nn.init.kaiming_normal_(layer.weight)
            else:
                nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    adam = dict(lr=5e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(generator.parameters(), **adam)
    d_opt = torch.optim.Adam(discriminator.parameters(), **adam)
    bce = nn.BCEWithLogitsLoss()
    n = len(real)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n, BATCH):
            x = real[order[i:i + BATCH]]
            b = len(x)
            fake = generator(torch.randn(b, NOISE)).detach()
            d_real, d_fake = discriminator(x), discriminator(fake)
            d_loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            verdict = discriminator(generator(torch.randn(b, NOISE)))
            g_loss = bce(verdict, torch.ones_like(verdict))
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        points = generator(torch.randn(SAMPLES, NOISE)).numpy()
    return (*ring_quality(points), statistics.median(times))


def neurosim(seed: int, init: str) -> tuple[float, int, float]:
    import h5py

    binary = ROOT / "target" / "release" / "neurosim"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    text = (ROOT / "networks" / "gan.net").read_text()
    text = text.replace('"data/', f'"{DATA}/').replace("init = xavier", f"init = {init}")
    with tempfile.TemporaryDirectory() as tmp:
        net, out = Path(tmp) / "gan.net", Path(tmp) / "gan.h5"
        net.write_text(text)
        stdout = subprocess.run(
            [str(binary), "run", str(net), "--json", "--quiet", "--threads", "1",
             "--seed", str(seed), "-o", str(out)],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout
        with h5py.File(out) as f:
            points = f["activations/sample/data"][()].reshape(-1, 2)
    summary = json.loads(stdout.strip().splitlines()[-1])
    # evaluate generates one point per held-out row (1,000); the quality is a fraction.
    return (*ring_quality(points), statistics.median(summary["train"]["epoch_s"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--init", nargs="+", default=["xavier"], choices=["xavier", "he"])
    args = parser.parse_args()
    import torch
    print(f"PyTorch {torch.__version__}, {EPOCHS} epochs, batch {BATCH}, 1 thread")
    print(f"{'init':>6} {'seed':>4} | {'pytorch near':>12} {'modes':>5} {'s/epoch':>7} | "
          f"{'neurosim near':>13} {'modes':>5} {'s/epoch':>7} | {'speed ratio':>11}")
    for init in args.init:
        for seed in args.seeds:
            tq, tm, ts = pytorch(seed, init)
            nq, nm, ns = neurosim(seed, init)
            print(f"{init:>6} {seed:>4} | {tq:>12.2f} {tm:>5} {ts:>7.4f} | "
                  f"{nq:>13.2f} {nm:>5} {ns:>7.4f} | {ts / ns:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
