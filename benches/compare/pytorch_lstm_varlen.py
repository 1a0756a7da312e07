#!/usr/bin/env python3
"""Training throughput of the variable-length parity LSTM (`networks/rnn_variable_length.net`), PyTorch CPU vs neurosim.

Workload: the parity of bit streams of 2 to 12 bits, one answer per stream (4,000 training
and 1,000 test streams from `networks/data/parity_varlen_{train,test}.csv`, padded with
zeros to 12 steps; column n is a stream's own length, odd its parity). Both train an LSTM
of 32 units on 1 input per step (gates i, f, g, o; input weights xavier-uniform, recurrent
weights U(±1/√32), one bias per gate with the forget gate's at 1), read at each stream's
own last step by Linear(32, 1) (xavier-uniform, zero bias) and a sigmoid; binary
cross-entropy, Adam lr 1e-2, batch 32, global gradient-norm clipping to 1, shuffled each
epoch, on the same thread count. PyTorch packs the batch with
`nn.utils.rnn.pack_padded_sequence` (its `nn.LSTM`'s second bias held at zero); neurosim
runs `rnn_variable_length.net`, whose `lengths = "n"` does the same. Prints sequences/s of
each, the ratio (neurosim / PyTorch) and the test accuracy each reaches.

    pip install torch numpy
    cargo build --release
    python3 benches/compare/pytorch_lstm_varlen.py --threads 1 2 --epochs 10 --rounds 2
"""
import numpy as np

from side_by_side import (
    DATA, comparison_args, neurosim_lstm, neurosim_throughput, throughput_table, train_binary,
    xavier_linear,
)

BATCH = 32
LONGEST = 12
UNITS = 32
NET = "rnn_variable_length.net"


def streams(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(`N × 12 × 2`: the bits, and each stream's length repeated in the second channel;
    parities `N`) of one CSV. The length rides along with the bits so that the shared
    training loop can index one tensor."""
    path = DATA / name
    header = path.open().readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    bits = table[:, [header.index(f"x{t}") for t in range(LONGEST)]]
    lengths = table[:, header.index("n")]
    x = np.stack([bits, np.repeat(lengths[:, None], LONGEST, axis=1)], axis=-1)
    return x, table[:, header.index("odd")]


def pytorch(threads: int, epochs: int) -> tuple[float, float]:
    """(median sequences/s over `epochs` epochs, test accuracy)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)

    class Parity(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = neurosim_lstm(1, UNITS)
            self.out = xavier_linear(UNITS, 1)

        def forward(self, x):
            lengths = x[:, 0, 1].long()
            packed = nn.utils.rnn.pack_padded_sequence(
                x[..., :1], lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.lstm(packed)
            return self.out(h[-1]).squeeze(-1)  # one logit per stream

    x, y = (torch.from_numpy(a) for a in streams("parity_varlen_train.csv"))
    test = tuple(torch.from_numpy(a) for a in streams("parity_varlen_test.csv"))
    return train_binary(Parity(), (x, y), test, BATCH, epochs, 1e-2)


def main() -> None:
    args = comparison_args(__doc__.splitlines()[0], epochs=10)
    import torch
    print(f"PyTorch {torch.__version__}, 4000 streams of 2 to {LONGEST} bits/epoch, "
          f"LSTM {UNITS}, batch {BATCH}, median of {args.epochs} epochs, "
          f"best of {args.rounds} rounds")
    throughput_table(
        "seq/s", args.threads, args.rounds,
        lambda n: pytorch(n, args.epochs),
        lambda n: neurosim_throughput(NET, n, args.epochs, 4000),
    )


if __name__ == "__main__":
    main()
