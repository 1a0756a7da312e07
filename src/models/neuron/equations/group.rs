//! A user-defined model as the spiking engine runs it: [`UserModel`] builds a group's
//! programs and state, [`UserGroup`] steps them chunk by chunk.
//!
//! State is f64, structure of arrays (one vector per variable): slow variables (an
//! adaptation current with a time constant of seconds, a variable that accumulates) change
//! by less than an f32 ulp per step at `dt = 0.1 ms`, and Brian2 and NEST integrate in
//! double precision too. `read_state` converts to f32 for recording.
//!
//! A step walks the group once, chunk by chunk (`program::LANES` neurons), and does for
//! each chunk what the module documentation lists: the step program (integration), input,
//! threshold, and the reset program where a neuron of the chunk fired. Each phase only
//! reads and writes the chunk's own neurons, so walking chunk by chunk is the same as phase
//! by phase over the group.

use std::ops::Range;

use super::eval::eval_params;
use super::integrate::{self, Plan};
use super::program::{Bind, Builder, Constants, Frame, LANES, Operand, Program, Src};
use super::{AssignOp, BinOp, Channel, Cmp, OnPre, System};
use crate::models::neuron::dynamics::{
    GroupSpec, Input, NeuronGroup, SpikingModel, Values, collect_fired, steps, with_wide_simd,
};
use crate::models::neuron::equations::eval::Op;
use crate::units::Dim;

/// The dynamics of a user-defined model: its checked system and what its method found out
/// about it (or why the method cannot integrate it, reported when a group is built).
#[derive(Debug)]
pub struct UserModel {
    system: System,
    plan: Result<Plan, String>,
    weights: Vec<Dim>,
}

impl UserModel {
    pub fn new(system: System) -> UserModel {
        let plan = integrate::plan(&system, system.method);
        let mut weights = Vec::new();
        for on_pre in &system.on_pre {
            let dim = system.states[on_pre.var].dim;
            if !weights.contains(&dim) {
                weights.push(dim);
            }
        }
        UserModel {
            system,
            plan,
            weights,
        }
    }

    /// The distinct dimensions of the variables synaptic input goes to: the weights the
    /// model takes.
    pub fn weights(&self) -> &[Dim] {
        &self.weights
    }

    pub fn system(&self) -> &System {
        &self.system
    }

    /// Builds the group (the concrete type, for tests that look at f64 state).
    pub fn group(&self, spec: &GroupSpec) -> Result<UserGroup, String> {
        let system = &self.system;
        let plan = self.plan.as_ref().map_err(Clone::clone)?;
        let n = spec.n;
        let dt = spec.dt;
        let mut params = Vec::with_capacity(system.params.len());
        for def in &system.params {
            let values = (spec.param)(&def.name)?;
            if let Values::Each(v) = &values
                && v.len() != n
            {
                return Err(format!(
                    "parameter `{}` has {} values for {n} neurons",
                    def.name,
                    v.len()
                ));
            }
            params.push(values);
        }
        let per_neuron = |expr: &super::Expr, what: &str| -> Result<Vec<f64>, String> {
            (0..n)
                .map(|i| eval_params(expr, &|p| params[p].at(i), dt))
                .collect::<Result<_, _>>()
                .map_err(|why| format!("{what} {why}"))
        };
        let mut state = Vec::with_capacity(system.states.len());
        for def in &system.states {
            state.push(match (spec.initial)(&def.name)? {
                Some(Values::Each(v)) if v.len() != n => {
                    return Err(format!(
                        "state variable `{}` has {} initial values for {n} neurons",
                        def.name,
                        v.len()
                    ));
                }
                Some(values) => (0..n).map(|i| values.at(i)).collect(),
                None => per_neuron(
                    &def.initial,
                    &format!("the initial value of `{}`", def.name),
                )?,
            });
        }
        let refractory_steps = match &system.refractory {
            None => Steps::Same(0),
            Some(expr) => {
                let ms = per_neuron(expr, "the refractory period")?;
                let counts: Vec<i32> = ms.iter().map(|&t| steps(t, dt) as i32).collect();
                if counts.iter().all(|&c| c == counts[0]) {
                    Steps::Same(counts.first().copied().unwrap_or(0))
                } else {
                    Steps::Each(counts)
                }
            }
        };
        let mut builder = Builder::new(&params, n, dt);
        let (step, targets) = integrate::step_program(system, plan, &mut builder);
        let x: Vec<Operand> = (0..system.states.len())
            .map(|i| Operand::State(i as u32))
            .collect();
        // The threshold and reset see the state at the end of the step, and `t` then.
        let t_end = builder.apply(
            Op::Bin(BinOp::Add),
            &[super::program::TIME, Operand::Scalar(dt)],
        );
        let threshold = system.threshold.as_ref().map(|condition| {
            let bind = Bind {
                states: &x,
                time: t_end,
            };
            let left = builder.lower(&condition.left, &bind);
            let right = builder.lower(&condition.right, &bind);
            (
                builder.program(&[(left, None), (right, None)]),
                condition.cmp,
            )
        });
        let reset =
            (!system.reset.is_empty()).then(|| reset_program(system, &mut builder, &x, t_end));
        let constants = builder.finish();
        let n_regs = [
            Some(&step),
            threshold.as_ref().map(|t| &t.0),
            reset.as_ref().map(|r| &r.0),
        ]
        .into_iter()
        .flatten()
        .map(|p| p.n_regs)
        .max()
        .unwrap_or(0);
        Ok(UserGroup {
            n,
            dt,
            state,
            uniforms: vec![0.0; constants.n_uniforms],
            constants,
            step,
            targets,
            threshold,
            reset,
            on_pre: system.on_pre.clone(),
            refractory: vec![0; n],
            refractory_steps,
            flags: vec![0; n],
            regs: vec![vec![0.0; LANES]; n_regs],
            weights: self.weights.clone(),
        })
    }
}

/// The reset as one program: each assignment sees the values the previous ones wrote; the
/// outputs are the final values of the assigned variables.
fn reset_program(
    system: &System,
    b: &mut Builder,
    x: &[Operand],
    t_end: Operand,
) -> (Program, Vec<usize>) {
    let mut current = x.to_vec();
    let mut assigned: Vec<usize> = Vec::new();
    for assign in &system.reset {
        let value = b.lower(
            &assign.value,
            &Bind {
                states: &current,
                time: t_end,
            },
        );
        let old = current[assign.var];
        let op = |op| Op::Bin(op);
        current[assign.var] = match assign.op {
            AssignOp::Set => value,
            AssignOp::Add => b.apply(op(BinOp::Add), &[old, value]),
            AssignOp::Sub => b.apply(op(BinOp::Sub), &[old, value]),
            AssignOp::Mul => b.apply(op(BinOp::Mul), &[old, value]),
            AssignOp::Div => b.apply(op(BinOp::Div), &[old, value]),
        };
        if !assigned.contains(&assign.var) {
            assigned.push(assign.var);
        }
    }
    let outputs: Vec<(Operand, Option<usize>)> =
        assigned.iter().map(|&v| (current[v], Some(v))).collect();
    (b.program(&outputs), assigned)
}

impl SpikingModel for UserModel {
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String> {
        Ok(Box::new(self.group(spec)?))
    }
}

/// Refractory steps after a spike, for the group or per neuron.
#[derive(Debug, Clone)]
enum Steps {
    Same(i32),
    Each(Vec<i32>),
}

/// The state of a group of neurons of a user-defined model.
#[derive(Debug)]
pub struct UserGroup {
    n: usize,
    dt: f64,
    /// `state[var][neuron]`.
    pub(super) state: Vec<Vec<f64>>,
    constants: Constants,
    uniforms: Vec<f64>,
    step: Program,
    /// The variable each output of `step` is written to.
    targets: Vec<usize>,
    threshold: Option<(Program, Cmp)>,
    reset: Option<(Program, Vec<usize>)>,
    on_pre: Vec<OnPre>,
    /// Refractory steps left.
    refractory: Vec<i32>,
    refractory_steps: Steps,
    flags: Vec<u8>,
    regs: Vec<Vec<f64>>,
    weights: Vec<Dim>,
}

/// Writes `values` to `out` (all lanes, or those with a flag).
#[inline(always)]
fn write(out: &mut [f64], values: Src, flags: Option<&[u8]>) {
    match (values, flags) {
        (Src::V(v), None) => out.copy_from_slice(v),
        (Src::S(x), None) => out.fill(x),
        (values, Some(flags)) => {
            for (l, o) in out.iter_mut().enumerate() {
                if flags[l] != 0 {
                    *o = values.at(l);
                }
            }
        }
    }
}

/// `flags[l] = free[l] && cmp(a[l], b[l])`, one loop per comparison and operand kind.
#[inline(always)]
fn threshold(flags: &mut [u8], refractory: &[i32], a: Src, b: Src, cmp: Cmp) {
    #[inline(always)]
    fn lanes(flags: &mut [u8], refractory: &[i32], a: Src, b: Src, f: impl Fn(f64, f64) -> bool) {
        let refractory = &refractory[..flags.len()];
        match (a, b) {
            (Src::V(a), Src::S(y)) => {
                let a = &a[..flags.len()];
                for l in 0..flags.len() {
                    flags[l] = ((refractory[l] <= 0) & f(a[l], y)) as u8;
                }
            }
            (a, b) => {
                for l in 0..flags.len() {
                    flags[l] = ((refractory[l] <= 0) & f(a.at(l), b.at(l))) as u8;
                }
            }
        }
    }
    match cmp {
        Cmp::Greater => lanes(flags, refractory, a, b, |x, y| x > y),
        Cmp::GreaterEqual => lanes(flags, refractory, a, b, |x, y| x >= y),
        Cmp::Less => lanes(flags, refractory, a, b, |x, y| x < y),
        Cmp::LessEqual => lanes(flags, refractory, a, b, |x, y| x <= y),
    }
}

impl UserGroup {
    /// One step of the neurons `start..start + len`.
    #[inline(always)]
    fn chunk(&mut self, start: usize, len: usize, input: &mut Input<'_>) {
        let range = start..start + len;
        let UserGroup {
            state,
            constants,
            uniforms,
            step,
            targets,
            threshold: condition,
            reset,
            on_pre,
            refractory,
            refractory_steps,
            flags,
            regs,
            ..
        } = self;
        let (columns, uniforms) = (&constants.columns[..], &uniforms[..]);
        // Integration: the outputs are in registers or constants, never in the state, so
        // they can be written in any order.
        step.run(
            &Frame::new(state, columns, uniforms, refractory, start, len),
            regs,
        );
        let results = Frame::new(&[], columns, uniforms, refractory, start, len);
        for (&o, &var) in step.outputs.iter().zip(targets.iter()) {
            write(&mut state[var][range.clone()], results.src(regs, o), None);
        }
        // Synaptic input of the step, then the buffers are cleared.
        for on_pre in on_pre.iter() {
            let arriving = match on_pre.channel {
                Channel::Excitatory => &input.excitatory[range.clone()],
                Channel::Inhibitory => &input.inhibitory[range.clone()],
            };
            let x = &mut state[on_pre.var][range.clone()];
            if on_pre.negate {
                x.iter_mut()
                    .zip(arriving)
                    .for_each(|(x, &w)| *x -= w as f64);
            } else {
                x.iter_mut()
                    .zip(arriving)
                    .for_each(|(x, &w)| *x += w as f64);
            }
        }
        input.excitatory[range.clone()].fill(0.0);
        input.inhibitory[range.clone()].fill(0.0);
        // Threshold, on neurons that are not refractory.
        let flags = &mut flags[range.clone()];
        let Some((program, cmp)) = condition else {
            flags.fill(0);
            refractory[range]
                .iter_mut()
                .for_each(|r| *r = (*r - 1).max(0));
            return;
        };
        let here = Frame::new(state, columns, uniforms, refractory, start, len);
        program.run(&here, regs);
        let (left, right) = (
            here.src(regs, program.outputs[0]),
            here.src(regs, program.outputs[1]),
        );
        threshold(flags, here.refractory, left, right, *cmp);
        let left_steps = &mut refractory[range.clone()];
        match refractory_steps {
            Steps::Same(s) => {
                let s = *s;
                for (r, &f) in left_steps.iter_mut().zip(flags.iter()) {
                    *r = if f != 0 { s } else { (*r - 1).max(0) };
                }
            }
            Steps::Each(s) => {
                let s = &s[range.clone()];
                for ((r, &f), &s) in left_steps.iter_mut().zip(flags.iter()).zip(s) {
                    *r = if f != 0 { s } else { (*r - 1).max(0) };
                }
            }
        }
        if flags.iter().all(|&f| f == 0) {
            return;
        }
        // Reset of the neurons that fired (their outputs are never in the state either).
        let Some((program, vars)) = reset else { return };
        program.run(
            &Frame::new(state, columns, uniforms, refractory, start, len),
            regs,
        );
        let results = Frame::new(&[], columns, uniforms, refractory, start, len);
        for (&o, &var) in program.outputs.iter().zip(vars.iter()) {
            if o != Operand::State(var as u32) {
                write(
                    &mut state[var][range.clone()],
                    results.src(regs, o),
                    Some(flags),
                );
            }
        }
    }
}

impl NeuronGroup for UserGroup {
    fn step(&mut self, step: u64, mut input: Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        self.constants
            .uniforms(step as f64 * self.dt, &mut self.uniforms);
        let n = self.n;
        with_wide_simd(
            #[inline(always)]
            || {
                for start in (0..n).step_by(LANES) {
                    self.chunk(start, LANES.min(n - start), &mut input);
                }
            },
        );
        collect_fired(&self.flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, _: usize) -> Option<f32> {
        self.weights.contains(&dim).then_some(1.0)
    }

    fn read_state(&self, var: usize, range: Range<usize>, out: &mut Vec<f32>) {
        if let Some(values) = self.state.get(var) {
            out.extend(values[range].iter().map(|&x| x as f32));
        }
    }
}
