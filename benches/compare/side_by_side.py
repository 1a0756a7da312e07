"""What the rate-engine comparison scripts share: running a shipped network with the
release binary, the alternating-rounds throughput table, the command-line options, the
sequence CSV reader, and PyTorch layers started as neurosim starts its own."""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "networks" / "data"


def run_neurosim(net: str, threads: int, epochs: int, edit=lambda text: text) -> dict:
    """The `run --json` summary of `networks/<net>` trained for `epochs` epochs on `threads`
    threads (data paths made absolute, `edit` applied to the text first)."""
    binary = ROOT / "target" / "release" / "neurosim"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    text = edit((ROOT / "networks" / net).read_text())
    text = text.replace('"data/', f'"{DATA}/')
    text = re.sub(r"epochs = \d+", f"epochs = {epochs}", text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / net
        path.write_text(text)
        out = subprocess.run(
            [str(binary), "run", str(path), "--json", "--quiet", "--threads", str(threads),
             "-o", str(Path(tmp) / "out.h5")],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def neurosim_throughput(net: str, threads: int, epochs: int, n_train: int,
                        edit=lambda text: text) -> tuple[float, float]:
    """(training samples/s over the median epoch, test accuracy) of `networks/<net>`."""
    summary = run_neurosim(net, threads, epochs, edit)
    return n_train / statistics.median(summary["train"]["epoch_s"]), summary["evaluate"]["accuracy"]


def throughput_table(unit: str, threads: list[int], rounds: int, pytorch, neurosim) -> None:
    """Prints, per thread count, the best of `rounds` alternating rounds (so both see the same
    machine load) of `pytorch(threads)` and `neurosim(threads)`, each `(samples/s, accuracy)`,
    and their ratio."""
    print(f"{'threads':>7} {'pytorch ' + unit:>18} {'neurosim ' + unit:>19} {'ratio':>6}"
          f" {'pytorch acc':>12} {'neurosim acc':>13}")
    for n in threads:
        torch_best = ns_best = 0.0
        torch_acc = ns_acc = 0.0
        for _ in range(rounds):
            speed, torch_acc = pytorch(n)
            torch_best = max(torch_best, speed)
            speed, ns_acc = neurosim(n)
            ns_best = max(ns_best, speed)
        print(f"{n:>7} {torch_best:>18,.0f} {ns_best:>19,.0f} {ns_best / torch_best:>6.2f}"
              f" {torch_acc:>12.4f} {ns_acc:>13.4f}", flush=True)


def sequence_csv(path: Path, steps: int, target_prefix: str):
    """(inputs `N × steps × width`, targets `N × steps`) of a sequence CSV whose target
    columns are `<target_prefix><t>` and whose other columns are the inputs, step-major."""
    import numpy as np

    header = path.open().readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    targets = [header.index(f"{target_prefix}{t}") for t in range(steps)]
    inputs = [c for c in range(len(header)) if c not in targets]
    # Step-major: the inputs of step t are the t-th block of the input columns.
    return table[:, inputs].reshape(len(table), steps, len(inputs) // steps), table[:, targets]


def neurosim_lstm(inputs: int, units: int):
    """`nn.LSTM(inputs, units, batch_first=True)` started as neurosim's `lstm` with xavier
    input weights: recurrent weights U(±1/√units) (PyTorch's default, kept), one bias per
    gate (1 on the forget gate, 0 elsewhere), the redundant second bias held at zero and
    not trained, so both have the same parameters and the same gradient norm."""
    import torch
    from torch import nn

    lstm = nn.LSTM(inputs, units, batch_first=True)
    with torch.no_grad():
        nn.init.xavier_uniform_(lstm.weight_ih_l0)
        lstm.bias_ih_l0.zero_()
        lstm.bias_ih_l0[units:2 * units] = 1.0
        lstm.bias_hh_l0.zero_()
    lstm.bias_hh_l0.requires_grad_(False)
    return lstm


def xavier_linear(inputs: int, outputs: int):
    """`nn.Linear` with xavier-uniform weights and a zero bias (neurosim's `init = xavier`)."""
    import torch
    from torch import nn

    linear = nn.Linear(inputs, outputs)
    with torch.no_grad():
        nn.init.xavier_uniform_(linear.weight)
        linear.bias.zero_()
    return linear


def comparison_args(description: str, epochs: int):
    """The options every comparison takes: thread counts, epochs per measurement, rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=epochs, help="epochs per measurement")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds per thread count; the best round counts")
    os.environ.pop("OPENBLAS_CORETYPE", None)
    return parser.parse_args()


def train_binary(model, train, test, batch: int, epochs: int, lr: float) -> tuple[float, float]:
    """Trains `model` (logits out) with BCE, Adam at `lr` and clipping to norm 1 on the
    `train` tensors; (median samples/s, accuracy on `test` at threshold 0.5)."""
    import torch

    from torch_loop import epoch_seconds

    (x, y), (xt, yt) = train, test
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trained, lr=lr)
    times = epoch_seconds(model, x, y, batch, epochs, optimizer,
                          loss_fn=torch.nn.BCEWithLogitsLoss(), clip_norm=1.0)
    model.eval()
    with torch.no_grad():
        accuracy = ((model(xt) > 0).float() == yt).float().mean().item()
    return len(x) / statistics.median(times), accuracy
