"""Writes patterns.csv (5 random ±1 memories of 100 units) and noisy.csv (10 cues: cue i is
memory i mod 5 with exactly 10 % of its units flipped) for networks/hopfield.net.
Deterministic: python3 make_patterns.py reproduces the files byte for byte."""
import random

N, MEMORIES, CUES, FLIPS = 100, 5, 10, 10
rng = random.Random(3)
patterns = [[rng.choice((-1, 1)) for _ in range(N)] for _ in range(MEMORIES)]
header = ",".join(f"u{i}" for i in range(N))
with open("patterns.csv", "w") as f:
    f.write(header + "\n")
    for p in patterns:
        f.write(",".join(str(x) for x in p) + "\n")
with open("noisy.csv", "w") as f:
    f.write(header + "\n")
    for i in range(CUES):
        cue = list(patterns[i % MEMORIES])
        for k in rng.sample(range(N), FLIPS):
            cue[k] = -cue[k]
        f.write(",".join(str(x) for x in cue) + "\n")
