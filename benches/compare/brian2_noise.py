"""White noise side by side: the same Ornstein–Uhlenbeck membrane in neurosim and Brian2,
`dv/dt = (mu - v)/tau + sigma*sqrt(2/tau)*xi`, integrated by `euler` (Euler–Maruyama) and
`heun`; prints the stationary mean and standard deviation of each against the theory
(`mu`, `sigma`, and each scheme's own discrete stationary sd), and a multiplicative case
(geometric Brownian motion `dx/dt = s*x*xi` with `heun`: Stratonovich, so log x has mean 0
and sd s*sqrt(T)), with the simulation times.

    cargo build --release
    pip install "brian2==2.9.0" "numpy<2.4" h5py
    python3 benches/compare/brian2_noise.py [--neurons 4000] [--sigma 3]

Brian2 runs in its runtime mode with numpy code generation (no compiler needed). Its `heun`
applies Heun's correction to the noise term only (the drift is an Euler step); neurosim's
applies it to drift and noise (Heun's method, second order without noise). Both converge to
the Stratonovich solution; for the OU membrane Brian2's `heun` therefore has Euler's
stationary sd.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NEUROSIM = os.path.join(ROOT, "target", "release", "neurosim")

MU, TAU, DT, T_BURN, T_END = -60.0, 10.0, 0.1, 100.0, 600.0

NET = """
neuron ou {{
    param mu = {mu} mV, sigma = {sigma} mV, tau = {tau} ms
    state v = mu
    dv/dt = (mu - v) / tau + sigma * sqrt(2 / tau) * xi
    on_pre excitatory {{ v += w }}
    method = {method}
}}
neuron gbm {{
    param k = 0.1
    state x = 1
    dx/dt = k * x * xi / sqrt(ms)
    on_pre excitatory {{ x += w }}
}}
network noise : spiking {{
    seed = 1
    dt = {dt} ms
    population P : ou[{n}]
    population G : gbm[{n}]
    record v of P every 10 ms
    record x of G every {t_end} ms
    simulate {t_end} ms
}}
"""

BRIAN2 = r"""
import json, sys, time
import numpy as np
import brian2 as b2
from brian2 import ms, mV
method, n, sigma = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
b2.prefs.codegen.target = "numpy"
b2.defaultclock.dt = %(dt)s * ms
b2.seed(1)
mu, tau, sig = %(mu)s * mV, %(tau)s * ms, sigma * mV
P = b2.NeuronGroup(n, "dv/dt = (mu - v)/tau + sig*sqrt(2/tau)*xi : volt", method=method)
P.v = mu
G = b2.NeuronGroup(n, "dx/dt = s*x*xi : 1", method="heun", namespace={"s": 0.1 / b2.sqrt(ms)})
G.x = 1
mp = b2.StateMonitor(P, "v", record=True, dt=10 * ms)
start = time.perf_counter()
b2.run(%(t_end)s * ms)
elapsed = time.perf_counter() - start
t = np.asarray(mp.t / ms)
v = np.asarray(mp.v / mV)[:, t >= %(burn)s - 1e-9].ravel()
x = np.asarray(G.x)
print(json.dumps(dict(mean=float(v.mean()), sd=float(v.std(ddof=1)),
                      log_mean=float(np.log(x).mean()), log_sd=float(np.log(x).std(ddof=1)),
                      run_s=elapsed)))
""" % dict(dt=DT, mu=MU, tau=TAU, t_end=T_END, burn=T_BURN + 10)


def discrete_sd(method, sigma):
    """The scheme's stationary sd for e = v - mu: e <- a*e + b*sigma*sqrt(2r)*z."""
    r = DT / TAU
    a, b = {"euler": (1 - r, 1.0), "heun": (1 - r + r * r / 2, 1 - r / 2)}[method]
    return math.sqrt(2 * r * b * b * sigma * sigma / (1 - a * a))


def scheme(row):
    """The discrete scheme a row's drift follows (Brian2's heun takes an Euler drift step)."""
    return "euler" if row["simulator"] == "brian2" else row["method"]


def neurosim(method, n, sigma):
    import h5py
    import numpy as np
    work = tempfile.mkdtemp()
    path, output = os.path.join(work, "noise.net"), os.path.join(work, "out.h5")
    with open(path, "w") as f:
        f.write(NET.format(mu=MU, sigma=sigma, tau=TAU, method=method, dt=DT, n=n,
                           t_end=T_END))
    cmd = [NEUROSIM, "run", path, "-o", output, "--json", "-q", "--force", "--threads", "1"]
    summary = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                        text=True).stdout.strip().splitlines()[-1])
    with h5py.File(output, "r") as f:
        t = np.asarray(f["report/P/v/time"])
        v = np.asarray(f["report/P/v/data"], dtype=float).reshape(len(t), -1)
        x = np.asarray(f["report/G/x/data"], dtype=float).reshape(-1, n)[-1]
    # neurosim stamps a sample with the end of its step: the same snapshots as Brian2's.
    v = v[t >= T_BURN + 10 - 1e-9].ravel()
    shutil.rmtree(work, ignore_errors=True)
    return dict(mean=float(v.mean()), sd=float(v.std(ddof=1)), log_mean=float(np.log(x).mean()),
                log_sd=float(np.log(x).std(ddof=1)), run_s=summary["timing"]["run_s"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--sigma", type=float, default=3.0)
    args = parser.parse_args()
    n, sigma = args.neurons, args.sigma
    rows = []
    for method in ["euler", "heun"]:
        ours = neurosim(method, n, sigma)
        out = subprocess.run([sys.executable, "-c", BRIAN2, method, str(n), str(sigma)],
                             check=True, capture_output=True, text=True).stdout
        theirs = json.loads(out.strip().splitlines()[-1])
        for who, r in [("neurosim", ours), ("brian2", theirs)]:
            row = dict(simulator=who, method=method, **r)
            print(json.dumps(row))
            rows.append(row)
    # Snapshots 10 ms apart are correlated (rho = (1 - dt/tau)^100 ~ 0.37); with 4000
    # neurons and 50 snapshots the sd has a standard error near 0.1 %.
    print(f"\nOU membrane, {n} neurons, sigma {sigma} mV, snapshots every 10 ms from "
          f"{T_BURN + 10:.0f} to {T_END:.0f} ms")
    print(f"{'':22} {'mean (mV)':>10} {'sd (mV)':>9} {'theory sd':>10} {'run (s)':>8}")
    for r in rows:
        print(f"{r['simulator'] + ' ' + r['method']:22} {r['mean']:10.4f} {r['sd']:9.4f} "
              f"{discrete_sd(scheme(r), sigma):10.4f} {r['run_s']:8.3f}")
    print(f"(continuous theory: mean {MU}, sd {sigma})")
    print(f"\ngeometric Brownian motion with heun at {T_END:.0f} ms: log x mean (theory 0, "
          f"Ito would be {-0.01 * T_END / 2:.1f}) and sd (theory {0.1 * math.sqrt(T_END):.3f})")
    for r in rows:
        if r["method"] == "heun":
            print(f"{r['simulator']:22} {r['log_mean']:10.4f} {r['log_sd']:9.4f}")


if __name__ == "__main__":
    main()
