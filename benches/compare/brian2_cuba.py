"""Brian2 reference runs of the CUBA and COBA benchmark networks (Brette et al. 2007), with
the parameters of neurosim's `networks/cuba.net` and `networks/coba.net`.

Prints, per network and seed, the mean rate of E and I and the mean CV of the inter-spike
intervals (neurons with at least 3 spikes), as one JSON line each.

    python brian2_cuba.py [--network cuba|coba|both] [--seeds 1 2 3] [--duration 1.0]
                          [--n 4000] [--standalone]

Requires `pip install brian2` (measured with brian2 2.9.0, numpy < 2.4).
"""

import argparse
import json
import time

import numpy as np


def build(network, n, seed, standalone_dir=None):
    import brian2 as b2

    b2.start_scope()
    if standalone_dir:
        b2.set_device("cpp_standalone", directory=standalone_dir, build_on_run=False)
    else:
        b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    ms, mV, nS, pF = b2.ms, b2.mV, b2.nS, b2.pF
    n_e = n * 4 // 5
    p = min(1.0, 80.0 / n)
    if network == "cuba":
        eqs = """
        dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        """
        ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, El=-49 * mV)
        group = b2.NeuronGroup(n, eqs, threshold="v > -50*mV", reset="v = -60*mV",
                               refractory=5 * ms, method="exact", namespace=ns)
        group.v = "-60*mV + rand() * 10*mV"
        we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
    else:
        eqs = """
        dv/dt  = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v)) / C : volt (unless refractory)
        dge/dt = -ge / taue : siemens
        dgi/dt = -gi / taui : siemens
        """
        ns = dict(C=200 * pF, gl=10 * nS, El=-60 * mV, Ee=0 * mV, Ei=-80 * mV,
                  taue=5 * ms, taui=10 * ms)
        group = b2.NeuronGroup(n, eqs, threshold="v > -50*mV", reset="v = -60*mV",
                               refractory=5 * ms, method="exponential_euler", namespace=ns)
        group.v = "-60*mV + rand() * 10*mV"
        group.ge = "clip(4*nS + 1.5*nS*randn(), 0*nS, 1000*nS)"
        group.gi = "clip(20*nS + 12*nS*randn(), 0*nS, 1000*nS)"
        we, wi = 6 * nS, 67 * nS
    exc, inh = group[:n_e], group[n_e:]
    ce = b2.Synapses(exc, group, on_pre="ge += we", namespace=dict(we=we))
    ci = b2.Synapses(inh, group, on_pre="gi += wi", namespace=dict(wi=wi))
    ce.connect(p=p)
    ci.connect(p=p)
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(group, ce, ci, monitor)
    return b2, net, monitor, n_e, len(ce) + len(ci)


def cv_isi(trains):
    cvs = []
    for times in trains.values():
        t = np.asarray(times)
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--network", default="both", choices=["cuba", "coba", "both"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--duration", type=float, default=1.0, help="seconds")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--standalone", action="store_true", help="C++ standalone device")
    args = parser.parse_args()
    networks = ["cuba", "coba"] if args.network == "both" else [args.network]
    for network in networks:
        for seed in args.seeds:
            directory = f"/tmp/brian2_{network}_{seed}" if args.standalone else None
            b2, net, monitor, n_e, synapses = build(network, args.n, seed, directory)
            start = time.perf_counter()
            net.run(args.duration * b2.second)
            if args.standalone:
                b2.device.build(directory=directory, compile=True, run=True)
            wall = time.perf_counter() - start
            i = np.asarray(monitor.i[:])
            trains = monitor.spike_trains()
            exc = {k: v / b2.ms for k, v in trains.items() if k < n_e}
            inh = {k: v / b2.ms for k, v in trains.items() if k >= n_e}
            print(json.dumps({
                "simulator": f"brian2 {b2.__version__}",
                "network": network, "seed": seed, "n": args.n, "synapses": synapses,
                "rate_e_hz": float((i < n_e).sum() / n_e / args.duration),
                "rate_i_hz": float((i >= n_e).sum() / (args.n - n_e) / args.duration),
                "cv_isi_e": cv_isi(exc), "cv_isi_i": cv_isi(inh),
                "wall_s": round(wall, 3),
            }), flush=True)
            if args.standalone:
                b2.device.reinit()
                b2.device.activate()


if __name__ == "__main__":
    main()
