"""User-defined models side by side: neurosim's equations against its built-in model and
against Brian2 running the same equations.

- `cuba`: `networks/cuba_equations.net` (the neuron written as equations, `exact`) against
  `networks/cuba.net` (built-in `lif`) for several seeds: rates and simulation time.
- `cobahh`: `networks/cobahh.net` (Traub–Miles HH, `exponential_euler`) against Brian2's
  `examples/COBAHH.py` with the same parameters, in C++ standalone mode (the simulation time
  the binary reports; code generation and compilation reported separately): rates of E and
  I and the ratio of simulation times; and one HH neuron driven by a constant current,
  its voltage trace compared step by step (max |dV|, spike times).

    cargo build --release
    pip install "brian2==2.9.0" "numpy<2.4" h5py
    python3 benches/compare/brian2_equations.py [--only cuba cobahh trace] [--seeds 1 2 3]
        [--threads 1]

Prints one JSON line per measurement and a summary table; the numbers in
`benches/compare/README.md` come from this script.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NEUROSIM = os.path.join(ROOT, "target", "release", "neurosim")


def neurosim(path, threads, sets=(), output=None):
    """Runs a .net file; returns the JSON summary and the wall time of the process."""
    output = output or os.path.join(tempfile.mkdtemp(), "out.h5")
    cmd = [NEUROSIM, "run", path, "-o", output, "--json", "-q", "--force",
           "--threads", str(threads)]
    for s in sets:
        cmd += ["--set", s]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    return json.loads(out.strip().splitlines()[-1]), wall, output


def cuba(seeds, threads):
    rows = []
    for seed in seeds:
        for name in ["cuba", "cuba_equations"]:
            summary, wall, _ = neurosim(os.path.join(ROOT, "networks", f"{name}.net"), threads,
                                        [f"seed={seed}"])
            pops = summary["populations"]
            row = dict(network=name, seed=seed, rate_e=pops["E"]["rate_hz"],
                       rate_i=pops["I"]["rate_hz"], run_s=summary["timing"]["run_s"],
                       build_s=summary["timing"]["build_s"], wall_s=wall)
            print(json.dumps(row))
            rows.append(row)
    for seed in seeds:
        a = next(r for r in rows if r["network"] == "cuba" and r["seed"] == seed)
        b = next(r for r in rows if r["network"] == "cuba_equations" and r["seed"] == seed)
        print(f"seed {seed}: rate E {a['rate_e']:.3f} vs {b['rate_e']:.3f} Hz "
              f"({100 * (b['rate_e'] / a['rate_e'] - 1):+.2f} %), run time ratio "
              f"equations/built-in {b['run_s'] / a['run_s']:.2f}")


# The Traub-Miles HH neuron of Brian2's examples/COBAHH.py with its conductance synapses,
# shared by both Brian2 scripts below (the trace leaves the synapses at zero).
BRIAN2_HH = r'''
from brian2 import ms, mV, nS, umetre, ufarad, cm, siemens, msiemens, exprel, exp
area = 20000 * umetre ** 2
Cm = (1 * ufarad * cm ** -2) * area
gl = (5e-5 * siemens * cm ** -2) * area
El, EK, ENa = -60 * mV, -90 * mV, 50 * mV
g_na = (100 * msiemens * cm ** -2) * area
g_kd = (30 * msiemens * cm ** -2) * area
VT = -63 * mV
taue, taui, we, wi, Ee, Ei = 5 * ms, 10 * ms, 6 * nS, 67 * nS, 0 * mV, -80 * mV
eqs = b2.Equations("""
dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-g_na*(m*m*m)*h*(v-ENa)-g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m)-beta_m*m : 1
dn/dt = alpha_n*(1-n)-beta_n*n : 1
dh/dt = alpha_h*(1-h)-beta_h*h : 1
dge/dt = -ge*(1./taue) : siemens
dgi/dt = -gi*(1./taui) : siemens
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
""")
'''

BRIAN2_COBAHH = r'''
import json, sys, time, shutil
import brian2 as b2
seed, threads, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
directory = "/tmp/neurosim_cobahh_brian2"
shutil.rmtree(directory, ignore_errors=True)
b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
if threads > 1:
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
b2.seed(seed)
b2.defaultclock.dt = 0.1 * b2.ms
''' + BRIAN2_HH + r'''P = b2.NeuronGroup(4000, model=eqs, threshold="v>-20*mV", refractory=3 * ms,
                   method="exponential_euler")
Pe, Pi = P[:3200], P[3200:]
Ce = b2.Synapses(Pe, P, on_pre="ge+=we")
Ci = b2.Synapses(Pi, P, on_pre="gi+=wi")
Ce.connect(p=0.02)
Ci.connect(p=0.02)
P.v = "El + (randn() * 5 - 5)*mV"
P.ge = "(randn() * 1.5 + 4) * 10.*nS"
P.gi = "(randn() * 12 + 20) * 10.*nS"
se, si = b2.SpikeMonitor(Pe), b2.SpikeMonitor(Pi)
b2.run(duration * b2.second, profile=False)
start = time.perf_counter()
b2.device.build(directory=directory, compile=True, run=False)
compile_s = time.perf_counter() - start
start = time.perf_counter()
b2.device.run(directory=directory, with_output=False)
run_wall = time.perf_counter() - start
print(json.dumps(dict(rate_e=se.num_spikes / 3200 / duration, rate_i=si.num_spikes / 800 / duration,
                      compile_s=compile_s, run_s=b2.device._last_run_time, run_wall_s=run_wall)))
'''


def cobahh(seeds, threads):
    for seed in seeds:
        summary, wall, _ = neurosim(os.path.join(ROOT, "networks", "cobahh.net"), threads,
                                    [f"seed={seed}"])
        pops = summary["populations"]
        ours = dict(rate_e=pops["E"]["rate_hz"], rate_i=pops["I"]["rate_hz"],
                    run_s=summary["timing"]["run_s"], parse_build_s=summary["timing"]["parse_s"]
                    + summary["timing"]["build_s"], wall_s=wall)
        out = subprocess.run([sys.executable, "-c", BRIAN2_COBAHH, str(seed), str(threads), "1.0"],
                             check=True, capture_output=True, text=True).stdout
        theirs = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(dict(seed=seed, neurosim=ours, brian2=theirs)))
        print(f"seed {seed}: rate E {ours['rate_e']:.2f} vs Brian2 {theirs['rate_e']:.2f} Hz "
              f"({100 * (ours['rate_e'] / theirs['rate_e'] - 1):+.1f} %), I {ours['rate_i']:.2f} vs "
              f"{theirs['rate_i']:.2f} Hz; simulation {ours['run_s']:.3f} s vs Brian2 standalone "
              f"{theirs['run_s']:.3f} s (Brian2 / neurosim = {theirs['run_s'] / ours['run_s']:.2f}; "
              f"Brian2 compile {theirs['compile_s']:.1f} s); whole neurosim process {wall:.3f} s")


TRACE_NET = """
import "{root}/networks/cobahh.net"
network trace : spiking {{
    dt = 0.01 ms
    population N : traub_hh[1]
    record v of N every 0.01 ms
    simulate 100 ms
}}
"""

BRIAN2_TRACE = r'''
import json, sys
import numpy as np
import brian2 as b2
b2.prefs.codegen.target = "numpy"
b2.defaultclock.dt = 0.01 * b2.ms
''' + BRIAN2_HH + r'''P = b2.NeuronGroup(1, model=eqs, threshold="v>-20*mV", refractory=3 * ms, method="exponential_euler")
P.v = El
mon = b2.StateMonitor(P, "v", record=0)
b2.run(100 * ms)
print(json.dumps(dict(t=list(np.asarray(mon.t / ms)), v=list(np.asarray(mon.v[0] / mV)))))
'''


def trace():
    import h5py
    import numpy as np
    work = tempfile.mkdtemp()
    path = os.path.join(work, "trace.net")
    with open(path, "w") as f:
        f.write(TRACE_NET.format(root=ROOT))
    _, _, output = neurosim(path, 1)
    with h5py.File(output, "r") as f:
        ours = np.asarray(f["report/N/v/data"]).ravel()
        ours_t = np.asarray(f["report/N/v/time"])
    out = subprocess.run([sys.executable, "-c", BRIAN2_TRACE], check=True, capture_output=True,
                         text=True).stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    # neurosim stamps a sample with the end of its step, Brian2 with the start: align on time.
    by_time = {round(t, 6): v for t, v in zip(theirs["t"], theirs["v"])}
    pairs = [(v, by_time[round(t, 6)]) for t, v in zip(ours_t, ours) if round(t, 6) in by_time]
    diff = np.abs(np.array([float(a) - b for a, b in pairs]))  # ours are f32
    spikes = lambda v: int(np.sum((np.asarray(v[1:]) > -20) & (np.asarray(v[:-1]) <= -20)))
    print(json.dumps(dict(samples=len(pairs), max_abs_mv=float(diff.max()),
                          mean_abs_mv=float(diff.mean()), spikes_neurosim=spikes(ours),
                          spikes_brian2=spikes(theirs["v"]))))
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", default=["cuba", "cobahh", "trace"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if "cuba" in args.only:
        cuba(args.seeds, args.threads)
    if "cobahh" in args.only:
        cobahh(args.seeds[:1], args.threads)
    if "trace" in args.only:
        trace()


if __name__ == "__main__":
    main()
