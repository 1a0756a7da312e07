"""User-defined synapse models side by side with Brian2 running the same equations.

- `triplet`: `networks/triplet_stdp.net` (Pfister & Gerstner 2006 triplet rule, the
  Sjöström et al. 2001 pairing protocol at 1, 10, 20, 40, 50 Hz, both orders) against Brian2
  `Synapses` with the same event-driven equations and `on_pre`/`on_post` code, driven by
  `SpikeGeneratorGroup`s at the times the events happen in neurosim (a presynaptic spike
  acts when it arrives, a step after emission; a postsynaptic one in the step it is
  emitted): the final weights, and their largest relative difference.
- `tsodyks`: `networks/tsodyks_markram.net` (depressing and facilitating Tsodyks–Markram
  synapses onto passive membranes) against Brian2 with the same equations (`exact`
  integration): the largest difference of the recorded `v` and `i_syn` traces.

    cargo build --release
    pip install "brian2==2.9.0" "numpy<2.4" h5py
    python3 benches/compare/brian2_synapses.py [--only triplet tsodyks]

Prints one JSON line per comparison; the numbers in `benches/compare/README.md` come from
this script.
"""

import argparse
import json
import os
import subprocess
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NEUROSIM = os.path.join(ROOT, "target", "release", "neurosim")


def neurosim(name):
    """Runs networks/NAME.net; the path of its HDF5 output."""
    output = os.path.join(tempfile.mkdtemp(), "out.h5")
    subprocess.run([NEUROSIM, "run", os.path.join(ROOT, "networks", f"{name}.net"),
                    "-o", output, "-q", "--force"], check=True)
    return output


PERIODS_MS = [1000.0, 100.0, 50.0, 25.0, 20.0]


def triplet():
    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    out = neurosim("triplet_stdp")
    with h5py.File(out) as f:
        group = [k for k in f["weights_over_time"] if k.startswith("pre_ltp->post_ltp")][0]
        ours = f[f"weights_over_time/{group}/data"][:].reshape(-1, 10)[-1]
    # Event times in neurosim: pre at 5 ms (ltp) or 15 ms (ltd) of each period, post at the
    # other; 60 pairs each.
    theirs = []
    for pre_at, post_at in [(5.0, 15.0), (15.0, 5.0)]:
        b2.start_scope()
        b2.defaultclock.dt = 0.1 * b2.ms
        pre_i, pre_t, post_i, post_t = [], [], [], []
        for i, period in enumerate(PERIODS_MS):
            for k in range(60):
                pre_i.append(i)
                pre_t.append(pre_at + k * period)
                post_i.append(i)
                post_t.append(post_at + k * period)
        pre = b2.SpikeGeneratorGroup(5, pre_i, np.array(pre_t) * b2.ms)
        post = b2.SpikeGeneratorGroup(5, post_i, np.array(post_t) * b2.ms)
        model = """
            w : siemens
            dr1/dt = -r1 / tau_plus : 1 (event-driven)
            dr2/dt = -r2 / tau_x : 1 (event-driven)
            do1/dt = -o1 / tau_minus : 1 (event-driven)
            do2/dt = -o2 / tau_y : 1 (event-driven)
        """
        on_pre = """
            w = clip(w - o1 * (a2_minus + a3_minus * r2), 0*nS, w_max)
            r1 += 1
            r2 += 1
        """
        on_post = """
            w = clip(w + r1 * (a2_plus + a3_plus * o2), 0*nS, w_max)
            o1 += 1
            o2 += 1
        """
        namespace = dict(tau_plus=16.8 * b2.ms, tau_x=101 * b2.ms, tau_minus=33.7 * b2.ms,
                         tau_y=125 * b2.ms, a2_plus=7.5e-10 * b2.nS, a3_plus=9.3e-3 * b2.nS,
                         a2_minus=7e-3 * b2.nS, a3_minus=2.3e-4 * b2.nS, w_max=100 * b2.nS)
        syn = b2.Synapses(pre, post, model, on_pre=on_pre, on_post=on_post,
                          namespace=namespace)
        syn.connect(j="i")
        syn.w = 1 * b2.nS
        b2.run(60 * b2.second)
        theirs.extend(np.asarray(syn.w / b2.nS))
    theirs = np.array(theirs)
    rel = np.abs(ours - theirs) / np.abs(theirs)
    for order, lo in [("ltp", 0), ("ltd", 5)]:
        for i, period in enumerate(PERIODS_MS):
            print(json.dumps(dict(comparison="triplet", order=order,
                                  frequency_hz=1000.0 / period,
                                  neurosim_change=float(ours[lo + i] - 1.0),
                                  brian2_change=float(theirs[lo + i] - 1.0))))
    print(json.dumps(dict(comparison="triplet", max_relative_difference=float(rel.max()))))


def tsodyks():
    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    out = neurosim("tsodyks_markram")
    with h5py.File(out) as f:
        ours = {}
        for var in ["v", "i_syn"]:
            for pop in ["depressing", "facilitating"]:
                ours[(pop, var)] = f[f"report/{pop}/{var}/data"][:].ravel()
        times = f["report/depressing/v/time"][:] if "time" in f["report/depressing/v"] else None
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    spikes = np.array([100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 1050.0])
    # neurosim delivers a spike emitted at T into the step that starts at T (one step of
    # delay): Brian2's generator fires at T with no delay, into the same step.
    train = b2.SpikeGeneratorGroup(1, np.zeros(len(spikes), int), spikes * b2.ms)
    eqs = """
        dv/dt = (e_l - v) / tau_m + i_syn / c_m : volt
        di_syn/dt = -i_syn / tau_s : amp
    """
    cells = b2.NeuronGroup(2, eqs, method="exact",
                           namespace=dict(tau_m=40 * b2.ms, c_m=250 * b2.pF, tau_s=3 * b2.ms,
                                          e_l=-70 * b2.mV))
    cells.v = -70 * b2.mV
    model = """
        w : amp
        U : 1
        tau_d : second
        tau_f : second
        dx/dt = (1 - x) / tau_d : 1 (event-driven)
        du/dt = -u / tau_f : 1 (event-driven)
    """
    on_pre = """
        u += U * (1 - u)
        r = u * x
        x -= r
        i_syn_post += w * r
    """
    syn = b2.Synapses(train, cells, model + "r : 1", on_pre=on_pre)
    syn.connect(i=0, j=[0, 1])
    syn.w = 250 * b2.pA
    syn.x = 1
    syn.U = [0.5, 0.03]
    syn.tau_d = [800 * b2.ms, 100 * b2.ms]
    syn.tau_f = [20 * b2.ms, 1000 * b2.ms]
    monitor = b2.StateMonitor(cells, ["v", "i_syn"], record=True, dt=0.5 * b2.ms)
    b2.run(1.2 * b2.second)
    worst = {}
    for k, pop in enumerate(["depressing", "facilitating"]):
        for var, unit in [("v", b2.mV), ("i_syn", b2.pA)]:
            theirs = np.asarray(getattr(monitor, var)[k] / unit)
            # neurosim samples at the end of each 0.5 ms, Brian2 at its start.
            n = min(len(theirs) - 1, len(ours[(pop, var)]))
            diff = np.abs(ours[(pop, var)][:n] - theirs[1:n + 1])
            worst[f"{pop}.{var}"] = float(diff.max())
    print(json.dumps(dict(comparison="tsodyks_markram", max_abs_difference=worst,
                          units=dict(v="mV", i_syn="pA"))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["triplet", "tsodyks"])
    args = parser.parse_args()
    if "triplet" in args.only:
        triplet()
    if "tsodyks" in args.only:
        tsodyks()


if __name__ == "__main__":
    main()
