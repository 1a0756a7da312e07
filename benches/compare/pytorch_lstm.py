#!/usr/bin/env python3
"""Training throughput of the running-parity LSTM (`networks/rnn_sequence.net`), PyTorch CPU vs neurosim.

Workload: running parity of 10-bit streams (2,000 training and 500 test sequences from
`networks/data/parity_{train,test}.csv`; columns x0..x9 are the bits, one per step, and
p0..p9 the parity of the bits so far). Both train an LSTM of 16 units on 1 input per step
(gates in PyTorch's order i, f, g, o; input weights xavier-uniform, recurrent weights
U(±1/4), one bias per gate with the forget gate's at 1 and the rest at 0), followed at every
step by Linear(16, 1) (xavier-uniform, zero bias) and a sigmoid; binary cross-entropy on
the logits averaged over every (sequence, step), Adam lr 1e-2, batch 32, global
gradient-norm clipping to 1 (`torch.nn.utils.clip_grad_norm_`) before every update,
shuffled each epoch, with the same thread count. PyTorch runs `nn.LSTM(1, 16,
batch_first=True)` whose second bias (`bias_hh_l0`) is held at zero and not trained, so
both have the same parameters and the same gradient norm. neurosim runs `target/release/
neurosim run` on `rnn_sequence.net` (`run --json` reports each epoch's wall time).
Prints sequences/s of each and the ratio (neurosim / PyTorch), and the test accuracy each
reaches (fraction of the 500 × 10 (sequence, step) predictions right, threshold 0.5), as a
check that both train the same network; the network's own 8 epochs learn the task.

    pip install torch numpy
    cargo build --release
    python3 benches/compare/pytorch_lstm.py --threads 1 2 --epochs 8 --rounds 2
"""
import numpy as np

from side_by_side import (
    DATA, comparison_args, neurosim_lstm, neurosim_throughput, sequence_csv, throughput_table,
    train_binary, xavier_linear,
)

BATCH = 32
STEPS = 10
UNITS = 16
NET = "rnn_sequence.net"
TRAIN = "parity_train.csv"


def sequences(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(bits `N × 10 × 1`, running parities `N × 10`) of one parity CSV."""
    return sequence_csv(DATA / name, STEPS, "p")


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
            h, _ = self.lstm(x)
            return self.out(h).squeeze(-1)  # logits, batch × steps

    x, y = (torch.from_numpy(a) for a in sequences(TRAIN))
    test = tuple(torch.from_numpy(a) for a in sequences("parity_test.csv"))
    return train_binary(Parity(), (x, y), test, BATCH, epochs, 1e-2)


def main() -> None:
    args = comparison_args(__doc__.splitlines()[0], epochs=8)
    import torch
    print(f"PyTorch {torch.__version__}, 2000 parity sequences of {STEPS} steps/epoch, "
          f"LSTM {UNITS}, batch {BATCH}, median of {args.epochs} epochs, "
          f"best of {args.rounds} rounds")
    n_train = len(sequences(TRAIN)[0])
    throughput_table(
        "seq/s", args.threads, args.rounds,
        lambda n: pytorch(n, args.epochs),
        lambda n: neurosim_throughput(NET, n, args.epochs, n_train),
    )


if __name__ == "__main__":
    main()
