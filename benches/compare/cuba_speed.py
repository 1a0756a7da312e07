"""Times the CUBA benchmark (1 s of biological time, dt 0.1 ms, in-degree 80) in Brian2's
C++ standalone mode, in NEST and in neurosim, at several sizes, and prints wall times and
ratios. Each simulator runs in its own process; each measurement is the minimum of
`--repeat` runs.

    python cuba_speed.py [--sizes 4000 40000 400000] [--threads 1 2] [--repeat 3]
                         [--skip brian2 nest neurosim] [--nest-max 40000]

- Brian2 (`pip install brian2`, measured with 2.9.0): the simulation loop time as the
  generated binary reports it; code generation + compilation time separately.
- NEST (`pip install nest-simulator`, measured with 3.10.0): `iaf_psc_exp`, weights as
  currents (w mV · C_m/tau_m: 1.62 mV -> 16.2 pA, -9 mV -> -90 pA with C_m 200 pF), delay
  0.1 ms; time of `nest.Simulate` only.
- neurosim: `target/release/examples/cuba_bench` (build it first with
  `cargo build --release --example cuba_bench`); its own simulation time.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

BRIAN2 = r'''
import json, sys, time, shutil
import brian2 as b2
n, threads, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
directory = f"/tmp/neurosim_cuba_brian2_{n}_{threads}"
shutil.rmtree(directory, ignore_errors=True)
b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
if threads > 1:
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
b2.seed(seed)
b2.defaultclock.dt = 0.1 * b2.ms
ms, mV = b2.ms, b2.mV
eqs = """
dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt
"""
ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, El=-49 * mV)
P = b2.NeuronGroup(n, eqs, threshold="v > -50*mV", reset="v = -60*mV", refractory=5 * ms,
                   method="exact", namespace=ns)
P.v = "-60*mV + rand() * 10*mV"
n_e = n * 4 // 5
p = min(1.0, 80.0 / n)
Ce = b2.Synapses(P[:n_e], P, on_pre="ge += we", namespace=dict(we=(60 * 0.27 / 10) * mV))
Ci = b2.Synapses(P[n_e:], P, on_pre="gi += wi", namespace=dict(wi=(-20 * 4.5 / 10) * mV))
Ce.connect(p=p)
Ci.connect(p=p)
M = b2.SpikeMonitor(P)
b2.run(1 * b2.second)
t0 = time.perf_counter()
b2.device.build(directory=directory, compile=True, run=False)
compile_s = time.perf_counter() - t0
t0 = time.perf_counter()
b2.device.run(directory=directory, with_output=False, run_args=[])
run_wall = time.perf_counter() - t0
print(json.dumps({"sim_s": b2.device._last_run_time, "compile_s": compile_s,
                  "process_s": run_wall, "rate_hz": M.num_spikes / n,
                  "version": b2.__version__}))
'''

NEST = r'''
import json, sys, time
import nest
n, threads, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": threads, "rng_seed": seed})
t0 = time.perf_counter()
params = {"C_m": 200.0, "tau_m": 20.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
          "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
pop = nest.Create("iaf_psc_exp", n, params=params)
pop.V_m = nest.random.uniform(-60.0, -50.0)
n_e = n * 4 // 5
p = min(1.0, 80.0 / n)
rule = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": False}
nest.Connect(pop[:n_e], pop, rule, {"weight": 16.2, "delay": 0.1})
nest.Connect(pop[n_e:], pop, rule, {"weight": -90.0, "delay": 0.1})
rec = nest.Create("spike_recorder")
nest.Connect(pop, rec)
build_s = time.perf_counter() - t0
t0 = time.perf_counter()
nest.Simulate(1000.0)
sim_s = time.perf_counter() - t0
print(json.dumps({"sim_s": sim_s, "build_s": build_s, "rate_hz": rec.n_events / n,
                  "version": nest.__version__}))
'''


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(text[-2000:])


def run_python(code, n, threads, seed):
    out = subprocess.run([sys.executable, "-c", code, str(n), str(threads), str(seed)],
                         capture_output=True, text=True, check=True)
    return last_json(out.stdout)


def run_neurosim(n, threads, seed):
    binary = os.path.join(ROOT, "target", "release", "examples", "cuba_bench")
    out = subprocess.run([binary, str(n), str(threads), "1000", str(seed)],
                         capture_output=True, text=True, check=True)
    return last_json(out.stdout)


def best(runs):
    return min(runs, key=lambda r: r["sim_s"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 40000, 400000])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument("--nest-max", type=int, default=40000,
                        help="largest size to run in NEST (400k takes ~16 GB and minutes)")
    args = parser.parse_args()
    print(f"{'N':>7} {'thr':>3} {'simulator':<16} {'sim s':>8} {'extra':>24} {'rate Hz':>8} {'neurosim x':>10}")
    for n in args.sizes:
        for threads in args.threads:
            results = {}
            if "neurosim" not in args.skip:
                results["neurosim"] = best([run_neurosim(n, threads, args.seed)
                                            for _ in range(args.repeat)])
            if "brian2" not in args.skip:
                results["brian2"] = best([run_python(BRIAN2, n, threads, args.seed)
                                          for _ in range(args.repeat)])
            if "nest" not in args.skip and n <= args.nest_max:
                results["nest"] = best([run_python(NEST, n, threads, args.seed)
                                        for _ in range(args.repeat)])
            ours = results.get("neurosim", {}).get("sim_s")
            for name, r in results.items():
                if name == "neurosim":
                    extra = f"build {r['build_s']:.3f} s"
                    label, rate = name, (r["rate_e_hz"] * 4 + r["rate_i_hz"]) / 5
                elif name == "brian2":
                    extra = f"compile {r['compile_s']:.1f} s"
                    label, rate = f"brian2 {r['version']}", r["rate_hz"]
                else:
                    extra = f"build {r['build_s']:.2f} s"
                    label, rate = f"nest {r['version']}", r["rate_hz"]
                ratio = f"{r['sim_s'] / ours:.2f}" if ours else "-"
                print(f"{n:>7} {threads:>3} {label:<16} {r['sim_s']:>8.4f} {extra:>24} "
                      f"{rate:>8.2f} {ratio:>10}", flush=True)


if __name__ == "__main__":
    main()
