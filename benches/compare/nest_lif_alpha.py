"""lif_alpha against NEST's iaf_psc_alpha, step by step: the same neurons, the same input
spikes, the same dt (0.1 ms); prints the largest |dV| between the two and how many spike
times agree.

1. PSPs: one spike of 1 nA (excitatory, tau_syn_e = 5 ms and = tau_m = 20 ms) or -1 nA
   (inhibitory, tau_syn_i = 2 ms) into a neuron at rest, 100 ms of V_m.
2. Driven: four neurons (PyNN's defaults, t_ref 2 ms, each with other synaptic time constants,
   one at tau_syn = tau_m) receive the same excitatory and inhibitory input trains (a spike
   in each 0.1 ms step with probability 0.2 and 0.05, 50 pA and -100 pA, delay 1 ms) for 2 s;
   they fire irregularly near threshold. The trains are drawn here and handed to NEST's
   `spike_generator` and to neurosim's `spike_source` as lists of times, so both see the
   same spikes.

    pip install nest-simulator h5py numpy
    cargo build --release
    python3 benches/compare/nest_lif_alpha.py [--seconds 2] [--seed 1]

neurosim runs `target/release/neurosim run` on a .net file written here and the script reads
its HDF5 output with h5py.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DT = 0.1
# PyNN's IF_curr_alpha defaults (= lif_alpha's), in NEST's names and units.
BASE = {"C_m": 1000.0, "tau_m": 20.0, "E_L": -65.0, "V_reset": -65.0, "V_th": -50.0,
        "t_ref": 0.1, "tau_syn_ex": 5.0, "tau_syn_in": 5.0, "I_e": 0.0}
NAMES = {"C_m": ("cm", "pF"), "tau_m": ("tau_m", "ms"), "E_L": ("v_rest", "mV"),
         "V_reset": ("v_reset", "mV"), "V_th": ("v_thresh", "mV"),
         "t_ref": ("tau_refrac", "ms"), "tau_syn_ex": ("tau_syn_e", "ms"),
         "tau_syn_in": ("tau_syn_i", "ms"), "I_e": ("i_offset", "pA")}


def cells(changes):
    return [dict(BASE, **c) for c in changes]


def nest_run(neurons, trains, t_stop):
    """neurons: NEST parameter dicts; trains: (times, weight) inputs onto every neuron.
    Returns V_m (neurons × steps) sampled at 0.1, 0.2, ... and the spike times of each."""
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = DT
    pop = [nest.Create("iaf_psc_alpha", params=dict(p, V_m=p["E_L"])) for p in neurons]
    for times, weight in trains:
        gen = nest.Create("spike_generator", params={"spike_times": list(times)})
        for cell in pop:
            nest.Connect(gen, cell, syn_spec={"weight": weight, "delay": 1.0})
    meter = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    recorder = nest.Create("spike_recorder")
    for cell in pop:
        nest.Connect(meter, cell)
        nest.Connect(cell, recorder)
    # The multimeter's samples lag the simulated time by the minimum delay (1 ms): run past
    # t_stop and keep the samples up to it.
    nest.Simulate(t_stop + 2.0)
    ev, sp = meter.events, recorder.events
    n = int(round(t_stop / DT))
    v = np.full((len(pop), n), np.nan)
    for k, cell in enumerate(pop):
        mine = ev["senders"] == cell.global_id
        steps = np.rint(ev["times"][mine] / DT).astype(int) - 1
        keep = steps < n
        v[k, steps[keep]] = ev["V_m"][mine][keep]
    spikes = [np.sort(sp["times"][(sp["senders"] == c.global_id) & (sp["times"] <= t_stop)])
              for c in pop]
    return v, spikes


def net_text(neurons, trains, t_stop):
    lines = ["network compare : spiking {", "    seed = 1", f"    dt = {DT} ms"]
    for k, p in enumerate(neurons):
        params = ", ".join(f"{NAMES[n][0]} = {p[n]} {NAMES[n][1]}" for n in BASE)
        lines.append(f"    population n{k} : lif_alpha[1] {{ {params} }}")
    targets = ", ".join(f"n{k}" for k in range(len(neurons)))
    for j, (times, weight) in enumerate(trains):
        listed = ", ".join(f"{t:.1f} ms" for t in times)
        lines.append(f"    population s{j} : spike_source[1] {{ times = [{listed}] }}")
        lines.append(f"    s{j} -> {targets} : one_to_one {{ weight = {weight} pA, delay = 1 ms }}")
    lines += [f"    record v of {targets}", f"    record spikes of {targets}",
              f"    simulate {t_stop} ms", "}"]
    return "\n".join(lines) + "\n"


def neurosim_run(neurons, trains, t_stop):
    binary = os.path.join(ROOT, "target", "release", "neurosim")
    if not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        source, out = os.path.join(tmp, "compare.net"), os.path.join(tmp, "compare.h5")
        with open(source, "w") as f:
            f.write(net_text(neurons, trains, t_stop))
        subprocess.run([binary, "run", source, "-o", out, "--quiet"], check=True)
        with h5py.File(out, "r") as f:
            v = np.array([f[f"report/n{k}/v/data"][:] for k in range(len(neurons))],
                         dtype=np.float64)
            spikes = []
            for k in range(len(neurons)):
                group = f.get(f"spikes/n{k}")
                spikes.append(np.sort(group["timestamps"][:]) if group is not None
                              else np.zeros(0))
    return v, spikes


def compare(title, neurons, trains, t_stop):
    v_nest, s_nest = nest_run(neurons, trains, t_stop)
    v_ns, s_ns = neurosim_run(neurons, trains, t_stop)
    print(title)
    for k, p in enumerate(neurons):
        dv = np.abs(v_nest[k] - v_ns[k])
        a, b = s_nest[k], s_ns[k]
        n = min(len(a), len(b))
        same = int(np.sum(np.abs(a[:n] - b[:n]) < DT / 2)) if n else 0
        first = next((i for i in range(n) if abs(a[i] - b[i]) >= DT / 2), None)
        # Up to the step before the first spike that differs (then the traces part ways).
        upto = dv.size
        if first is not None:
            upto = int(round(min(a[first], b[first]) / DT)) - 1
        print(f"  tau_syn_ex {p['tau_syn_ex']:>4}, tau_syn_in {p['tau_syn_in']:>4}, "
              f"I_e {p['I_e']:>4}: max |dV| {dv[:upto].max():.2e} mV (V from "
              f"{v_nest[k].min():.2f} to {v_nest[k].max():.2f} mV); spikes: NEST {len(a)}, "
              f"neurosim {len(b)}, at the same time {same}")
        if first is not None:
            # The simulator that fired first reset; the other one's V then was this close.
            other = v_ns[k] if a[first] < b[first] else v_nest[k]
            print(f"    first differing spike #{first}: NEST {a[first]:.1f} ms, neurosim "
                  f"{b[first]:.1f} ms; at {min(a[first], b[first]):.1f} ms the later one "
                  f"was {p['V_th'] - other[upto]:.2e} mV below V_th")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    psp = cells([{"V_th": 0.0, "tau_syn_ex": 5.0}, {"V_th": 0.0, "tau_syn_ex": 20.0},
                 {"V_th": 0.0, "tau_syn_in": 2.0}])
    # One train onto all three: the inhibitory neuron gets its -1 nA from a second train.
    compare("PSP of one 1 nA spike at 10 ms (+1 ms delay), 100 ms", psp[:2],
            [([10.0], 1000.0)], 100.0)
    compare("PSP of one -1 nA spike", psp[2:], [([10.0], -1000.0)], 100.0)

    rng = np.random.default_rng(args.seed)
    t_stop = 1000.0 * args.seconds
    n_steps = int(round(t_stop / DT))

    def train(p):
        steps = np.nonzero(rng.random(n_steps - 20) < p)[0] + 1
        return np.round(steps * DT, 1)

    trains = [(train(0.2), 50.0), (train(0.05), -100.0)]
    driven = cells([{"t_ref": 2.0},
                    {"t_ref": 2.0, "tau_syn_ex": 2.0, "tau_syn_in": 8.0, "I_e": 1200.0},
                    {"t_ref": 2.0, "tau_syn_ex": 20.0, "tau_syn_in": 20.0},
                    {"t_ref": 2.0, "tau_syn_ex": 0.5, "tau_syn_in": 1.0, "I_e": 720.0}])
    compare(f"Driven: {len(trains[0][0])} excitatory (50 pA) and {len(trains[1][0])} "
            f"inhibitory (-100 pA) input spikes over {args.seconds} s", driven, trains, t_stop)


if __name__ == "__main__":
    sys.exit(main())
