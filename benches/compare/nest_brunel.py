"""Brunel (2000) model A side by side: NEST's `brunel_delta_nest.py` network (iaf_psc_delta,
J = 0.1 mV, g = 5, C_E = 1000, D = 1.5 ms, one `poisson_generator` of C_E·2·nu_thr = 20 kHz
onto every neuron) and `networks/brunel.net`, 1 s at dt = 0.1 ms. Prints each simulator's
excitatory rate (mean-field theory: 37.9 Hz), CV of the ISIs of 1000 recorded neurons,
and the simulation wall time with the ratio NEST / neurosim.

    python nest_brunel.py [--threads 1 2] [--repeat 2]

NEST (`pip install nest-simulator`, measured with 3.10): time of `nest.Simulate` only.
neurosim: `target/release/neurosim run networks/brunel.net --json` (built when missing),
its `timing.run_s` (the step loop, without building the network); rate and CV of the
recorded `E[0..1000]` from `neurosim inspect --json`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

NEST = r'''
import json, sys, time
import numpy as np
import nest
threads = int(sys.argv[1])
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.local_num_threads = threads
nest.resolution = 0.1
nest.rng_seed = 2000
n_e, n_i, c_e, c_i = 10000, 2500, 1000, 250
j, g, delay = 0.1, 5.0, 1.5
params = {"C_m": 1.0, "tau_m": 20.0, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0,
          "V_m": 0.0, "V_th": 20.0}
ex = nest.Create("iaf_psc_delta", n_e, params=params)
inh = nest.Create("iaf_psc_delta", n_i, params=params)
for pop in (ex, inh):
    pop.V_m = nest.random.uniform(0.0, 20.0)
nu_thr = 20.0 / (j * c_e * 20.0)
noise = nest.Create("poisson_generator", params={"rate": 1000.0 * 2.0 * nu_thr * c_e})
rec = nest.Create("spike_recorder")
nest.Connect(noise, ex + inh, syn_spec={"weight": j, "delay": delay})
nest.Connect(ex, ex + inh, {"rule": "fixed_indegree", "indegree": c_e},
             {"weight": j, "delay": delay})
nest.Connect(inh, ex + inh, {"rule": "fixed_indegree", "indegree": c_i},
             {"weight": -g * j, "delay": delay})
nest.Connect(ex[:1000], rec)
t0 = time.perf_counter()
nest.Simulate(1000.0)
seconds = time.perf_counter() - t0
ev = rec.events
senders, times = np.asarray(ev["senders"]), np.asarray(ev["times"])
cvs = []
for s in np.unique(senders):
    isi = np.diff(np.sort(times[senders == s]))
    if len(isi) >= 3:
        cvs.append(isi.std() / isi.mean())
print(json.dumps({"rate_hz": len(times) / 1000 / 1.0, "cv": float(np.mean(cvs)),
                  "seconds": seconds}))
'''


def nest(threads):
    out = subprocess.run([sys.executable, "-c", NEST, str(threads)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def neurosim(threads):
    binary = os.path.join(ROOT, "target", "release", "neurosim")
    if not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "brunel.h5")
        summary = subprocess.run(
            [binary, "run", os.path.join(ROOT, "networks", "brunel.net"), "--json", "--quiet",
             "--threads", str(threads), "-o", out],
            check=True, capture_output=True, text=True).stdout
        summary = json.loads(summary.strip().splitlines()[-1])
        shown = subprocess.run([binary, "inspect", out, "--json"], check=True,
                               capture_output=True, text=True).stdout
        shown = json.loads(shown)
    e = shown["spikes"]["E"]
    return {"rate_hz": e["rate_hz"], "cv": e["cv_isi"], "seconds": summary["timing"]["run_s"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"{'threads':>7} {'simulator':>9} {'E rate Hz':>9} {'CV':>5} {'sim s':>7}")
    for threads in args.threads:
        best = {}
        for _ in range(args.repeat):
            for name, run in (("nest", nest), ("neurosim", neurosim)):
                r = run(threads)
                if name not in best or r["seconds"] < best[name]["seconds"]:
                    best[name] = r
        for name, r in best.items():
            print(f"{threads:>7} {name:>9} {r['rate_hz']:>9.2f} {r['cv']:>5.2f} "
                  f"{r['seconds']:>7.2f}")
        print(f"{threads:>7} {'ratio':>9} NEST / neurosim = "
              f"{best['nest']['seconds'] / best['neurosim']['seconds']:.2f}x")


if __name__ == "__main__":
    main()
