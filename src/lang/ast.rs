//! The typed syntax tree of a `.net` file, exactly as written (no names resolved, no units
//! converted). Every node carries a `Span`, so every later diagnostic can point at source.
//! Built only by `parse.rs`; read by `check/` and `lower.rs`.

use crate::diag::Span;

/// A whole file: imports, file-level templates and networks, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `import "lib.net"`
    Import(Import),
    /// `let cell = lif { ... }` outside any network: visible in every network and to importers.
    Let(Let),
    /// `let w_e = 87.8 pA` outside any network: visible in every network and to importers.
    Const(ConstDecl),
    /// `table p : to \ from [...] { ... }` outside any network: as a constant.
    Table(TableDecl),
    /// `neuron NAME { ... }`: a model written as equations; visible in every network and to
    /// importers.
    Neuron(NeuronDecl),
    /// `synapse NAME { ... }`: a synapse model with per-synapse state; visible in every
    /// network and to importers.
    Synapse(SynapseDecl),
    Network(NetworkDecl),
}

/// `synapse NAME { items }`, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SynapseDecl {
    pub name: Ident,
    pub items: Vec<SynapseItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SynapseItem {
    Param(Param),
    State(Param),
    /// `dx/dt = ...`, decayed exactly between events.
    Derivative(Derivative),
    Alias(Param),
    /// `on_pre { ... }`: when a presynaptic spike arrives.
    OnPre(Vec<Statement>, Span),
    /// `on_post { ... }`: when the target fires.
    OnPost(Vec<Statement>, Span),
}

/// `dX/dt = EXPR`; `var` spans the variable's name inside `dX/dt`.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivative {
    pub var: Ident,
    pub expr: Expr,
    pub span: Span,
}

/// One statement of a synapse's `on_pre` or `on_post`.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Assign(Assignment),
    /// `let r = ...`: a value for the statements after it.
    Let(Param),
    /// `deliver VALUE`
    Deliver(Expr, Span),
}

/// `neuron NAME { items }`, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronDecl {
    pub name: Ident,
    pub items: Vec<NeuronItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NeuronItem {
    /// `param tau_m = 20 ms`
    Param(Param),
    /// `state v = -65 mV`
    State(Param),
    /// `dv/dt = ...`
    Derivative(Derivative),
    /// `let i_syn = ...`
    Alias(Param),
    /// `threshold LEFT CMP RIGHT`
    Threshold {
        left: Expr,
        cmp: Compare,
        right: Expr,
        span: Span,
    },
    Reset(Vec<Assignment>, Span),
    /// `refractory DURATION [clamp a, b]`
    Refractory {
        duration: Expr,
        clamp: Option<Vec<Ident>>,
        span: Span,
    },
    /// `on_pre RECEPTOR { ... }`
    OnPre {
        receptor: Ident,
        body: Vec<Assignment>,
        span: Span,
    },
    /// `method = NAME`
    Method(Ident, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
}

/// `x = ...`, `x += ...`
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub var: Ident,
    pub op: AssignKind,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignKind {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

impl AssignKind {
    pub fn symbol(self) -> &'static str {
        match self {
            AssignKind::Set => "=",
            AssignKind::Add => "+=",
            AssignKind::Sub => "-=",
            AssignKind::Mul => "*=",
            AssignKind::Div => "/=",
        }
    }
}

/// A name as written, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub span: Span,
}

/// `network NAME : rate | spiking { statements }`
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkDecl {
    pub name: Ident,
    /// `rate` or `spiking` (checked later, so a typo gets a suggestion).
    pub mode: Ident,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `seed = 42`, `dt = 0.1 ms`, `output = "x.h5"`
    Setting(Param),
    Let(Let),
    Const(ConstDecl),
    Table(TableDecl),
    Population(PopulationDecl),
    Projection(ProjectionDecl),
    Connect(ConnectDecl),
    Dataset(DatasetDecl),
    Train(TrainDecl),
    Evaluate(Block),
    Simulate(SimulateDecl),
    Record(RecordDecl),
}

/// `name = value`, in a block or as a network setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `train { ... }` or `train KIND { ... }` (`train adversarial { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainDecl {
    pub kind: Option<Ident>,
    pub block: Block,
}

/// `{ a = 1, b = 2 }`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub params: Vec<Param>,
    pub span: Span,
}

/// `let NAME = MODEL { params }`; MODEL may itself be a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub model: Ident,
    pub block: Option<Block>,
    pub span: Span,
}

/// `let NAME = VALUE`: a named value (a number with its unit, a list, a distribution, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ConstDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `table NAME : ROWS \ COLUMNS [c1, c2, ...] in UNIT { r1: [...] ... }` (two axes, named
/// rows) or `table NAME : AXIS [c1, c2, ...] { [...] }` (one axis, one unnamed row).
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    /// The axis words as written: `[to, from]` for `to \ from`, `[from]` for one axis.
    pub axes: Vec<Ident>,
    pub columns: Vec<Ident>,
    /// `in pA`: the unit of every entry.
    pub unit: Option<Unit>,
    pub rows: Vec<TableRow>,
    pub span: Span,
}

/// `NAME: [v1, v2, ...]`, or `[v1, ...]` in a table of one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub name: Option<Ident>,
    pub values: Vec<Expr>,
    /// The list, brackets included.
    pub list_span: Span,
    pub span: Span,
}

/// `connect TABLE : CONNECTOR(args) with TEMPLATE { params, A -> B { params } }`: one
/// projection per nonzero entry of TABLE.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectDecl {
    pub table: Ident,
    pub connector: Ident,
    pub connector_args: Option<Args>,
    pub template: Option<Ident>,
    pub params: Vec<Param>,
    pub pairs: Vec<PairBlock>,
    pub span: Span,
}

/// `A -> B { params }` inside `connect`: the entries of one pair, over the statement's.
#[derive(Debug, Clone, PartialEq)]
pub struct PairBlock {
    pub source: Ident,
    pub target: Ident,
    pub block: Block,
    pub span: Span,
}

/// `population NAME : MODEL[SIZE] { params }` or `MODEL[C, H, W]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationDecl {
    pub name: Ident,
    pub model: Ident,
    pub shape: Vec<Expr>,
    pub shape_span: Span,
    pub block: Option<Block>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    /// `->`
    Directed,
    /// `--`
    Undirected,
}

impl Arrow {
    pub fn symbol(self) -> &'static str {
        match self {
            Arrow::Directed => "->",
            Arrow::Undirected => "--",
        }
    }
}

/// `A, B -> C -> D : CONNECTOR { params }`: `stages[i] arrows[i] stages[i+1]` is one hop.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionDecl {
    pub stages: Vec<Vec<Ident>>,
    pub arrows: Vec<(Arrow, Span)>,
    pub connector: Ident,
    /// `random(p = 0.02)`: the arguments, if parentheses were written.
    pub connector_args: Option<Args>,
    /// `with exc`: a projection template (`let exc = projection { ... }`).
    pub template: Option<Ident>,
    pub block: Option<Block>,
    pub span: Span,
}

/// `dataset NAME = SOURCE`
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetDecl {
    pub name: Ident,
    pub source: DataSourceDecl,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataSourceDecl {
    /// `inline(options) { [inputs] -> [targets] ... }`
    Inline {
        options: Option<Args>,
        rows: Vec<Row>,
        span: Span,
    },
    /// `csv("x.csv", target = "label")`, `idx(images = ..., labels = ...)`
    Call(Call),
}

/// `[0, 1] -> [1]` or `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub inputs: Expr,
    pub targets: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SimulateDecl {
    /// `simulate 1 s`
    Duration(Expr),
    /// `simulate { duration = 1 s }`
    Block(Block),
}

/// `record WHAT [of TARGETS] [from T] [until T] [every INTERVAL]` (clauses in any order)
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDecl {
    pub what: Ident,
    pub targets: Vec<Target>,
    /// `from 100 ms`: the start of the recording window (boxed, as is `until`, to keep
    /// `Stmt` small).
    pub from: Option<Box<Expr>>,
    /// `until 1 s`: the end of the recording window (excluded).
    pub until: Option<Box<Expr>>,
    pub every: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `E` or `E[0..10]` (a single index `E[3]` is `E[3..4]`).
    Population {
        name: Ident,
        slice: Option<Slice>,
        span: Span,
    },
    /// `A -> B`, `m -- m`
    Projection {
        source: Ident,
        arrow: Arrow,
        target: Ident,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub start: Expr,
    pub end: Option<Expr>,
    pub span: Span,
}

/// Call arguments in parentheses, positional or named.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args {
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// `name(args)`: distributions, optimizers, rules, dataset sources, connectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Args,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of this expression tree (a literal is 1). The parser refuses trees higher than
    /// `parse::MAX_EXPR_DEPTH`, so every recursive walk over an `Expr` is bounded.
    pub depth: u32,
}

impl ExprKind {
    /// Height of the tallest child expression (0 for literals).
    pub fn child_depth(&self) -> u32 {
        let max = |es: &mut dyn Iterator<Item = &Expr>| es.map(|e| e.depth).max().unwrap_or(0);
        match self {
            ExprKind::Number(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Index(..)
            | ExprKind::Constant(_)
            | ExprKind::Entry(..)
            | ExprKind::Invalid => 0,
            ExprKind::List(items) => max(&mut items.iter()),
            ExprKind::Range(a, b) | ExprKind::Binary(_, a, b) | ExprKind::Clip(a, b) => {
                a.depth.max(b.depth)
            }
            ExprKind::Neg(a) | ExprKind::Quantity(a, _) => a.depth,
            ExprKind::Call(c) => max(&mut c.args.args.iter().map(|a| &a.value)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// As written, before any unit is applied; `text` keeps the spelling for messages.
    Number(f64),
    Str(String),
    Bool(bool),
    /// A bare name: `relu`, `excitatory`, a dataset, or a unit used as a value (`1/ms`).
    Name(String),
    List(Vec<Expr>),
    /// `lo..hi`, half-open.
    Range(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `20 ms`, `(1 + 2) mV/ms`
    Quantity(Box<Expr>, Unit),
    Call(Call),
    /// `normal(...) clip [lo, hi]`
    Clip(Box<Expr>, Box<Expr>),
    /// `conn_prob[L23E, L4E]`, `v0_mean[self]`: a table and the names of its entry.
    Index(Ident, Vec<Ident>),
    /// A constant or table entry, replaced by its value where it is used (`check/values.rs`);
    /// never written by the parser.
    Constant(Box<Val>),
    /// `v0_mean[self]` in a population's template: the entry is taken per population when
    /// it is lowered. Never written by the parser.
    Entry(std::sync::Arc<Table>, Vec<Ident>),
    /// A use of a constant whose definition had errors (already reported): evaluates to
    /// nothing, silently. Never written by the parser.
    Invalid,
}

pub use crate::lang::check::units::Val;
pub use crate::lang::check::values::Table;

/// A unit as written: symbols joined by `*` or `/` (`mV/ms`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// (divide?, symbol) in order; the first is never a divisor.
    pub factors: Vec<(bool, String)>,
    pub text: String,
    pub span: Span,
}
