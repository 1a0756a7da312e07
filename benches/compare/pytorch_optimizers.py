#!/usr/bin/env python3
"""Reference trajectories of PyTorch's optimizers, for neurosim's optimizer registry.

Each case runs `torch.optim.<X>` (single-tensor implementation, `foreach=False`, float32 on
the CPU) for 5 steps on the parameter p0 = [0.5, -1.25, 2.0, 0.0, 3.5] with the gradients
g_t[i] = sin(t + i)·(i + 1) (t = 1..5, computed in float64, then rounded to float32), and
prints the parameter after every step as a Rust table: a `(name, arguments, steps)` entry
of `PYTORCH` in `src/models/optimizer/tests.rs`, whose test
`every_optimizer_follows_pytorch_step_by_step` steps each neurosim optimizer the same way
and requires every value within 1e-6 relative. The arguments are given in full on both
sides, so the reference does not depend on defaults (two of neurosim's differ from
PyTorch's: `sgd` lr 0.01 instead of 1e-3, `adagrad` eps 1e-8 instead of 1e-10); the
`nadam` case without arguments checks the defaults too.

    pip install torch
    python3 benches/compare/pytorch_optimizers.py > /tmp/pytorch.rs

and paste the printed table over `PYTORCH` when a case is added. Measured with PyTorch
2.15.0.
"""
import math
import struct

import torch

P0 = [0.5, -1.25, 2.0, 0.0, 3.5]
STEPS = 5

# (neurosim name, neurosim arguments, PyTorch constructor). Flags are 0/1 on the Rust side.
CASES = [
    (
        "sgd",
        [("lr", 0.1), ("momentum", 0.9), ("nesterov", 1.0), ("weight_decay", 0.01)],
        lambda p: torch.optim.SGD(
            p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False
        ),
    ),
    (
        "adagrad",
        [("lr", 0.1), ("eps", 1e-8), ("weight_decay", 0.01)],
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, eps=1e-8, weight_decay=0.01, foreach=False
        ),
    ),
    (
        "rmsprop",
        [("lr", 0.01), ("alpha", 0.9), ("eps", 1e-8), ("weight_decay", 0.01)],
        lambda p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01, foreach=False
        ),
    ),
    (
        "adam",
        [("lr", 0.01), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8), ("weight_decay", 0.01)],
        lambda p: torch.optim.Adam(
            p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False
        ),
    ),
    (
        "adamw",
        [("lr", 0.01), ("beta1", 0.8), ("beta2", 0.99), ("eps", 1e-8), ("weight_decay", 0.1)],
        lambda p: torch.optim.AdamW(
            p, lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1, foreach=False
        ),
    ),
    (
        "nadam",
        [],
        lambda p: torch.optim.NAdam(p, foreach=False),
    ),
    (
        "nadam",
        [
            ("lr", 0.01),
            ("beta1", 0.8),
            ("beta2", 0.99),
            ("eps", 1e-8),
            ("weight_decay", 0.05),
            ("momentum_decay", 0.1),
        ],
        lambda p: torch.optim.NAdam(
            p,
            lr=0.01,
            betas=(0.8, 0.99),
            eps=1e-8,
            weight_decay=0.05,
            momentum_decay=0.1,
            foreach=False,
        ),
    ),
]


def gradient(t: int) -> torch.Tensor:
    """g_t[i] = sin(t + i)·(i + 1), in float64, then float32."""
    return torch.tensor(
        [math.sin(t + i) * (i + 1) for i in range(len(P0))], dtype=torch.float32
    )


def trajectory(make) -> list[list[float]]:
    """The parameter after each of the STEPS steps."""
    p = torch.tensor(P0, dtype=torch.float32, requires_grad=True)
    optimizer = make([p])
    steps = []
    for t in range(1, STEPS + 1):
        p.grad = gradient(t)
        optimizer.step()
        steps.append(p.detach().tolist())
    return steps


def rust_f32(x: float) -> str:
    """The shortest literal that parses back to the same float32 (9 digits always do)."""
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == x:
            break
    return text if "." in text or "e" in text else text + ".0"


def main() -> None:
    print(f"// benches/compare/pytorch_optimizers.py, PyTorch {torch.__version__}")
    print("#[rustfmt::skip]")
    print("const PYTORCH: &[Reference] = &[")
    for name, args, make in CASES:
        arguments = ", ".join(f'("{k}", {v!r})' for k, v in args)
        print(f'    ("{name}", &[{arguments}], [')
        for step in trajectory(make):
            print("        [" + ", ".join(rust_f32(x) for x in step) + "],")
        print("    ]),")
    print("];")


if __name__ == "__main__":
    main()
