"""Writes ring_{train,test}.csv for networks/gan.net: points of a mixture of 8 Gaussians
with standard deviation 0.05 whose centres sit evenly on a circle of radius 2, the toy
target of GAN papers (Metz et al. 2017, "Unrolled GANs"). Standard library only, seeded.
"""

import math
import random
from pathlib import Path

HERE = Path(__file__).parent
MODES, RADIUS, SD = 8, 2.0, 0.05


def ring(path, rows, rng):
    lines = ["x,y"]
    for _ in range(rows):
        k = rng.randrange(MODES)
        angle = 2 * math.pi * k / MODES
        x = RADIUS * math.cos(angle) + rng.gauss(0, SD)
        y = RADIUS * math.sin(angle) + rng.gauss(0, SD)
        lines.append(f"{x:.5f},{y:.5f}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    rng = random.Random(2026)
    ring(HERE / "ring_train.csv", 4000, rng)
    ring(HERE / "ring_test.csv", 1000, rng)
