//! A user-defined model as the spiking engine runs it: [`UserModel`] builds a group's
//! programs and state, [`UserGroup`] steps them chunk by chunk.
//!
//! State is f64, structure of arrays (one vector per variable): the increment of a slow
//! variable (an adaptation current with a time constant of seconds, a variable that
//! accumulates) can be a few f32 ulps or less per step at `dt = 0.1 ms`, so f32 state would
//! lose or bias it; Brian2 and NEST integrate in double precision too. `read_state`
//! converts to f32 for recording.
//!
//! A step walks the group once, chunk by chunk (`program::LANES` neurons), and does for
//! each chunk what the module documentation lists: the step program (integration); one pass
//! per changed variable writing its new value (held while refractory where clamped, the
//! last product computed there) plus the synaptic input; the threshold with the refractory
//! count; and the reset program where a neuron of the chunk fired. Each phase only reads and
//! writes the chunk's own neurons, so walking chunk by chunk is the same as phase by phase
//! over the group.
//!
//! White noise: the state holds one row per noise after the variables; at the start of a
//! chunk each of its neurons draws a standard normal per noise from its own stream (the
//! noises in order) and stores it divided by `sqrt(dt)`, which the step program reads like
//! a variable that no stage changes (`integrate.rs`). A neuron's stream is its own, so its
//! draws do not depend on the chunk, the group or the thread that steps it.

use std::ops::Range;

use rand_distr::{Distribution as _, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::eval::{Op, eval_params};
use super::integrate::{self, Plan};
use super::program::{
    Bind, Builder, Constants, Frame, Fused, LANES, Lane, Operand, Program, Row, Splat, Src,
};
use super::{AssignOp, BinOp, Cmp, System};
use crate::models::neuron::dynamics::{
    GroupSpec, Input, NeuronGroup, SpikingModel, Values, collect_fired, steps, with_wide_simd,
};
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
        // The noise rows, read by the step program after the variables.
        let n_noises = system.noises.len();
        state.extend((0..n_noises).map(|_| vec![0.0; n]));
        let noise = Noise {
            streams: if n_noises == 0 {
                Vec::new()
            } else {
                (0..n).map(|i| (spec.noise_stream)(i)).collect()
            },
            first_row: system.states.len(),
            scale: 1.0 / dt.sqrt(),
        };
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
        // The step reads them through its frame; threshold and reset run without (`chunk`).
        debug_assert!(
            threshold
                .iter()
                .map(|t| &t.0)
                .chain(reset.iter().map(|r| &r.0))
                .all(|p| !p.reads_refractory())
        );
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
        let writes = writes(system, &step, &targets);
        Ok(UserGroup {
            n,
            dt,
            state_names: system.states.iter().map(|s| s.name.clone()).collect(),
            state,
            uniforms: vec![0.0; constants.n_uniforms],
            constants,
            step,
            writes,
            threshold,
            reset,
            refractory: vec![0; n],
            refractory_steps,
            flags: vec![0; n],
            regs: vec![vec![0.0; LANES]; n_regs],
            weights: self.weights.clone(),
            noise,
        })
    }
}

/// What the end of the integration writes to each variable it changes: the step program's
/// output (if any) and the synaptic input (with its sign).
fn writes(system: &System, step: &Program, targets: &[usize]) -> Vec<Write> {
    let mut writes: Vec<Write> = Vec::new();
    for var in 0..system.states.len() {
        let output = targets
            .iter()
            .position(|&t| t == var)
            .map(|k| {
                let value = match step.fused[k] {
                    Some(Fused::Op(op, args)) => Value::Fused(op, args),
                    Some(Fused::Row(row)) => Value::Row(row),
                    None => Value::Operand(step.outputs[k]),
                };
                (value, step.held[k])
            })
            .filter(|(v, _)| *v != Value::Operand(Operand::State(var as u32)));
        let inputs: Vec<(usize, f64)> = system
            .on_pre
            .iter()
            .filter(|p| p.var == var)
            .map(|p| (p.receptor, if p.negate { -1.0 } else { 1.0 }))
            .collect();
        if output.is_some() || !inputs.is_empty() {
            writes.push(Write {
                var,
                output,
                inputs,
            });
        }
    }
    writes
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

/// The end of a step for one variable: `x ← output (held while refractory, if so marked) +
/// Σ sign·input`.
#[derive(Debug, Clone)]
struct Write {
    var: usize,
    output: Option<(Value, bool)>,
    /// (input channel, sign).
    inputs: Vec<(usize, f64)>,
}

/// A step program's output as its write sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Operand(Operand),
    /// `a·b` (`Mul`) or `a·b + c` (`MulAdd`), computed by the write.
    Fused(Op, [Operand; 3]),
    /// A whole row of the propagator, computed by the write.
    Row(Row),
}

/// The white noise of a group: one stream per neuron (none without noise).
#[derive(Debug)]
struct Noise {
    streams: Vec<Xoshiro256PlusPlus>,
    /// The state row of the first noise.
    first_row: usize,
    /// `1/sqrt(dt)`: a standard normal times this is `xi` over one step.
    scale: f64,
}

impl Noise {
    /// Draws the noise of the step for neurons `range` into their rows of `state`.
    #[inline(always)]
    fn draw(&mut self, state: &mut [Vec<f64>], range: Range<usize>) {
        let rows = &mut state[self.first_row..];
        if rows.is_empty() {
            return;
        }
        for (i, stream) in range.clone().zip(&mut self.streams[range]) {
            for row in rows.iter_mut() {
                let z: f64 = StandardNormal.sample(stream);
                row[i] = z * self.scale;
            }
        }
    }
}

/// The state of a group of neurons of a user-defined model.
#[derive(Debug)]
pub struct UserGroup {
    n: usize,
    dt: f64,
    /// `state[var][neuron]`, then the noise of the step (`state[first_row + k]`).
    pub(super) state: Vec<Vec<f64>>,
    /// The names of `state`'s variables, for `diverged`.
    state_names: Vec<String>,
    constants: Constants,
    uniforms: Vec<f64>,
    step: Program,
    writes: Vec<Write>,
    threshold: Option<(Program, Cmp)>,
    reset: Option<(Program, Vec<usize>)>,
    /// Refractory steps left.
    refractory: Vec<i32>,
    refractory_steps: Steps,
    flags: Vec<u8>,
    regs: Vec<Vec<f64>>,
    weights: Vec<Dim>,
    noise: Noise,
}

/// Writes `values` where `flags` is set (the reset of the neurons that fired).
#[inline(always)]
fn write_fired(out: &mut [f64], values: Src, flags: &[u8]) {
    for (l, (o, &f)) in out.iter_mut().zip(flags).enumerate() {
        if f != 0 {
            *o = values.at(l);
        }
    }
}

/// A lane of an operand of a write: a vector, one number, the variable's value before the
/// write, or a product (plus a term) of those.
trait Term: Copy {
    fn get(self, l: usize, old: f64) -> f64;
}

impl Term for &[f64] {
    #[inline(always)]
    fn get(self, l: usize, _: f64) -> f64 {
        self[l]
    }
}

impl Term for Splat {
    #[inline(always)]
    fn get(self, _: usize, _: f64) -> f64 {
        self.0
    }
}

/// The variable's own value before the write.
#[derive(Clone, Copy)]
struct Old;

impl Term for Old {
    #[inline(always)]
    fn get(self, _: usize, old: f64) -> f64 {
        old
    }
}

/// `a·b`.
#[derive(Clone, Copy)]
struct Product<A, B>(A, B);

impl<A: Term, B: Term> Term for Product<A, B> {
    #[inline(always)]
    fn get(self, l: usize, old: f64) -> f64 {
        self.0.get(l, old) * self.1.get(l, old)
    }
}

/// `a·b + c` (two roundings, as `MulAdd`).
#[derive(Clone, Copy)]
struct ProductSum<A, B, C>(A, B, C);

impl<A: Term, B: Term, C: Term> Term for ProductSum<A, B, C> {
    #[inline(always)]
    fn get(self, l: usize, old: f64) -> f64 {
        self.0.get(l, old) * self.1.get(l, old) + self.2.get(l, old)
    }
}

/// An operand of a write, resolved for the chunk.
#[derive(Clone, Copy)]
enum Arg<'a> {
    V(&'a [f64]),
    S(f64),
    Old,
}

/// `x[l] ← new[l] (x[l] where refractory, if `held`) + Σ sign·input[l]`, one loop.
#[inline(always)]
fn write_lanes<V: Term, const K: usize>(
    x: &mut [f64],
    new: V,
    held: bool,
    free: &[i32],
    inputs: [(&[f32], f64); K],
) {
    let n = x.len();
    let free = &free[..n];
    let inputs = inputs.map(|(w, sign)| (&w[..n], sign));
    for l in 0..n {
        // A select, not a branch, so that the loop vectorises.
        let old = x[l];
        let new = new.get(l, old);
        let mut value = if held && free[l] > 0 { old } else { new };
        for (w, sign) in inputs {
            value += sign * w[l] as f64;
        }
        x[l] = value;
    }
}

/// `write_lanes` for up to two inputs.
#[inline(always)]
fn write_inputs<V: Term>(
    x: &mut [f64],
    new: V,
    held: bool,
    free: &[i32],
    inputs: &[(&[f32], f64)],
) {
    match *inputs {
        [] => write_lanes(x, new, held, free, []),
        [a] => write_lanes(x, new, held, free, [a]),
        [a, b] => write_lanes(x, new, held, free, [a, b]),
        _ => unreachable!("write_inputs: at most two inputs"),
    }
}

/// A write's destination and the rest of its arguments, held while the types of its
/// operands are found (`write_value`, `write_row`).
struct To<'x, 'w> {
    x: &'x mut [f64],
    held: bool,
    free: &'x [i32],
    inputs: &'x [(&'w [f32], f64)],
}

impl To<'_, '_> {
    #[inline(always)]
    fn write<V: Term>(self, new: V) {
        write_inputs(self.x, new, self.held, self.free, self.inputs)
    }

    /// `a·b` or `a·b + c`, by the kind of `c`.
    #[inline(always)]
    fn with_c<A: Term, B: Term>(self, a: A, b: B, c: Option<Arg>) {
        let n = self.x.len();
        match c {
            None => self.write(Product(a, b)),
            Some(Arg::V(c)) => self.write(ProductSum(a, b, &c[..n])),
            Some(Arg::S(c)) => self.write(ProductSum(a, b, Splat(c))),
            Some(Arg::Old) => self.write(ProductSum(a, b, Old)),
        }
    }

    /// `a`, `a·b` or `a·b + c`, by the kind of `b`.
    #[inline(always)]
    fn with_b<A: Term>(self, a: A, b: Option<Arg>, c: Option<Arg>) {
        let n = self.x.len();
        match b {
            None => self.write(a),
            Some(Arg::V(b)) => self.with_c(a, &b[..n], c),
            Some(Arg::S(b)) => self.with_c(a, Splat(b), c),
            Some(Arg::Old) => self.with_c(a, Old, c),
        }
    }
}

/// The write of an output: `a` alone, `a·b`, or `a·b + c`; one loop per kind of each
/// operand.
#[inline(always)]
fn write_value(
    x: &mut [f64],
    (a, b, c): (Arg, Option<Arg>, Option<Arg>),
    held: bool,
    free: &[i32],
    inputs: &[(&[f32], f64)],
) {
    let n = x.len();
    let to = To {
        x,
        held,
        free,
        inputs,
    };
    match a {
        Arg::V(a) => to.with_b(&a[..n], b, c),
        Arg::S(a) => to.with_b(Splat(a), b, c),
        Arg::Old => to.with_b(Old, b, c),
    }
}

/// The write of a [`Row`]: `init + p₁·x₁ + …` as one loop, each `x` the variable's own
/// value (`Arg::Old`) or another variable's (`Arg::V`). One function per number of terms
/// left (`row4` takes up to four), so that every loop is monomorphic.
#[inline(always)]
fn write_row(
    x: &mut [f64],
    (init, terms): (f64, &[(f64, Arg)]),
    held: bool,
    free: &[i32],
    inputs: &[(&[f32], f64)],
) {
    #[inline(always)]
    fn row0<V: Term>(to: To, acc: V, terms: &[(f64, Arg)]) {
        debug_assert!(terms.is_empty(), "write_row: more than ROW_TERMS terms");
        to.write(acc)
    }
    /// `rowN` adds the first of up to N terms to `acc` and hands the rest to `row(N-1)`.
    macro_rules! row {
        ($name:ident, $next:ident) => {
            #[inline(always)]
            fn $name<V: Term>(to: To, acc: V, terms: &[(f64, Arg)]) {
                let n = to.x.len();
                match terms {
                    [] => to.write(acc),
                    [(p, Arg::Old), rest @ ..] => $next(to, ProductSum(Splat(*p), Old, acc), rest),
                    [(p, Arg::V(v)), rest @ ..] => {
                        $next(to, ProductSum(Splat(*p), &v[..n], acc), rest)
                    }
                    [(_, Arg::S(_)), ..] => {
                        unreachable!("write_row: a term's variable is a number")
                    }
                }
            }
        };
    }
    row!(row1, row0);
    row!(row2, row1);
    row!(row3, row2);
    row!(row4, row3);
    const _: () = assert!(
        super::program::ROW_TERMS == 4,
        "write_row: one function per term"
    );
    let to = To {
        x,
        held,
        free,
        inputs,
    };
    row4(to, Splat(init), terms)
}

/// Refractory steps after a spike of lane `l`.
trait StepsLane: Copy {
    fn get(self, l: usize) -> i32;
}

impl StepsLane for i32 {
    #[inline(always)]
    fn get(self, _: usize) -> i32 {
        self
    }
}

impl StepsLane for &[i32] {
    #[inline(always)]
    fn get(self, l: usize) -> i32 {
        self[l]
    }
}

/// The threshold of a chunk: `fire = free && cmp(a, b)` where `left` (refractory steps
/// left) is 0; a neuron that fires starts its refractory count, the others count down.
/// Returns whether any fired.
#[inline(always)]
fn threshold(
    flags: &mut [u8],
    left: &mut [i32],
    (a, b, cmp): (Src, Src, Cmp),
    steps: Result<i32, &[i32]>,
) -> bool {
    #[inline(always)]
    fn lanes<A: Lane, B: Lane, S: StepsLane>(
        flags: &mut [u8],
        left: &mut [i32],
        (a, b, steps): (A, B, S),
        f: impl Fn(f64, f64) -> bool,
    ) -> bool {
        let n = flags.len();
        let left = &mut left[..n];
        let mut any = 0u8;
        for l in 0..n {
            let fire = (left[l] <= 0) & f(a.get(l), b.get(l));
            flags[l] = fire as u8;
            left[l] = if fire {
                steps.get(l)
            } else {
                (left[l] - 1).max(0)
            };
            any |= fire as u8;
        }
        any != 0
    }
    #[inline(always)]
    fn compare<A: Lane, B: Lane, S: StepsLane>(
        flags: &mut [u8],
        left: &mut [i32],
        (a, b, cmp, steps): (A, B, Cmp, S),
    ) -> bool {
        let args = (a, b, steps);
        match cmp {
            Cmp::Greater => lanes(flags, left, args, |x, y| x > y),
            Cmp::GreaterEqual => lanes(flags, left, args, |x, y| x >= y),
            Cmp::Less => lanes(flags, left, args, |x, y| x < y),
            Cmp::LessEqual => lanes(flags, left, args, |x, y| x <= y),
        }
    }
    #[inline(always)]
    fn operands<S: StepsLane>(
        flags: &mut [u8],
        left: &mut [i32],
        (a, b, cmp, steps): (Src, Src, Cmp, S),
    ) -> bool {
        let n = flags.len();
        match (a, b) {
            (Src::V(a), Src::S(b)) => compare(flags, left, (&a[..n], Splat(b), cmp, steps)),
            (Src::V(a), Src::V(b)) => compare(flags, left, (&a[..n], &b[..n], cmp, steps)),
            (Src::S(a), Src::V(b)) => compare(flags, left, (Splat(a), &b[..n], cmp, steps)),
            (Src::S(a), Src::S(b)) => compare(flags, left, (Splat(a), Splat(b), cmp, steps)),
        }
    }
    match steps {
        Ok(s) => operands(flags, left, (a, b, cmp, s)),
        Err(s) => operands(flags, left, (a, b, cmp, &s[..flags.len()])),
    }
}

impl UserGroup {
    /// Lane instructions of the step, threshold and reset programs, and how many outputs
    /// of the step are computed by their writes (for tests of the compiler).
    #[cfg(test)]
    pub(super) fn sizes(&self) -> [usize; 4] {
        let length = |p: Option<&Program>| p.map_or(0, |p| p.code.len());
        [
            length(Some(&self.step)),
            length(self.threshold.as_ref().map(|t| &t.0)),
            length(self.reset.as_ref().map(|r| &r.0)),
            self.step.fused.iter().flatten().count(),
        ]
    }

    /// One step of the neurons `start..start + len`.
    #[inline(always)]
    fn chunk(&mut self, start: usize, len: usize, input: &mut Input<'_>) {
        let range = start..start + len;
        let UserGroup {
            state,
            constants,
            uniforms,
            step,
            writes,
            threshold: condition,
            reset,
            refractory,
            refractory_steps,
            flags,
            regs,
            noise,
            ..
        } = self;
        noise.draw(state, range.clone());
        let (columns, uniforms) = (&constants.columns[..], &uniforms[..]);
        // Refractory steps left at the start of the step (updated by the threshold).
        let free = &refractory[range.clone()];
        // Integration: the outputs are in registers or constants, never in the state, so
        // they can be written in any order; the synaptic input of the step is added as they
        // are written, then the buffers are cleared.
        step.run(
            &Frame::new(state, columns, uniforms, free, start, len),
            regs,
        );
        let results = Frame::new(&[], columns, uniforms, free, start, len);
        let arriving =
            |&(channel, sign): &(usize, f64)| (&input.channel(channel)[range.clone()], sign);
        for write in writes.iter() {
            // The variable written, and the others (which a fused output may read).
            let (before, rest) = state.split_at_mut(write.var);
            let (x, after) = rest.split_first_mut().expect("a variable of the group");
            let x = &mut x[range.clone()];
            let arg = |o: Operand| match o {
                Operand::State(k) if k as usize == write.var => Arg::Old,
                Operand::State(k) => {
                    let k = k as usize;
                    let other = if k < write.var {
                        &before[k]
                    } else {
                        &after[k - write.var - 1]
                    };
                    Arg::V(&other[range.clone()])
                }
                o => match results.src(regs, o) {
                    Src::V(v) => Arg::V(v),
                    Src::S(v) => Arg::S(v),
                },
            };
            // The output and the first two inputs in one pass, any further inputs after.
            let (first, rest) = write.inputs.split_at(write.inputs.len().min(2));
            let first: &[(&[f32], f64)] = match first {
                [] => &[],
                [a] => &[arriving(a)],
                [a, b] => &[arriving(a), arriving(b)],
                _ => unreachable!("UserGroup::chunk: at most two inputs in the first pass"),
            };
            if let Some((Value::Row(row), held)) = write.output {
                let mut terms = [(0.0, Arg::Old); super::program::ROW_TERMS];
                for (t, &(p, k)) in terms.iter_mut().zip(&row.terms[..row.len]) {
                    *t = (p, arg(Operand::State(k)));
                }
                write_row(x, (row.init, &terms[..row.len]), held, free, first);
                for w in rest {
                    write_inputs(x, Old, false, free, &[arriving(w)]);
                }
                continue;
            }
            let (value, held) = match write.output {
                None => ((Arg::Old, None, None), false),
                Some((Value::Operand(o), held)) => ((arg(o), None, None), held),
                Some((Value::Fused(op, [a, b, c]), held)) => {
                    let c = (op == Op::MulAdd).then(|| arg(c));
                    ((arg(a), Some(arg(b)), c), held)
                }
                Some((Value::Row(_), _)) => {
                    unreachable!("UserGroup::chunk: rows are written above")
                }
            };
            write_value(x, value, held, free, first);
            for w in rest {
                write_inputs(x, Old, false, free, &[arriving(w)]);
            }
        }
        for channel in 0..input.n_channels() {
            input.channel_mut(channel)[range.clone()].fill(0.0);
        }
        // Threshold, on neurons that are not refractory.
        let flags = &mut flags[range.clone()];
        let Some((program, cmp)) = condition else {
            flags.fill(0);
            let left = &mut refractory[range];
            left.iter_mut().for_each(|r| *r = (*r - 1).max(0));
            return;
        };
        // Threshold and reset never read the refractory state (no `IfFree`).
        let here = Frame::new(state, columns, uniforms, &[], start, len);
        program.run(&here, regs);
        let left_right = (
            here.src(regs, program.outputs[0]),
            here.src(regs, program.outputs[1]),
            *cmp,
        );
        let left = &mut refractory[range.clone()];
        // The refractory period of the chunk's neurons (`Err` when they differ).
        let steps = match refractory_steps {
            Steps::Same(s) => Ok(*s),
            Steps::Each(s) => Err(&s[range.clone()]),
        };
        if !threshold(flags, left, left_right, steps) {
            return;
        }
        // Reset of the neurons that fired (its outputs are never in the state either).
        let Some((program, vars)) = reset else { return };
        program.run(&Frame::new(state, columns, uniforms, &[], start, len), regs);
        let results = Frame::new(&[], columns, uniforms, &[], start, len);
        for (&o, &var) in program.outputs.iter().zip(vars.iter()) {
            if o != Operand::State(var as u32) {
                write_fired(&mut state[var][range.clone()], results.src(regs, o), flags);
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

    fn diverged(&self) -> Option<(String, usize)> {
        self.state
            .iter()
            .zip(&self.state_names)
            .find_map(|(values, name)| {
                let i = values.iter().position(|x| !x.is_finite())?;
                Some((name.clone(), i))
            })
    }
}
