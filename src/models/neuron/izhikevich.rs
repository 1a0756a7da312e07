//! `izhikevich`: the Izhikevich (2003) simple model (PyNN `Izhikevich`, NEST `izhikevich`).
//!
//! ```text
//! dv/dt = 0.04 v² + 5 v + 140 - u + I        (v in mV, t in ms)
//! du/dt = a (b v - u)
//! v >= 30 mV  =>  spike, v = c, u = u + d
//! ```
//! `I` is `i_offset` plus synaptic input. As in NEST, a current of 1 pA enters the equation
//! as 1 mV/ms (an implicit 1 pF capacitance), and a synaptic `weight` given as a voltage
//! jumps `v` directly. Reference: Izhikevich, IEEE Trans. Neural Netw. 14:1569 (2003).
//!
//! | parameter | default | unit |
//! |---|---|---|
//! | `a` | 0.02 | 1/ms |
//! | `b` | 0.2 | 1/ms |
//! | `c` | -65 | mV |
//! | `d` | 2 | mV/ms |
//! | `i_offset` | 0 | pA |

use super::{NeuronInfo, StateSpec, dynamics};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element("a", Dim::FREQUENCY, 0.02, Range::Any, "recovery time scale"),
    ParamSpec::per_element(
        "b",
        Dim::FREQUENCY,
        0.2,
        Range::Any,
        "sensitivity of u to v",
    ),
    ParamSpec::per_element("c", Dim::VOLTAGE, -65.0, Range::Any, "reset potential"),
    ParamSpec::per_element(
        "d",
        Dim::VOLTAGE_RATE,
        2.0,
        Range::Any,
        "after-spike increment of u",
    ),
    ParamSpec::per_element(
        "i_offset",
        Dim::CURRENT,
        0.0,
        Range::Any,
        "constant injected current",
    ),
];

pub static STATE: &[StateSpec] = &[
    StateSpec {
        name: "v",
        dim: Dim::VOLTAGE,
        doc: "membrane potential (initial value default: -70 mV)",
    },
    StateSpec {
        name: "u",
        dim: Dim::VOLTAGE_RATE,
        doc: "recovery variable (initial value default: b·v)",
    },
];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "izhikevich",
    "Izhikevich (2003) quadratic model with recovery variable",
    PARAMS,
    STATE,
    &[Dim::VOLTAGE],
    &["i_offset"],
    &DYNAMICS,
);

/// The `izhikevich` dynamics, integrated as NEST's `izhikevich` (`consistent_integration`):
/// forward Euler at `dt` with both right-hand sides evaluated at the old state,
///
/// ```text
/// v ← v + dt·(0.04 v² + 5 v + 140 - u + i_offset) + (voltage jumps arriving this step)
/// u ← u + dt·a·(b v_old - u)
/// v >= 30 mV  =>  spike, v ← c, u ← u + d
/// ```
///
/// Unlike the other models, synaptic input jumps `v` in the step it arrives, before the
/// threshold test (as NEST does). There is no refractory period.
pub struct Izhikevich;

pub static DYNAMICS: Izhikevich = Izhikevich;

/// Spike cut-off of the model (NEST's `V_th`).
const V_PEAK: f32 = 30.0;

#[derive(Debug, Clone, Copy)]
struct Coefficients {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    i_offset: f32,
}

struct IzhikevichGroup<C> {
    coefficients: C,
    /// A time course of `i_offset`.
    drive: Option<dynamics::Drive>,
    dt: f32,
    v: Vec<f32>,
    u: Vec<f32>,
    fired: Vec<u8>,
}

impl dynamics::SpikingModel for Izhikevich {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let p = |name: &str| (spec.param)(name);
        let (a, b, c, d, i_offset) = (p("a")?, p("b")?, p("c")?, p("d")?, p("i_offset")?);
        let at = |i: usize| Coefficients {
            a: a.at(i) as f32,
            b: b.at(i) as f32,
            c: c.at(i) as f32,
            d: d.at(i) as f32,
            i_offset: i_offset.at(i) as f32,
        };
        let n = spec.n;
        let v: Vec<f32> = match (spec.initial)("v")? {
            Some(values) => values.to_f32(n),
            None => vec![-70.0; n],
        };
        let u: Vec<f32> = match (spec.initial)("u")? {
            Some(values) => values.to_f32(n),
            None => (0..n).map(|i| b.at(i) as f32 * v[i]).collect(),
        };
        let dt = spec.dt as f32;
        let drive = dynamics::Drive::of(spec, "i_offset");
        fn group<C: dynamics::Coefficients<Coefficients>>(
            coefficients: C,
            drive: Option<dynamics::Drive>,
            dt: f32,
            v: Vec<f32>,
            u: Vec<f32>,
        ) -> Box<dyn dynamics::NeuronGroup> {
            let n = v.len();
            Box::new(IzhikevichGroup {
                coefficients,
                drive,
                dt,
                v,
                u,
                fired: vec![0; n],
            })
        }
        if dynamics::all_same(&[&a, &b, &c, &d, &i_offset]) {
            Ok(group(dynamics::Uniform(at(0)), drive, dt, v, u))
        } else {
            Ok(group((0..n).map(at).collect::<Vec<_>>(), drive, dt, v, u))
        }
    }
}

impl<C: dynamics::Coefficients<Coefficients>> dynamics::NeuronGroup for IzhikevichGroup<C> {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        if let Some(current) = self.drive.as_mut().and_then(|d| d.changed(step)) {
            self.coefficients
                .update(&|_, c| c.i_offset = current as f32);
        }
        let n = self.v.len();
        let h = self.dt;
        let (v, u, flags) = (&mut self.v[..n], &mut self.u[..n], &mut self.fired[..n]);
        let (exc, inh) = input.excitatory_inhibitory();
        let (exc, inh) = (&mut exc[..n], &mut inh[..n]);
        let coefficients = &self.coefficients;
        dynamics::with_wide_simd(
            #[inline(always)]
            || {
                for i in 0..n {
                    let k = coefficients.at(i);
                    let (v_old, u_old) = (v[i], u[i]);
                    let v_new = v_old
                        + h * (0.04 * v_old * v_old + 5.0 * v_old + 140.0 - u_old + k.i_offset)
                        + exc[i]
                        + inh[i];
                    let u_new = u_old + h * k.a * (k.b * v_old - u_old);
                    exc[i] = 0.0;
                    inh[i] = 0.0;
                    let fire = v_new >= V_PEAK;
                    v[i] = if fire { k.c } else { v_new };
                    u[i] = if fire { u_new + k.d } else { u_new };
                    flags[i] = fire as u8;
                }
            },
        );
        dynamics::collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, _: usize) -> Option<f32> {
        (dim == Dim::VOLTAGE).then_some(1.0)
    }

    fn read_state(&self, var: usize, range: std::ops::Range<usize>, out: &mut Vec<f32>) {
        let values = match var {
            0 => &self.v,
            1 => &self.u,
            _ => return,
        };
        out.extend_from_slice(&values[range]);
    }
}
