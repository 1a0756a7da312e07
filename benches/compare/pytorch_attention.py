#!/usr/bin/env python3
"""Training throughput of the sequence-reversal transformer block (`networks/attention.net`), PyTorch CPU vs neurosim.

Workload: reverse a sequence of 8 tokens from a vocabulary of 6 (4,000 training and 500
test sequences from `networks/data/reverse_{train,test}.csv`; columns x<t>_<k> are the
one-hot tokens, step-major, and y<t> the class to name at step t, the token at step 7 - t).
Both train, at every step, with the same thread count:

    e  = Linear(6, 32)(token)                             xavier-uniform, zero bias
    a  = MultiheadAttention(32, 4 heads)(e + P, e + P, e + P)
           non-causal; P the sinusoidal position code (sin on even, cos on odd units,
           angle t / 10000^(2⌊i/2⌋/32)), added to the attention's input only; learned
           Q, K, V, O projections, each xavier-uniform U(±√(6/64)), zero biases
    n1 = LayerNorm(32)(e + a)                             gain 1, shift 0, eps 1e-5
    n2 = LayerNorm(32)(n1 + Linear(64, 32)(relu(Linear(32, 64)(n1))))
                                                          both Linears He-normal, zero bias
    logits = Linear(32, 6)(n2)                            xavier-uniform, zero bias

softmax + cross-entropy averaged over every (sequence, step), Adam lr 3e-3, batch 32,
shuffled each epoch. PyTorch runs `nn.MultiheadAttention(32, 4, batch_first=True)` (its
in-projection re-initialised per matrix, and its out-projection, as neurosim does) and
`nn.LayerNorm`; neurosim runs `target/release/neurosim run` on `attention.net`
(`run --json` reports each epoch's wall time). Prints sequences/s of each and the ratio
(neurosim / PyTorch), and the test token accuracy each reaches (fraction of the 500 × 8
(sequence, step) argmax predictions right), as a check that both train the same network;
the network's own 6 epochs learn the task.

    pip install torch numpy
    cargo build --release
    python3 benches/compare/pytorch_attention.py --threads 1 2 --epochs 6 --rounds 2
"""
import math
import statistics

import numpy as np

from side_by_side import DATA, comparison_args, neurosim_throughput, sequence_csv, throughput_table
from torch_loop import epoch_seconds

BATCH = 32
STEPS = 8
VOCAB = 6
D = 32
HEADS = 4
HIDDEN = 64
NET = "attention.net"
TRAIN = "reverse_train.csv"


def sequences(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(one-hot tokens `N × 8 × 6`, class per step `N × 8`) of one reversal CSV."""
    x, y = sequence_csv(DATA / name, STEPS, "y")
    return x, y.astype(np.int64)


def positions(steps: int, d: int) -> np.ndarray:
    """neurosim's sinusoidal code: unit i of step t is sin (i even) or cos (i odd) of
    t / 10000^((i - i % 2) / d)."""
    t = np.arange(steps, dtype=np.float32)[:, None]
    i = np.arange(d)
    angle = t / np.power(np.float32(10000), (i - i % 2).astype(np.float32) / d)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)


def pytorch(threads: int, epochs: int) -> tuple[float, float]:
    """(median sequences/s over `epochs` epochs, test token accuracy)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)

    def xavier(linear: nn.Linear) -> nn.Linear:
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        return linear

    def he(linear: nn.Linear) -> nn.Linear:
        # neurosim's `he`: N(0, 2 / fan_in).
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        return linear

    class Reverse(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = xavier(nn.Linear(VOCAB, D))
            self.attend = nn.MultiheadAttention(D, HEADS, batch_first=True)
            with torch.no_grad():
                # Each of W_q, W_k, W_v, W_o xavier-uniform as a D × D matrix (PyTorch's own
                # init draws the stacked 3D × D in-projection at once, and W_o as a Linear).
                bound = math.sqrt(6.0 / (2 * D))
                self.attend.in_proj_weight.uniform_(-bound, bound)
                self.attend.out_proj.weight.uniform_(-bound, bound)
                self.attend.in_proj_bias.zero_()
                self.attend.out_proj.bias.zero_()
            self.norm1 = nn.LayerNorm(D)
            self.hidden = he(nn.Linear(D, HIDDEN))
            self.back = he(nn.Linear(HIDDEN, D))
            self.norm2 = nn.LayerNorm(D)
            self.answer = xavier(nn.Linear(D, VOCAB))
            self.register_buffer("positions", torch.from_numpy(positions(STEPS, D)))

        def forward(self, x):
            e = self.embed(x)
            xp = e + self.positions[:x.shape[1]]
            a, _ = self.attend(xp, xp, xp, need_weights=False)
            n1 = self.norm1(e + a)
            n2 = self.norm2(n1 + self.back(torch.relu(self.hidden(n1))))
            return self.answer(n2)  # logits, batch × steps × vocab

    cross_entropy = nn.CrossEntropyLoss()

    def loss_fn(logits, y):
        return cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))

    x, y = (torch.from_numpy(a) for a in sequences(TRAIN))
    model = Reverse()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    times = epoch_seconds(model, x, y, BATCH, epochs, optimizer, loss_fn=loss_fn)
    xt, yt = (torch.from_numpy(a) for a in sequences("reverse_test.csv"))
    model.eval()
    with torch.no_grad():
        accuracy = (model(xt).argmax(-1) == yt).float().mean().item()
    return len(x) / statistics.median(times), accuracy


def main() -> None:
    args = comparison_args(__doc__.splitlines()[0], epochs=6)
    import torch
    print(f"PyTorch {torch.__version__}, 4000 reversal sequences of {STEPS} tokens/epoch, "
          f"attention {D} x {HEADS} heads, batch {BATCH}, median of {args.epochs} epochs, "
          f"best of {args.rounds} rounds")
    n_train = len(sequences(TRAIN)[0])
    throughput_table(
        "seq/s", args.threads, args.rounds,
        lambda n: pytorch(n, args.epochs),
        lambda n: neurosim_throughput(NET, n, args.epochs, n_train),
    )


if __name__ == "__main__":
    main()
