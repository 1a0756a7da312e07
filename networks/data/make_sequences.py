"""Writes the sequence datasets of networks/rnn_sequence.net and networks/attention.net.

Standard library only, seeded: running it again writes the same files.

* parity_{train,test}.csv: bit streams of 10 steps; p<t> is the parity (XOR) of bits 0..t.
  A feed-forward network sees one bit at a time and cannot do better than chance.
* reverse_{train,test}.csv: sequences of 8 tokens from a vocabulary of 6, one-hot
  (x<t>_<k> is 1 when token t is k); y<t> is the token at position 7 - t, so the answer at
  each step is somewhere else in the sequence.
* parity_varlen_{train,test}.csv: bit streams of 2 to 12 steps padded with zeros to 12;
  n is the stream's own length, odd the parity of its bits (one answer per stream).
"""

import random
from pathlib import Path

HERE = Path(__file__).parent


def parity(path, rows, rng, steps=10):
    header = [f"x{t}" for t in range(steps)] + [f"p{t}" for t in range(steps)]
    lines = [",".join(header)]
    for _ in range(rows):
        bits = [rng.randrange(2) for _ in range(steps)]
        running, acc = [], 0
        for b in bits:
            acc ^= b
            running.append(acc)
        lines.append(",".join(map(str, bits + running)))
    path.write_text("\n".join(lines) + "\n")


def reverse(path, rows, rng, steps=8, vocab=6):
    header = [f"x{t}_{k}" for t in range(steps) for k in range(vocab)]
    header += [f"y{t}" for t in range(steps)]
    lines = [",".join(header)]
    for _ in range(rows):
        tokens = [rng.randrange(vocab) for _ in range(steps)]
        one_hot = [int(tok == k) for tok in tokens for k in range(vocab)]
        lines.append(",".join(map(str, one_hot + tokens[::-1])))
    path.write_text("\n".join(lines) + "\n")


def variable_parity(path, rows, rng, longest=12):
    header = [f"x{t}" for t in range(longest)] + ["odd", "n"]
    lines = [",".join(header)]
    for _ in range(rows):
        n = rng.randint(2, longest)
        bits = [rng.randrange(2) for _ in range(n)]
        lines.append(",".join(map(str, bits + [0] * (longest - n) + [sum(bits) % 2, n])))
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    rng = random.Random(2026)
    parity(HERE / "parity_train.csv", 2000, rng)
    parity(HERE / "parity_test.csv", 500, rng)
    reverse(HERE / "reverse_train.csv", 4000, rng)
    reverse(HERE / "reverse_test.csv", 500, rng)
    # Last, so that the files above stay as they were.
    variable_parity(HERE / "parity_varlen_train.csv", 4000, rng)
    variable_parity(HERE / "parity_varlen_test.csv", 1000, rng)
