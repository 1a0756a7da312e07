//! The bytecode: expressions compiled once per group into a flat register program that runs
//! over chunks of [`LANES`] neurons, so the cost of interpreting an instruction is paid once
//! per chunk instead of once per neuron.
//!
//! ## Values
//!
//! Lowering classifies every subexpression by what it varies with, and folds all but the
//! last class at build time:
//! - `Scalar`: one number for the group (numbers, uniform parameters, `dt`, and anything
//!   computed from them only): folded.
//! - `Column`: one number per neuron, constant in time (a parameter given per neuron, and
//!   anything computed from parameters only): folded per neuron into a column.
//! - `Uniform`: one number per step (the time `t` and what depends on it and scalars
//!   only): computed once per step by a small scalar program.
//! - `State` and `Reg`: one number per neuron and step: instructions of the lane program.
//!
//! Equal subexpressions are computed once (hash-consing), so an inlined subexpression
//! written several times costs one instruction.
//!
//! Each instruction is a pass over the chunk, so the compiler saves passes: a product whose
//! only use is a sum becomes one `MulAdd` (two roundings, as written); an integrator's
//! `IfFree(new, x)` output becomes a write of `new` held for refractory neurons; and the last
//! `Mul`/`MulAdd` of an output is left to the pass that writes the output to its variable
//! (adding the synaptic input there too), or the whole chain when it is a row of a
//! propagator shared by the group ([`Row`]). The exact LIF is then no instruction at all.
//!
//! ## Registers
//!
//! The lane program is built in SSA form and then given registers by a linear scan over
//! last uses; a register is a buffer of `LANES` f64, the whole file stays in the L1 cache.
//! An instruction's destination is never one of its operands (so it can be taken out of the
//! file while the operands are read, without `unsafe`).
//!
//! ## Precision and determinism
//!
//! Lanes compute in f64 with the scalar functions of `eval.rs`, the same ones that fold
//! constants, so a neuron's arithmetic depends only on its own values: the same bits at any
//! position in a chunk, in any split of a population into groups, and whether a parameter was
//! given as one number or per neuron.

use std::collections::HashMap;

use super::eval::{self, Op};
use super::{BinOp, Expr, Func};
use crate::models::neuron::dynamics::Values;

/// Neurons per chunk. An instruction costs some 30 cycles of dispatch (operand lookup, the
/// match, loop set-up) before its lanes; at 512 lanes that is under a tenth of the
/// instruction, while a chunk of the exact LIF (3 state variables, 2 registers, input) stays
/// in the 48 KiB L1 cache (a register is 4 KiB). Measured with `benches/equations.rs`: 128
/// lanes took 2.0 ns per LIF neuron and step, 256 1.2 ns, 512 and 1024 1.0 ns; HH was the same
/// within noise from 256 to 1024 lanes (its 10 registers, 28 with `rk4`, then live in L2).
pub const LANES: usize = 512;

/// Where an instruction finds an operand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operand {
    /// One number for the whole group.
    Scalar(f64),
    /// Per-neuron constant: index into the group's columns.
    Column(u32),
    /// Per-step scalar: index into the uniforms (0 is the time at the start of the step).
    Uniform(u32),
    /// A state variable of the chunk (its current value in the group's state).
    State(u32),
    /// A register of the lane program.
    Reg(u32),
}

/// The time at the start of the step.
pub const TIME: Operand = Operand::Uniform(0);

impl Operand {
    fn key(self) -> (u8, u64) {
        match self {
            Operand::Scalar(x) => (0, x.to_bits()),
            Operand::Column(c) => (1, c as u64),
            Operand::Uniform(u) => (2, u as u64),
            Operand::State(s) => (3, s as u64),
            Operand::Reg(r) => (4, r as u64),
        }
    }
}

/// One instruction: `dst = op(args)` (arguments beyond the operation's arity are unused).
#[derive(Debug, Clone, Copy)]
pub struct Instr {
    pub op: Op,
    pub dst: u32,
    pub args: [Operand; 3],
}

type Key = (Op, [(u8, u64); 3]);

fn key(op: Op, args: &[Operand; 3]) -> Key {
    (op, args.map(Operand::key))
}

/// A lane program and where its results are.
#[derive(Debug, Clone)]
pub struct Program {
    pub code: Vec<Instr>,
    pub n_regs: usize,
    pub outputs: Vec<Operand>,
    /// Per output: written only where the neuron is not refractory (an output
    /// `IfFree(new, State(target))` becomes `new`, held: one pass less).
    pub held: Vec<bool>,
    /// Per output: what of its computation is left to the pass that writes the output to
    /// its variable (passes saved); `outputs` then holds nothing meaningful for it.
    pub fused: Vec<Option<Fused>>,
}

/// The part of an output that its write computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fused {
    /// The last instruction, `Mul` or `MulAdd`.
    Op(Op, [Operand; 3]),
    /// A whole chain of them over state variables with numbers as coefficients.
    Row(Row),
}

/// Most terms of a [`Row`]: the rows of an `exact` system of that many variables.
pub const ROW_TERMS: usize = 4;

/// `init + p₁·x₁ + p₂·x₂ + …`, added left to right (one rounding per operation, as the
/// `MulAdd` chain it replaces: `MulAdd(p₂, x₂, MulAdd(p₁, x₁, init))`): the row of an
/// `exact` step whose propagator is the same for the whole group. A chain that starts with
/// a product has `init = -0.0`, the identity of addition (`-0 + y` is `y`, bit for bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub init: f64,
    /// `(p, state variable)`, in the order they are added; `len` of them.
    pub terms: [(f64, u32); ROW_TERMS],
    pub len: usize,
}

/// The per-group constants the programs refer to.
#[derive(Debug, Clone, Default)]
pub struct Constants {
    /// Per-neuron columns, each as long as the group.
    pub columns: Vec<Vec<f64>>,
    /// The scalar program computing the uniforms of a step from the time.
    pub uniform_code: Vec<Instr>,
    pub n_uniforms: usize,
}

impl Constants {
    /// Fills `uniforms` (length `n_uniforms`) for a step starting at time `t`.
    pub fn uniforms(&self, t: f64, uniforms: &mut [f64]) {
        uniforms[0] = t;
        for ins in &self.uniform_code {
            let value = |o: Operand| match o {
                Operand::Scalar(x) => x,
                Operand::Uniform(u) => uniforms[u as usize],
                _ => unreachable!("Constants::uniforms: a uniform depends on a lane value"),
            };
            let [a, b, c] = ins.args.map(value);
            uniforms[ins.dst as usize] = eval::apply(ins.op, a, b, c);
        }
    }
}

/// Bindings for lowering: what `State(i)` and `Time` stand for (the stage values of a
/// Runge–Kutta step, the values after earlier assignments of a reset). `states` has one
/// operand per state variable; noise `k` is the state row `states.len() + k`, which the
/// group fills before each step and no stage changes.
pub struct Bind<'a> {
    pub states: &'a [Operand],
    pub time: Operand,
}

/// Compiles expressions of one group into programs.
pub struct Builder<'a> {
    params: &'a [Values],
    n: usize,
    dt: f64,
    constants: Constants,
    param_columns: HashMap<usize, u32>,
    folded: HashMap<Key, Operand>,
    lane: Vec<Instr>,
    lane_cse: HashMap<Key, u32>,
}

impl<'a> Builder<'a> {
    /// A builder for a group of `n` neurons with parameter values `params` (one `Values` per
    /// parameter of the system, each `Each` of length `n`).
    pub fn new(params: &'a [Values], n: usize, dt: f64) -> Builder<'a> {
        Builder {
            params,
            n,
            dt,
            constants: Constants {
                n_uniforms: 1,
                ..Constants::default()
            },
            param_columns: HashMap::new(),
            folded: HashMap::new(),
            lane: Vec::new(),
            lane_cse: HashMap::new(),
        }
    }

    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Neurons in the group.
    pub fn neurons(&self) -> usize {
        self.n
    }

    /// The values of a constant operand for neuron `i` (`None` for one that varies in time).
    pub fn value_at(&self, o: Operand, i: usize) -> Option<f64> {
        match o {
            Operand::Scalar(x) => Some(x),
            Operand::Column(c) => Some(self.constants.columns[c as usize][i]),
            _ => None,
        }
    }

    /// A per-neuron constant computed by the caller (the `exact` propagator).
    pub fn column(&mut self, values: Vec<f64>) -> Operand {
        debug_assert_eq!(values.len(), self.n);
        self.constants.columns.push(values);
        Operand::Column(self.constants.columns.len() as u32 - 1)
    }

    /// Lowers `expr` with `bind`, folding what does not vary per step.
    pub fn lower(&mut self, expr: &Expr, bind: &Bind) -> Operand {
        match expr {
            Expr::Number(x) => Operand::Scalar(*x),
            Expr::State(s) => bind.states[*s],
            Expr::Param(p) => match &self.params[*p] {
                Values::Same(x) => Operand::Scalar(*x),
                Values::Each(values) => {
                    if let Some(&c) = self.param_columns.get(p) {
                        return Operand::Column(c);
                    }
                    let column = self.column(values.clone());
                    if let Operand::Column(c) = column {
                        self.param_columns.insert(*p, c);
                    }
                    column
                }
            },
            Expr::Time => bind.time,
            Expr::Dt => Operand::Scalar(self.dt),
            // The group keeps the noise of the step in the rows after the variables.
            Expr::Noise(k) => Operand::State((bind.states.len() + k) as u32),
            Expr::Neg(a) => {
                let a = self.lower(a, bind);
                self.apply(Op::Neg, &[a])
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.lower(a, bind), self.lower(b, bind));
                self.apply(Op::Bin(*op), &[a, b])
            }
            Expr::Call(f, args) => {
                let args: Vec<Operand> = args.iter().map(|a| self.lower(a, bind)).collect();
                self.apply(Op::Call(*f), &args)
            }
        }
    }

    /// `op(args)`: folded when no argument varies per lane, else an instruction (shared
    /// with an equal earlier one).
    pub fn apply(&mut self, op: Op, args: &[Operand]) -> Operand {
        let mut all = [Operand::Scalar(0.0); 3];
        all[..args.len()].copy_from_slice(args);
        let [a, b, _] = all;
        // Integer powers are products (eval::pow): the same bits, cheaper instructions.
        if op == Op::Call(Func::Pow) {
            let mul = |s: &mut Self, x, y| s.apply(Op::Bin(BinOp::Mul), &[x, y]);
            match b {
                Operand::Scalar(2.0) => return mul(self, a, a),
                Operand::Scalar(3.0) => {
                    let square = mul(self, a, a);
                    return mul(self, square, a);
                }
                Operand::Scalar(4.0) => {
                    let square = mul(self, a, a);
                    return mul(self, square, square);
                }
                _ => {}
            }
        }
        let varies = |o: &Operand| matches!(o, Operand::State(_) | Operand::Reg(_));
        let lane = op == Op::IfFree || all.iter().any(varies);
        let per_step = all.iter().any(|o| matches!(o, Operand::Uniform(_)));
        let per_neuron = all.iter().any(|o| matches!(o, Operand::Column(_)));
        if lane || (per_step && per_neuron) {
            return self.lane_op(op, all);
        }
        if per_step {
            return self.uniform_op(op, all);
        }
        if !per_neuron {
            let v = all.map(|o| self.value_at(o, 0).unwrap_or(0.0));
            return Operand::Scalar(eval::apply(op, v[0], v[1], v[2]));
        }
        let k = key(op, &all);
        if let Some(&folded) = self.folded.get(&k) {
            return folded;
        }
        let values: Vec<f64> = (0..self.n)
            .map(|i| {
                let v = all.map(|o| self.value_at(o, i).unwrap_or(0.0));
                eval::apply(op, v[0], v[1], v[2])
            })
            .collect();
        let column = self.column(values);
        self.folded.insert(k, column);
        column
    }

    fn uniform_op(&mut self, op: Op, args: [Operand; 3]) -> Operand {
        let k = key(op, &args);
        if let Some(&folded) = self.folded.get(&k) {
            return folded;
        }
        let dst = self.constants.n_uniforms as u32;
        self.constants.n_uniforms += 1;
        self.constants.uniform_code.push(Instr { op, dst, args });
        let result = Operand::Uniform(dst);
        self.folded.insert(k, result);
        result
    }

    fn lane_op(&mut self, op: Op, args: [Operand; 3]) -> Operand {
        // Exact simplifications only (x·1 = x bit for bit).
        let one = Operand::Scalar(1.0);
        match op {
            Op::Bin(BinOp::Mul) if args[1] == one => return args[0],
            Op::Bin(BinOp::Mul) if args[0] == one => return args[1],
            Op::Bin(BinOp::Div) if args[1] == one => return args[0],
            Op::IfFree if args[0] == args[1] => return args[0],
            _ => {}
        }
        let k = key(op, &args);
        if let Some(&r) = self.lane_cse.get(&k) {
            return Operand::Reg(r);
        }
        let dst = self.lane.len() as u32;
        self.lane.push(Instr { op, dst, args });
        self.lane_cse.insert(k, dst);
        Operand::Reg(dst)
    }

    /// Ends the lane program whose results are `outputs`, each with the state variable it
    /// will be written to (if any): a result written to a variable that is another state
    /// variable is copied into a register first, so that writing the results in order
    /// cannot change one not yet written. Unused instructions are dropped, registers allocated; the next program
    /// starts empty (constants and uniforms are shared by the group's programs).
    pub fn program(&mut self, outputs: &[(Operand, Option<usize>)]) -> Program {
        self.program_writing(outputs, None)
    }

    /// `program`, for outputs that are written to their variables in the order of the
    /// variables (`written[k]`: whether variable `k` is written at all, by an output or by
    /// input): the last instruction of an output is fused into its write when that cannot
    /// read a variable already written.
    pub fn program_writing(
        &mut self,
        outputs: &[(Operand, Option<usize>)],
        written: Option<&[bool]>,
    ) -> Program {
        let targets: Vec<Option<usize>> = outputs.iter().map(|o| o.1).collect();
        let outputs: Vec<Operand> = outputs
            .iter()
            .map(|&(o, target)| match (o, target) {
                (Operand::State(s), Some(t)) if t != s as usize => self.lane_op(Op::Copy, [o; 3]),
                (o, _) => o,
            })
            .collect();
        let code = std::mem::take(&mut self.lane);
        self.lane_cse.clear();
        let (outputs, held) = held_outputs(&code, outputs, &targets);
        // Liveness, backwards from the outputs.
        let mut live = vec![false; code.len()];
        for o in &outputs {
            if let Operand::Reg(r) = o {
                live[*r as usize] = true;
            }
        }
        for (index, ins) in code.iter().enumerate().rev() {
            if live[index] {
                for arg in &ins.args[..ins.op.arity()] {
                    if let Operand::Reg(r) = arg {
                        live[*r as usize] = true;
                    }
                }
            }
        }
        let code = fuse_multiply_add(code, &mut live, &outputs);
        let fused = match written {
            Some(written) => fuse_writes(&code, &mut live, &outputs, &targets, written),
            None => vec![None; outputs.len()],
        };
        let mut last_use = vec![0; code.len()];
        for (index, ins) in code.iter().enumerate().filter(|(i, _)| live[*i]) {
            for arg in &ins.args[..ins.op.arity()] {
                if let Operand::Reg(r) = arg {
                    last_use[*r as usize] = index;
                }
            }
        }
        let read_at_end = fused
            .iter()
            .flatten()
            .flat_map(|f| match f {
                Fused::Op(op, args) => &args[..op.arity()],
                Fused::Row(_) => &[],
            })
            .chain(&outputs);
        for o in read_at_end {
            if let Operand::Reg(r) = o {
                last_use[*r as usize] = code.len();
            }
        }
        // Linear scan: the destination is allocated before the operands that die at this
        // instruction are freed, so it differs from all of them.
        let mut physical = vec![u32::MAX; code.len()];
        let mut free: Vec<u32> = Vec::new();
        let mut n_regs = 0u32;
        let mut out = Vec::with_capacity(code.len());
        for (index, ins) in code.iter().enumerate() {
            if !live[index] {
                continue;
            }
            let dst = free.pop().unwrap_or_else(|| {
                n_regs += 1;
                n_regs - 1
            });
            physical[index] = dst;
            let mut args = ins.args;
            for arg in &mut args[..ins.op.arity()] {
                if let Operand::Reg(r) = *arg {
                    *arg = Operand::Reg(physical[r as usize]);
                    if last_use[r as usize] == index && !free.contains(&physical[r as usize]) {
                        free.push(physical[r as usize]);
                    }
                }
            }
            out.push(Instr {
                op: ins.op,
                dst,
                args,
            });
        }
        let rename = |o: Operand| match o {
            Operand::Reg(r) => Operand::Reg(physical[r as usize]),
            o => o,
        };
        let outputs = outputs.into_iter().map(rename).collect();
        let fused = fused
            .into_iter()
            .map(|f| {
                f.map(|f| match f {
                    Fused::Op(op, args) => Fused::Op(op, args.map(rename)),
                    row => row,
                })
            })
            .collect();
        Program {
            code: out,
            n_regs: n_regs as usize,
            outputs,
            held,
            fused,
        }
    }

    /// The constants of the group, once every program is built.
    pub fn finish(self) -> Constants {
        self.constants
    }
}

/// How often each instruction's result is read by the live instructions and the outputs.
fn use_counts(code: &[Instr], live: &[bool], outputs: &[Operand]) -> Vec<u32> {
    let mut uses = vec![0u32; code.len()];
    let live_args = code
        .iter()
        .zip(live)
        .filter(|(_, live)| **live)
        .flat_map(|(ins, _)| ins.args[..ins.op.arity()].iter());
    for o in live_args.chain(outputs) {
        if let Operand::Reg(r) = o {
            uses[*r as usize] += 1;
        }
    }
    uses
}

/// Outputs `IfFree(new, State(target))` whose only use is the output become `new`, written
/// only for free neurons (the `IfFree` is then dead).
fn held_outputs(
    code: &[Instr],
    outputs: Vec<Operand>,
    targets: &[Option<usize>],
) -> (Vec<Operand>, Vec<bool>) {
    let uses = use_counts(code, &vec![true; code.len()], &outputs);
    outputs
        .into_iter()
        .zip(targets)
        .map(|(o, &target)| match (o, target) {
            (Operand::Reg(r), Some(t)) => {
                let ins = &code[r as usize];
                let own = Operand::State(t as u32);
                let new = ins.args[0];
                let other_state = matches!(new, Operand::State(_)) && new != own;
                if ins.op == Op::IfFree
                    && ins.args[1] == own
                    && uses[r as usize] == 1
                    && !other_state
                {
                    (new, true)
                } else {
                    (o, false)
                }
            }
            (o, _) => (o, false),
        })
        .unzip()
}

/// Outputs whose last instruction is a `Mul` or `MulAdd` used by nothing else, and whose
/// state operands are their own variable or one not written before theirs, leave that
/// instruction to the write (which reads the operands then). The instruction is marked dead.
/// When it ends a chain of such instructions over state variables and numbers (an `exact`
/// row with a propagator shared by the group), the write computes the whole chain ([`Row`]).
fn fuse_writes(
    code: &[Instr],
    live: &mut [bool],
    outputs: &[Operand],
    targets: &[Option<usize>],
    written: &[bool],
) -> Vec<Option<Fused>> {
    let uses = use_counts(code, live, outputs);
    // Its own variable (read lane by lane before the write), one written later, or one
    // never written.
    let reads_old = |var: usize, a: &Operand| match *a {
        Operand::State(k) => {
            let k = k as usize;
            k >= var || !written[k]
        }
        _ => true,
    };
    let fusable = |r: u32| {
        let ins = &code[r as usize];
        matches!(ins.op, Op::Bin(BinOp::Mul) | Op::MulAdd) && uses[r as usize] == 1
    };
    outputs
        .iter()
        .zip(targets)
        .map(|(&o, &target)| {
            let (Operand::Reg(r), Some(var)) = (o, target) else {
                return None;
            };
            let ins = &code[r as usize];
            let old = ins.args[..ins.op.arity()].iter().all(|a| reads_old(var, a));
            if !(fusable(r) && old) {
                return None;
            }
            if let Some((row, chain)) = row_of(code, r, &fusable, &|a| reads_old(var, a)) {
                for c in chain {
                    live[c as usize] = false;
                }
                return Some(Fused::Row(row));
            }
            live[r as usize] = false;
            Some(Fused::Op(ins.op, ins.args))
        })
        .collect()
}

/// The chain of `MulAdd(p, x, ·)` ending at instruction `r`, with `p` a number and `x` a
/// state variable (either order), down to a number or a `Mul(p, x)`: the row and the
/// instructions it replaces; `None` for a chain of one (the plain fused write does that)
/// or one that is not of this form.
fn row_of(
    code: &[Instr],
    r: u32,
    fusable: &dyn Fn(u32) -> bool,
    reads_old: &dyn Fn(&Operand) -> bool,
) -> Option<(Row, Vec<u32>)> {
    let mut terms = Vec::new();
    let mut chain = Vec::new();
    let mut at = r;
    let init = loop {
        let ins = &code[at as usize];
        let term = match ins.args[..2] {
            [Operand::Scalar(p), x @ Operand::State(k)]
            | [x @ Operand::State(k), Operand::Scalar(p)]
                if reads_old(&x) =>
            {
                (p, k)
            }
            _ => return None,
        };
        terms.push(term);
        chain.push(at);
        if terms.len() > ROW_TERMS {
            return None;
        }
        match (ins.op, ins.args[2]) {
            (Op::Bin(BinOp::Mul), _) => break -0.0,
            (Op::MulAdd, Operand::Scalar(init)) => break init,
            (Op::MulAdd, Operand::Reg(inner)) if fusable(inner) => at = inner,
            _ => return None,
        }
    };
    if terms.len() < 2 {
        return None;
    }
    terms.reverse();
    let mut row = Row {
        init,
        terms: [(0.0, 0); ROW_TERMS],
        len: terms.len(),
    };
    row.terms[..terms.len()].copy_from_slice(&terms);
    Some((row, chain))
}

/// `Add(Mul(a, b), c)` (either order) where the product has no other use becomes
/// `MulAdd(a, b, c)`: the same two roundings, one pass over the chunk instead of two. The
/// product's instruction is marked dead; last uses are unchanged (the fused instruction
/// sits where the addition was and reads `a` and `b` later than the product did, so the
/// caller computes last uses after this).
fn fuse_multiply_add(mut code: Vec<Instr>, live: &mut [bool], outputs: &[Operand]) -> Vec<Instr> {
    let uses = use_counts(&code, live, outputs);
    for index in 0..code.len() {
        if !live[index] || code[index].op != Op::Bin(BinOp::Add) {
            continue;
        }
        let [x, y, _] = code[index].args;
        let product = |o: Operand| match o {
            Operand::Reg(r)
                if code[r as usize].op == Op::Bin(BinOp::Mul) && uses[r as usize] == 1 =>
            {
                Some(r as usize)
            }
            _ => None,
        };
        let (m, other) = match (product(x), product(y)) {
            (Some(m), _) => (m, y),
            (None, Some(m)) => (m, x),
            (None, None) => continue,
        };
        let [a, b, _] = code[m].args;
        code[index].op = Op::MulAdd;
        code[index].args = [a, b, other];
        live[m] = false;
    }
    code
}

/// An operand resolved for a chunk: a lane vector or one number.
#[derive(Debug, Clone, Copy)]
pub enum Src<'a> {
    V(&'a [f64]),
    S(f64),
}

impl Src<'_> {
    #[inline(always)]
    pub fn at(&self, l: usize) -> f64 {
        match self {
            Src::V(v) => v[l],
            Src::S(x) => *x,
        }
    }
}

/// What a program reads in one chunk: neurons `start..start + len` of the group.
pub struct Frame<'a> {
    pub state: &'a [Vec<f64>],
    pub columns: &'a [Vec<f64>],
    pub uniforms: &'a [f64],
    /// Refractory steps left of the chunk's neurons.
    pub refractory: &'a [i32],
    pub start: usize,
    pub len: usize,
}

impl<'a> Frame<'a> {
    /// The frame of neurons `start..start + len`; `refractory` is the chunk's (empty for a
    /// program without `IfFree`: threshold and reset).
    #[inline(always)]
    pub fn new(
        state: &'a [Vec<f64>],
        columns: &'a [Vec<f64>],
        uniforms: &'a [f64],
        refractory: &'a [i32],
        start: usize,
        len: usize,
    ) -> Frame<'a> {
        Frame {
            state,
            columns,
            uniforms,
            refractory,
            start,
            len,
        }
    }

    #[inline(always)]
    pub fn src(&self, regs: &'a [Vec<f64>], o: Operand) -> Src<'a> {
        let range = self.start..self.start + self.len;
        match o {
            Operand::Scalar(x) => Src::S(x),
            Operand::Uniform(u) => Src::S(self.uniforms[u as usize]),
            Operand::Column(c) => Src::V(&self.columns[c as usize][range]),
            Operand::State(s) => Src::V(&self.state[s as usize][range]),
            Operand::Reg(r) => Src::V(&regs[r as usize][..self.len]),
        }
    }
}

#[inline(always)]
fn map1(out: &mut [f64], a: Src, f: impl Fn(f64) -> f64) {
    match a {
        Src::V(a) => out.iter_mut().zip(a).for_each(|(o, &x)| *o = f(x)),
        Src::S(x) => out.fill(f(x)),
    }
}

#[inline(always)]
fn map2(out: &mut [f64], a: Src, b: Src, f: impl Fn(f64, f64) -> f64) {
    match (a, b) {
        (Src::V(a), Src::V(b)) => out
            .iter_mut()
            .zip(a.iter().zip(b))
            .for_each(|(o, (&x, &y))| *o = f(x, y)),
        (Src::V(a), Src::S(y)) => out.iter_mut().zip(a).for_each(|(o, &x)| *o = f(x, y)),
        (Src::S(x), Src::V(b)) => out.iter_mut().zip(b).for_each(|(o, &y)| *o = f(x, y)),
        (Src::S(x), Src::S(y)) => out.fill(f(x, y)),
    }
}

/// One lane of an operand: a vector (cut to the chunk) or a number.
pub trait Lane: Copy {
    fn get(self, l: usize) -> f64;
}

impl Lane for &[f64] {
    #[inline(always)]
    fn get(self, l: usize) -> f64 {
        self[l]
    }
}

#[derive(Clone, Copy)]
pub struct Splat(pub f64);

impl Lane for Splat {
    #[inline(always)]
    fn get(self, _: usize) -> f64 {
        self.0
    }
}

#[inline(always)]
fn lanes3<A: Lane, B: Lane, C: Lane>(
    out: &mut [f64],
    a: A,
    b: B,
    c: C,
    f: impl Fn(f64, f64, f64) -> f64,
) {
    for (l, o) in out.iter_mut().enumerate() {
        *o = f(a.get(l), b.get(l), c.get(l));
    }
}

/// `f` over three operands, one loop per combination of vectors and numbers.
#[inline(always)]
fn map3(out: &mut [f64], a: Src, b: Src, c: Src, f: impl Fn(f64, f64, f64) -> f64) {
    let n = out.len();
    match (a, b, c) {
        (Src::V(a), Src::V(b), Src::V(c)) => lanes3(out, &a[..n], &b[..n], &c[..n], f),
        (Src::V(a), Src::V(b), Src::S(c)) => lanes3(out, &a[..n], &b[..n], Splat(c), f),
        (Src::V(a), Src::S(b), Src::V(c)) => lanes3(out, &a[..n], Splat(b), &c[..n], f),
        (Src::S(a), Src::V(b), Src::V(c)) => lanes3(out, Splat(a), &b[..n], &c[..n], f),
        (Src::V(a), Src::S(b), Src::S(c)) => lanes3(out, &a[..n], Splat(b), Splat(c), f),
        (Src::S(a), Src::V(b), Src::S(c)) => lanes3(out, Splat(a), &b[..n], Splat(c), f),
        (Src::S(a), Src::S(b), Src::V(c)) => lanes3(out, Splat(a), Splat(b), &c[..n], f),
        (Src::S(a), Src::S(b), Src::S(c)) => out.fill(f(a, b, c)),
    }
}

/// `IfFree`: `a` where the neuron is not refractory, else `b`.
#[inline(always)]
fn select(out: &mut [f64], refractory: &[i32], a: Src, b: Src) {
    let n = out.len();
    let refractory = &refractory[..n];
    #[inline(always)]
    fn pick<A: Lane, B: Lane>(out: &mut [f64], refractory: &[i32], a: A, b: B) {
        for (l, (o, &r)) in out.iter_mut().zip(refractory).enumerate() {
            let (x, y) = (a.get(l), b.get(l));
            *o = if r <= 0 { x } else { y };
        }
    }
    match (a, b) {
        (Src::V(a), Src::V(b)) => pick(out, refractory, &a[..n], &b[..n]),
        (Src::V(a), Src::S(b)) => pick(out, refractory, &a[..n], Splat(b)),
        (Src::S(a), Src::V(b)) => pick(out, refractory, Splat(a), &b[..n]),
        (Src::S(a), Src::S(b)) => pick(out, refractory, Splat(a), Splat(b)),
    }
}

impl Program {
    /// Whether the program reads the refractory state (`IfFree`).
    pub fn reads_refractory(&self) -> bool {
        self.code.iter().any(|ins| ins.op == Op::IfFree)
    }

    /// Runs the program on one chunk; `regs` holds at least `n_regs` registers of `LANES`.
    #[inline(always)]
    pub fn run(&self, frame: &Frame, regs: &mut [Vec<f64>]) {
        for ins in &self.code {
            let mut out = std::mem::take(&mut regs[ins.dst as usize]);
            {
                let regs = &*regs;
                let arity = ins.op.arity();
                let a = frame.src(regs, ins.args[0]);
                let b = if arity > 1 {
                    frame.src(regs, ins.args[1])
                } else {
                    a
                };
                let c = if arity > 2 {
                    frame.src(regs, ins.args[2])
                } else {
                    a
                };
                let out = &mut out[..frame.len];
                match ins.op {
                    Op::Neg => map1(out, a, |x| -x),
                    Op::Copy => map1(out, a, |x| x),
                    Op::IfFree => select(out, frame.refractory, a, b),
                    Op::MulAdd => map3(out, a, b, c, |x, y, z| x * y + z),
                    Op::Bin(BinOp::Add) => map2(out, a, b, |x, y| x + y),
                    Op::Bin(BinOp::Sub) => map2(out, a, b, |x, y| x - y),
                    Op::Bin(BinOp::Mul) => map2(out, a, b, |x, y| x * y),
                    Op::Bin(BinOp::Div) => map2(out, a, b, |x, y| x / y),
                    Op::Call(f) => call(f, out, a, b, c),
                }
            }
            regs[ins.dst as usize] = out;
        }
    }
}

/// A function over a chunk; each arm is its own loop, so the common ones vectorise.
#[inline(always)]
fn call(f: Func, out: &mut [f64], a: Src, b: Src, c: Src) {
    match f {
        Func::Exp => map1(out, a, eval::exp),
        Func::Exprel => map1(out, a, eval::exprel),
        Func::Sqrt => map1(out, a, f64::sqrt),
        Func::Abs => map1(out, a, f64::abs),
        Func::Floor => map1(out, a, f64::floor),
        Func::Ceil => map1(out, a, f64::ceil),
        Func::Min => map2(out, a, b, f64::min),
        Func::Max => map2(out, a, b, f64::max),
        Func::Pow => map2(out, a, b, eval::pow),
        Func::Log
        | Func::Sin
        | Func::Cos
        | Func::Tan
        | Func::Tanh
        | Func::Sinh
        | Func::Cosh
        | Func::Clip => {
            for (l, o) in out.iter_mut().enumerate() {
                *o = eval::call(f, a.at(l), b.at(l), c.at(l));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::neuron::equations::eval::eval_params;

    fn boxed(e: Expr) -> Box<Expr> {
        Box::new(e)
    }

    /// A deterministic pseudo-random expression over 2 states, 2 parameters and `t`.
    fn random_expr(seed: &mut u64, depth: u32) -> Expr {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (*seed >> 33) as usize;
        if depth == 0 || r.is_multiple_of(7) {
            return match r % 6 {
                0 => Expr::Number(((r % 13) as f64 - 6.0) * 0.37),
                1 | 2 => Expr::State(r % 2),
                3 | 4 => Expr::Param(r % 2),
                _ => Expr::Time,
            };
        }
        let (a, b) = (random_expr(seed, depth - 1), random_expr(seed, depth - 1));
        match r % 9 {
            0 => Expr::Neg(boxed(a)),
            1 => Expr::Binary(BinOp::Add, boxed(a), boxed(b)),
            2 => Expr::Binary(BinOp::Sub, boxed(a), boxed(b)),
            3 => Expr::Binary(BinOp::Mul, boxed(a), boxed(b)),
            4 => Expr::Binary(BinOp::Div, boxed(a), boxed(b)),
            5 => Expr::Call(Func::Exprel, vec![a]),
            6 => Expr::Call(Func::Tanh, vec![a]),
            7 => Expr::Call(Func::Pow, vec![a, Expr::Number(((r % 4) + 1) as f64)]),
            _ => Expr::Call(Func::Max, vec![a, b]),
        }
    }

    /// Substitutes states and time by numbers, for the tree evaluator.
    fn substitute(e: &Expr, states: &[f64], t: f64) -> Expr {
        match e {
            Expr::State(s) => Expr::Number(states[*s]),
            Expr::Time => Expr::Number(t),
            Expr::Neg(a) => Expr::Neg(boxed(substitute(a, states, t))),
            Expr::Binary(op, a, b) => Expr::Binary(
                *op,
                boxed(substitute(a, states, t)),
                boxed(substitute(b, states, t)),
            ),
            Expr::Call(f, args) => {
                Expr::Call(*f, args.iter().map(|a| substitute(a, states, t)).collect())
            }
            e => e.clone(),
        }
    }

    #[test]
    fn programs_compute_the_bits_of_the_tree_evaluator() {
        let n = 300;
        let state: Vec<Vec<f64>> = (0..2)
            .map(|s| {
                (0..n)
                    .map(|i| (i as f64 * 0.013 + s as f64).sin() * 3.0)
                    .collect()
            })
            .collect();
        let each: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 * 0.01).collect();
        let params = [Values::Same(1.7), Values::Each(each)];
        let mut seed = 7;
        for _ in 0..200 {
            let exprs: Vec<Expr> = (0..3).map(|_| random_expr(&mut seed, 5)).collect();
            let mut builder = Builder::new(&params, n, 0.1);
            let states = [Operand::State(0), Operand::State(1)];
            let bind = Bind {
                states: &states,
                time: TIME,
            };
            let outputs: Vec<(Operand, Option<usize>)> = exprs
                .iter()
                .map(|e| (builder.lower(e, &bind), None))
                .collect();
            let program = builder.program(&outputs);
            let constants = builder.finish();
            let mut uniforms = vec![0.0; constants.n_uniforms];
            let t = 2.5;
            constants.uniforms(t, &mut uniforms);
            let mut regs = vec![vec![0.0; LANES]; program.n_regs];
            let refractory = vec![0; LANES];
            for start in (0..n).step_by(LANES) {
                let len = LANES.min(n - start);
                let frame = Frame {
                    state: &state,
                    columns: &constants.columns,
                    uniforms: &uniforms,
                    refractory: &refractory[..len],
                    start,
                    len,
                };
                program.run(&frame, &mut regs);
                for (e, &o) in exprs.iter().zip(&program.outputs) {
                    let got = frame.src(&regs, o);
                    for l in 0..len {
                        let i = start + l;
                        let values = [state[0][i], state[1][i]];
                        let tree = substitute(e, &values, t);
                        let expected = eval_params(&tree, &|p| params[p].at(i), 0.1).unwrap();
                        let got = got.at(l);
                        assert!(
                            got.to_bits() == expected.to_bits()
                                || (got.is_nan() && expected.is_nan()),
                            "{e:?} at neuron {i}: {got} vs {expected}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn products_fuse_with_their_sums_and_with_the_write() {
        let params = [Values::Same(2.0)];
        let states = [Operand::State(0), Operand::State(1)];
        let bind = Bind {
            states: &states,
            time: TIME,
        };
        // p0·x0 + x1
        let e = Expr::Binary(
            BinOp::Add,
            boxed(Expr::Binary(
                BinOp::Mul,
                boxed(Expr::Param(0)),
                boxed(Expr::State(0)),
            )),
            boxed(Expr::State(1)),
        );
        let fused = (Op::MulAdd, [Operand::Scalar(2.0), states[0], states[1]]);
        let written = Some(Fused::Op(fused.0, fused.1));
        let mut builder = Builder::new(&params, 1, 0.1);
        let out = builder.lower(&e, &bind);
        let program = builder.program(&[(out, None)]);
        assert_eq!(program.code.len(), 1);
        assert_eq!((program.code[0].op, program.code[0].args), fused);
        // Written to x0: the write computes it (x1 is written after x0, so still old).
        let out = builder.lower(&e, &bind);
        let program = builder.program_writing(&[(out, Some(0))], Some(&[true, true]));
        assert!(program.code.is_empty());
        assert_eq!(program.fused[0], written);
        // Written to x1: x0 is written before, so the product stays an instruction.
        let out = builder.lower(&e, &bind);
        let program = builder.program_writing(&[(out, Some(1))], Some(&[true, true]));
        assert_eq!((program.code.len(), program.fused[0]), (1, None));
        // Held while refractory: the IfFree goes, the output is marked.
        let out = builder.lower(&e, &bind);
        let held = builder.apply(Op::IfFree, &[out, states[0]]);
        let program = builder.program_writing(&[(held, Some(0))], Some(&[true, true]));
        assert!(program.code.is_empty() && program.held[0]);
        assert_eq!(program.fused[0], written);
    }

    #[test]
    fn constants_fold_and_equal_subexpressions_share_an_instruction() {
        let params = [Values::Same(2.0), Values::Each(vec![1.0, 2.0, 4.0])];
        let mut builder = Builder::new(&params, 3, 0.1);
        let states = [Operand::State(0)];
        let bind = Bind {
            states: &states,
            time: TIME,
        };
        let p = |i| boxed(Expr::Param(i));
        // (p0 / p1) * v + (p0 / p1) * v: the quotient is a column, the product one instruction.
        let term = Expr::Binary(
            BinOp::Mul,
            boxed(Expr::Binary(BinOp::Div, p(0), p(1))),
            boxed(Expr::State(0)),
        );
        let e = Expr::Binary(BinOp::Add, boxed(term.clone()), boxed(term));
        let out = builder.lower(&e, &bind);
        let program = builder.program(&[(out, None)]);
        assert_eq!(program.code.len(), 2, "{:?}", program.code);
        assert_eq!(program.n_regs, 2);
        let constants = builder.finish();
        assert_eq!(constants.columns.last(), Some(&vec![2.0, 1.0, 0.5]));
        // p0 * dt folds to a scalar.
        let mut builder = Builder::new(&params, 3, 0.1);
        let e = Expr::Binary(BinOp::Mul, p(0), boxed(Expr::Dt));
        assert_eq!(builder.lower(&e, &bind), Operand::Scalar(0.2));
    }
}
