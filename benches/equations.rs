//! Criterion benchmark of user-defined neuron models against the built-in `lif`: 100,000
//! neurons for 1,000 steps of 0.1 ms, the same input (every seventh neuron, rotating, gets
//! an excitatory current kick each step), one group on one thread, building excluded.
//! Throughput is in neuron-steps, so 1000 / (Melem/s) is ns per neuron and step.
//!
//! The user-defined LIF is PyNN's `IF_curr_exp` written as equations (as the language would
//! lower `dv/dt = (v_rest - v)/tau_m + (i_e + i_i + i_offset)/cm` …), integrated by
//! `exact`, and for comparison by `euler` and `rk4`. An HH neuron (Brian2's COBAHH) with
//! `exponential_euler` shows the cost of transcendental-heavy equations.
//!
//! `cuba_3200_2000_steps` steps the neuron of `networks/cuba.net` (3,200 neurons, E's size)
//! as the built-in `lif` and as `networks/cuba_equations.net`'s `cuba_cell` with `exact`,
//! and once more with its parameters given per neuron (the propagator is then per-neuron
//! columns, run as multiply-add instructions instead of rows computed by the writes); it
//! then times the three alternately, 15 rounds, and prints the median ratios to the built-in.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use neurosim::models::neuron::dynamics::{GroupSpec, Input, NeuronGroup, Values};
use neurosim::models::neuron::equations::{
    Assign, AssignOp, BinOp, Cmp, Condition, Expr, Func, Method, OnPre, ParamDef, StateDef, System,
    info,
};
use neurosim::models::neuron::{NeuronInfo, lif};
use neurosim::units::Dim;
use rand::SeedableRng;
use std::time::Instant;

const NEURONS: usize = 100_000;
const STEPS: usize = 1_000;

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Binary(op, Box::new(a), Box::new(b))
}
fn add(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Add, a, b)
}
fn sub(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Sub, a, b)
}
fn mul(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Mul, a, b)
}
fn div(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Div, a, b)
}
fn num(x: f64) -> Expr {
    Expr::Number(x)
}
fn call(f: Func, a: Expr) -> Expr {
    Expr::Call(f, vec![a])
}

fn param(name: &str, dim: Dim, default: f64) -> ParamDef {
    ParamDef {
        name: name.into(),
        dim,
        default,
    }
}

fn state(name: &str, dim: Dim, initial: Expr) -> StateDef {
    StateDef {
        name: name.into(),
        dim,
        initial,
    }
}

/// `IF_curr_exp` with the built-in `lif`'s defaults, currents in pA.
fn user_lif(method: Method) -> System {
    let p = Expr::Param;
    let (tau_m, cm, v_rest, v_reset, v_thresh, tau_refrac, tau_e, tau_i, i_offset) =
        (p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8));
    let (v, i_e, i_i) = (Expr::State(0), Expr::State(1), Expr::State(2));
    System {
        name: "user_lif".into(),
        params: vec![
            param("tau_m", Dim::TIME, 20.0),
            param("cm", Dim::CAPACITANCE, 1000.0),
            param("v_rest", Dim::VOLTAGE, -65.0),
            param("v_reset", Dim::VOLTAGE, -65.0),
            param("v_thresh", Dim::VOLTAGE, -50.0),
            param("tau_refrac", Dim::TIME, 0.1),
            param("tau_syn_e", Dim::TIME, 5.0),
            param("tau_syn_i", Dim::TIME, 5.0),
            param("i_offset", Dim::CURRENT, 0.0),
        ],
        states: vec![
            state("v", Dim::VOLTAGE, v_rest.clone()),
            state("i_e", Dim::CURRENT, num(0.0)),
            state("i_i", Dim::CURRENT, num(0.0)),
        ],
        derivatives: vec![
            Some(add(
                div(sub(v_rest, v.clone()), tau_m),
                div(add(add(i_e.clone(), i_i.clone()), i_offset), cm),
            )),
            Some(div(Expr::Neg(Box::new(i_e)), tau_e)),
            Some(div(Expr::Neg(Box::new(i_i)), tau_i)),
        ],
        threshold: Some(Condition {
            left: v,
            cmp: Cmp::GreaterEqual,
            right: v_thresh,
        }),
        reset: vec![Assign {
            var: 0,
            op: AssignOp::Set,
            value: v_reset,
        }],
        refractory: Some(tau_refrac),
        clamped: vec![0],
        receptors: vec!["excitatory".into(), "inhibitory".into()],
        on_pre: vec![
            OnPre {
                receptor: 0,
                var: 1,
                negate: false,
            },
            OnPre {
                receptor: 1,
                var: 2,
                negate: false,
            },
        ],
        noises: Vec::new(),
        method,
    }
}

/// Brian2's COBAHH neuron (areas multiplied out), exponential Euler.
fn user_hh() -> System {
    let p = Expr::Param;
    let (cm, gl, el, ek, ena, g_na, g_kd, vt, ee, ei, taue, taui) = (
        p(0),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        p(9),
        p(10),
        p(11),
    );
    let s = Expr::State;
    let (v, m, n, h, ge, gi) = (s(0), s(1), s(2), s(3), s(4), s(5));
    let shifted = |offset: f64, sign: f64, scale: f64| {
        // (offset + sign·(v - vt)) / scale
        div(
            add(num(offset), mul(num(sign), sub(v.clone(), vt.clone()))),
            num(scale),
        )
    };
    let alpha_m = div(
        num(0.32 * 4.0),
        call(Func::Exprel, shifted(13.0, -1.0, 4.0)),
    );
    let beta_m = div(
        num(0.28 * 5.0),
        call(Func::Exprel, shifted(-40.0, 1.0, 5.0)),
    );
    let alpha_h = mul(num(0.128), call(Func::Exp, shifted(17.0, -1.0, 18.0)));
    let beta_h = div(
        num(4.0),
        add(num(1.0), call(Func::Exp, shifted(40.0, -1.0, 5.0))),
    );
    let alpha_n = div(
        num(0.032 * 5.0),
        call(Func::Exprel, shifted(15.0, -1.0, 5.0)),
    );
    let beta_n = mul(num(0.5), call(Func::Exp, shifted(10.0, -1.0, 40.0)));
    let gate = |x: &Expr, alpha: Expr, beta: Expr| {
        sub(mul(alpha, sub(num(1.0), x.clone())), mul(beta, x.clone()))
    };
    let m3 = Expr::Call(Func::Pow, vec![m.clone(), num(3.0)]);
    let n4 = Expr::Call(Func::Pow, vec![n.clone(), num(4.0)]);
    let dv = div(
        sub(
            sub(
                add(
                    add(
                        mul(gl.clone(), sub(el.clone(), v.clone())),
                        mul(ge.clone(), sub(ee, v.clone())),
                    ),
                    mul(gi.clone(), sub(ei, v.clone())),
                ),
                mul(mul(mul(g_na, m3), h.clone()), sub(v.clone(), ena)),
            ),
            mul(mul(g_kd, n4), sub(v.clone(), ek)),
        ),
        cm,
    );
    let area = 20_000e-8;
    System {
        name: "user_hh".into(),
        params: vec![
            param("cm", Dim::CAPACITANCE, 1e-6 * area * 1e12),
            param("gl", Dim::CONDUCTANCE, 5e-5 * area * 1e9),
            param("el", Dim::VOLTAGE, -60.0),
            param("ek", Dim::VOLTAGE, -90.0),
            param("ena", Dim::VOLTAGE, 50.0),
            param("g_na", Dim::CONDUCTANCE, 100e-3 * area * 1e9),
            param("g_kd", Dim::CONDUCTANCE, 30e-3 * area * 1e9),
            param("vt", Dim::VOLTAGE, -63.0),
            param("ee", Dim::VOLTAGE, 0.0),
            param("ei", Dim::VOLTAGE, -80.0),
            param("taue", Dim::TIME, 5.0),
            param("taui", Dim::TIME, 10.0),
        ],
        states: vec![
            state("v", Dim::VOLTAGE, el),
            state("m", Dim::NONE, num(0.0)),
            state("n", Dim::NONE, num(0.0)),
            state("h", Dim::NONE, num(1.0)),
            state("ge", Dim::CONDUCTANCE, num(0.0)),
            state("gi", Dim::CONDUCTANCE, num(0.0)),
        ],
        derivatives: vec![
            Some(dv),
            Some(gate(&m, alpha_m, beta_m)),
            Some(gate(&n, alpha_n, beta_n)),
            Some(gate(&h, alpha_h, beta_h)),
            Some(div(Expr::Neg(Box::new(ge)), taue)),
            Some(div(Expr::Neg(Box::new(gi)), taui)),
        ],
        threshold: Some(Condition {
            left: v,
            cmp: Cmp::Greater,
            right: num(-20.0),
        }),
        reset: Vec::new(),
        refractory: Some(num(3.0)),
        clamped: Vec::new(),
        receptors: vec!["excitatory".into(), "inhibitory".into()],
        on_pre: vec![
            OnPre {
                receptor: 0,
                var: 4,
                negate: false,
            },
            OnPre {
                receptor: 1,
                var: 5,
                negate: false,
            },
        ],
        noises: Vec::new(),
        method: Method::ExponentialEuler,
    }
}

/// `cuba_cell` of `networks/cuba_equations.net`: CUBA's neuron with its synaptic
/// variables in mV.
fn cuba_cell() -> System {
    let p = Expr::Param;
    let (tau_m, v_rest, v_thresh, v_reset, tau_e, tau_i) = (p(0), p(1), p(2), p(3), p(4), p(5));
    let (v, g_e, g_i) = (Expr::State(0), Expr::State(1), Expr::State(2));
    System {
        name: "cuba_cell".into(),
        params: vec![
            param("tau_m", Dim::TIME, 20.0),
            param("v_rest", Dim::VOLTAGE, -49.0),
            param("v_thresh", Dim::VOLTAGE, -50.0),
            param("v_reset", Dim::VOLTAGE, -60.0),
            param("tau_e", Dim::TIME, 5.0),
            param("tau_i", Dim::TIME, 10.0),
        ],
        states: vec![
            state("v", Dim::VOLTAGE, v_reset.clone()),
            state("g_e", Dim::VOLTAGE, num(0.0)),
            state("g_i", Dim::VOLTAGE, num(0.0)),
        ],
        derivatives: vec![
            Some(div(
                add(add(sub(v_rest, v.clone()), g_e.clone()), g_i.clone()),
                tau_m,
            )),
            Some(div(Expr::Neg(Box::new(g_e)), tau_e)),
            Some(div(Expr::Neg(Box::new(g_i)), tau_i)),
        ],
        threshold: Some(Condition {
            left: v,
            cmp: Cmp::Greater,
            right: v_thresh,
        }),
        reset: vec![Assign {
            var: 0,
            op: AssignOp::Set,
            value: v_reset,
        }],
        refractory: Some(num(5.0)),
        clamped: vec![0],
        receptors: vec!["excitatory".into(), "inhibitory".into()],
        on_pre: vec![
            OnPre {
                receptor: 0,
                var: 1,
                negate: false,
            },
            OnPre {
                receptor: 1,
                var: 2,
                negate: false,
            },
        ],
        noises: Vec::new(),
        method: Method::Exact,
    }
}

/// Builds a group for a run.
type Make<'a> = &'a dyn Fn() -> Box<dyn NeuronGroup>;

fn build(info: &NeuronInfo, n: usize, overrides: &[(&str, f64)]) -> Box<dyn NeuronGroup> {
    build_with(info, n, overrides, Values::Same)
}

/// `build`, each parameter's value made into `Values` by `values`.
fn build_with(
    info: &NeuronInfo,
    n: usize,
    overrides: &[(&str, f64)],
    values: impl Fn(f64) -> Values,
) -> Box<dyn NeuronGroup> {
    let param = |name: &str| -> Result<Values, String> {
        if let Some((_, x)) = overrides.iter().find(|(o, _)| *o == name) {
            return Ok(values(*x));
        }
        let spec = info
            .params
            .iter()
            .find(|p| p.name == name)
            .ok_or("no such")?;
        Ok(values(spec.default_number().unwrap_or(0.0)))
    };
    let initial = |_: &str| -> Result<Option<Values>, String> { Ok(None) };
    let stream = |_: usize| rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
    let spec = GroupSpec {
        n,
        dt: 0.1,
        param: &param,
        initial: &initial,
        list: &|_| None,
        course: &|_| None,
        neuron_stream: &stream,
        noise_stream: &stream,
    };
    info.dynamics()
        .expect("spiking")
        .build(&spec)
        .expect("builds")
}

/// Steps `group` (`n` neurons) `steps` times: every seventh neuron, rotating, gets a kick
/// of `kick` (in the group's internal unit, as the engine would scale it) each step.
fn run(mut group: Box<dyn NeuronGroup>, n: usize, steps: usize, kick: f32) -> usize {
    // Excitatory, then inhibitory input.
    let mut input = vec![0f32; 2 * n];
    let mut fired = Vec::new();
    let mut total = 0;
    for s in 0..steps {
        for i in (s % 7..n).step_by(7) {
            input[i] = kick;
        }
        fired.clear();
        group.step(s as u64, Input::new(&mut input, n), 0, &mut fired);
        total += fired.len();
    }
    total
}

fn lif_against_user_defined(c: &mut Criterion) {
    let mut group = c.benchmark_group("lif_100k_1000_steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements((NEURONS * STEPS) as u64));
    // A drive that makes the neurons fire (v_inf = -51 mV, kicks of 300 pA).
    let drive = [("i_offset", 700.0), ("tau_refrac", 2.0)];
    // The built-in holds its synaptic variables in mV: a current weight arrives scaled by
    // tau_m/cm, as the engine's weight_factor says.
    let builtin_kick = 300.0 * 20.0 / 1000.0;
    group.bench_function("builtin_lif", |b| {
        b.iter_batched(
            || build(&lif::INFO, NEURONS, &drive),
            |g| run(g, NEURONS, STEPS, builtin_kick),
            BatchSize::LargeInput,
        )
    });
    for method in [Method::Exact, Method::Euler, Method::Rk4] {
        let entry = info(user_lif(method));
        group.bench_function(format!("user_lif_{}", method.name()), |b| {
            b.iter_batched(
                || build(entry, NEURONS, &drive),
                |g| run(g, NEURONS, STEPS, 300.0),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
    let mut group = c.benchmark_group("hh_10k_1000_steps");
    group.sample_size(10);
    let n = 10_000;
    group.throughput(Throughput::Elements((n * STEPS) as u64));
    let entry = info(user_hh());
    group.bench_function("user_hh_exponential_euler", |b| {
        b.iter_batched(
            || build(entry, n, &[]),
            |g| run(g, n, STEPS, 5.0),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// CUBA's neuron as the built-in and as equations, side by side (see the module docs).
fn cuba_neuron(c: &mut Criterion) {
    let (n, steps) = (3_200, 2_000);
    let lif_params = [
        ("tau_m", 20.0),
        ("v_rest", -49.0),
        ("v_thresh", -50.0),
        ("v_reset", -60.0),
        ("tau_refrac", 5.0),
        ("tau_syn_e", 5.0),
        ("tau_syn_i", 10.0),
    ];
    let entry = info(cuba_cell());
    let each = move |x: f64| Values::Each(vec![x; n]);
    // A CUBA excitatory weight in mV (both take voltages as they are).
    let kick = 60.0 * 0.27 / 10.0;
    let builtin = || build(&lif::INFO, n, &lif_params);
    let rows = || build(entry, n, &[]);
    let columns = || build_with(entry, n, &[], each);
    let candidates: [(&str, Make); 3] = [
        ("builtin_lif", &builtin),
        ("cuba_cell_exact", &rows),
        ("cuba_cell_exact_per_neuron", &columns),
    ];
    let mut group = c.benchmark_group("cuba_3200_2000_steps");
    group.sample_size(20);
    group.throughput(Throughput::Elements((n * steps) as u64));
    for (name, make) in candidates {
        group.bench_function(name, |b| {
            b.iter_batched(make, |g| run(g, n, steps, kick), BatchSize::LargeInput)
        });
    }
    group.finish();
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..15 {
        for ((_, make), times) in candidates.iter().zip(&mut times) {
            let g = make();
            let start = Instant::now();
            std::hint::black_box(run(g, n, steps, kick));
            times.push(start.elapsed().as_secs_f64());
        }
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let [a, b, c] = times.map(|mut t| median(&mut t));
    let ns = |t: f64| t * 1e9 / (n * steps) as f64;
    println!(
        "cuba neuron, medians of 15 alternating runs: built-in {:.3} ns, equations {:.3} ns \
         ({:.2}x), equations with per-neuron parameters {:.3} ns ({:.2}x) per neuron and step",
        ns(a),
        ns(b),
        b / a,
        ns(c),
        c / a
    );
}

criterion_group!(benches, lif_against_user_defined, cuba_neuron);
criterion_main!(benches);
