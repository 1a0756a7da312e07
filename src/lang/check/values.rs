//! Constants (`let w_e = 87.8 pA`), tables (`table p : to \ from [...] { ... }`), projection
//! templates (`let exc = projection { ... }`) and table-driven projections (`connect p : ...`),
//! resolved into the syntax tree before the other checks run.
//!
//! A constant is evaluated once, where it is defined, and every use of its name becomes that
//! value (`ExprKind::Constant`), so the checks after this one see ordinary values and check
//! their dimensions where they are used. A `connect` statement becomes one ordinary
//! projection statement per nonzero entry of its table, named `A->B` as any other, so
//! lowering and the engines need nothing new.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diag::{Diagnostic, Span, suggest};
use crate::lang::ast::{
    Arrow, Block, ConnectDecl, ConstDecl, Expr, ExprKind, Ident, Item, Let, NetworkDecl, Param,
    ProjectionDecl, RecordDecl, SimulateDecl, Stmt, TableDecl, Target,
};
use crate::lang::check::names;
use crate::lang::check::units::{Val, eval, resolve_unit};
use crate::lang::lower::PreparedOverride;
use crate::models::connector::{self, COMMON_PARAMS};
use crate::units::{self, Dim};

/// The word a projection template is built on: `let exc = projection { ... }`.
pub const PROJECTION: &str = "projection";

/// A table after its entries were evaluated: `entries[row][column]`, `None` where an entry
/// had an error (already reported). A table of one axis has one row without a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: Ident,
    /// `["to", "from"]` for `to \ from`, `["from"]` for one axis.
    pub axes: Vec<String>,
    pub rows: Vec<Ident>,
    pub columns: Vec<Ident>,
    pub entries: Vec<Vec<Option<(Val, Span)>>>,
}

impl Table {
    fn two_axes(&self) -> bool {
        self.axes.len() == 2
    }

    /// The entry `keys` name (row then column, or the column of a table of one axis).
    fn lookup(&self, keys: &[Ident], at: Span) -> Result<Option<&(Val, Span)>, Diagnostic> {
        let want = self.axes.len();
        if keys.len() != want {
            let example = if self.two_axes() {
                format!("{}[ROW, COLUMN]", self.name.name)
            } else {
                format!("{}[COLUMN]", self.name.name)
            };
            return Err(Diagnostic::error(
                "E0625",
                format!(
                    "table `{}` has {want} axis{} ({}), but {} name{} given",
                    self.name.name,
                    if want == 1 { "" } else { "es" },
                    self.axes.join(" \\ "),
                    keys.len(),
                    if keys.len() == 1 { " is" } else { "s are" },
                ),
            )
            .with_label(at, format!("expected `{example}`"))
            .with_label(self.name.span, "defined here"));
        }
        let find = |names: &[Ident], key: &Ident, axis: &str| {
            names
                .iter()
                .position(|n| n.name == key.name)
                .ok_or_else(|| {
                    let known: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                    let mut d = Diagnostic::error(
                        "E0625",
                        format!("table `{}` has no {axis} `{}`", self.name.name, key.name),
                    )
                    .with_label(key.span, format!("not a {axis} of `{}`", self.name.name));
                    d = match suggest(&key.name, known.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_note(format!("its {axis}s: {}", known.join(", "))),
                    };
                    d
                })
        };
        let (row, column) = if self.two_axes() {
            (
                find(&self.rows, &keys[0], "row")?,
                find(&self.columns, &keys[1], "column")?,
            )
        } else {
            (0, find(&self.columns, &keys[0], "column")?)
        };
        Ok(self.entries[row][column].as_ref())
    }

    /// The entry of the pair (source, target) by the axis words (`from`, `to`), if the
    /// table has those axes.
    fn by_pair(&self, source: &str, target: &str) -> Option<Option<&(Val, Span)>> {
        let key = |axis: &str| match axis {
            "from" => Some(source),
            "to" => Some(target),
            _ => None,
        };
        let keys: Vec<&str> = self.axes.iter().map(|a| key(a)).collect::<Option<_>>()?;
        let last = *keys.last()?;
        let column = self.columns.iter().position(|c| c.name == last)?;
        let row = if self.two_axes() {
            self.rows.iter().position(|r| r.name == keys[0])?
        } else {
            0
        };
        Some(self.entries[row][column].as_ref())
    }
}

/// What a name of the value namespace stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// A constant's value; `None` if its definition had errors.
    Const(Option<Val>),
    Table(Arc<Table>),
    /// A table whose shape had errors (reported): its uses say nothing more.
    BrokenTable,
}

/// The constants and tables visible at a place: the file's and imported ones, then a
/// network's own (a later definition of a name shadows an earlier one).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    values: Vec<(String, Binding)>,
}

impl Scope {
    fn find(&self, name: &str) -> Option<&Binding> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }

    fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.values.iter().map(|(n, _)| n.as_str())
    }

    /// Whether `name` is a constant (so `let fast = name` defines a constant, not a template).
    pub fn has_constant(&self, name: &str) -> bool {
        matches!(self.find(name), Some(Binding::Const(_)))
    }
}

/// Where a value is written, which decides what `self`, `from`, `to` and a bare table mean.
#[derive(Clone, Copy)]
enum Place<'a> {
    /// A constant's or table's definition: `later` are the names defined after it in the
    /// same scope, which it may not use yet.
    Definition { later: &'a [(String, Span)] },
    /// Any other value.
    Value,
    /// A population's block (with its name) or a population template (`None`: `self` is
    /// taken per population when it is lowered).
    Population(Option<&'a str>),
    /// A pair of a `connect` statement.
    Pair { source: &'a str, target: &'a str },
}

/// Names a constant may not have: units, settings, and the words of tables.
fn reserved(name: &str) -> Option<&'static str> {
    if units::lookup(name).is_some() {
        return Some("a unit");
    }
    match name {
        "seed" | "dt" | "output" | "simulate" => Some("a network setting"),
        "self" | "from" | "to" => Some("a key of table entries"),
        PROJECTION => Some("the base of projection templates"),
        _ => None,
    }
}

struct Resolver<'s> {
    scope: &'s Scope,
}

impl Resolver<'_> {
    fn expr(&self, e: &mut Expr, place: Place, diags: &mut Vec<Diagnostic>) {
        let span = e.span;
        let replaced = match &mut e.kind {
            ExprKind::Name(n) => self.name(n, span, place, false, diags),
            ExprKind::Index(table, keys) => Some(self.index(table, keys, span, place, diags)),
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, place, diags);
                }
                None
            }
            ExprKind::Range(a, b) | ExprKind::Clip(a, b) => {
                self.expr(a, place, diags);
                self.expr(b, place, diags);
                None
            }
            ExprKind::Binary(_, a, b) => {
                self.operand(a, place, diags);
                self.operand(b, place, diags);
                None
            }
            ExprKind::Neg(a) => {
                self.operand(a, place, diags);
                None
            }
            ExprKind::Quantity(a, _) => {
                self.expr(a, place, diags);
                None
            }
            ExprKind::Call(c) => {
                for a in &mut c.args.args {
                    self.expr(&mut a.value, place, diags);
                }
                None
            }
            ExprKind::Number(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Constant(_)
            | ExprKind::Entry(..)
            | ExprKind::Invalid => None,
        };
        if let Some(kind) = replaced {
            e.kind = kind;
        }
    }

    /// An operand of arithmetic: a name there must be a constant or a unit.
    fn operand(&self, e: &mut Expr, place: Place, diags: &mut Vec<Diagnostic>) {
        if let ExprKind::Name(n) = &e.kind {
            let n = n.clone();
            if let Some(kind) = self.name(&n, e.span, place, true, diags) {
                e.kind = kind;
            }
            return;
        }
        self.expr(e, place, diags);
    }

    /// A bare name: a constant's value, a pair's entry of a table, or left as it is (a
    /// symbol such as `relu`, a dataset, a unit). `in_arithmetic`: anything else is an
    /// unknown constant.
    fn name(
        &self,
        n: &str,
        span: Span,
        place: Place,
        in_arithmetic: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<ExprKind> {
        match self.scope.find(n) {
            Some(Binding::Const(Some(v))) => return Some(ExprKind::Constant(Box::new(v.clone()))),
            Some(Binding::Const(None) | Binding::BrokenTable) => return Some(ExprKind::Invalid),
            Some(Binding::Table(t)) => {
                if let Place::Pair { source, target } = place {
                    match t.by_pair(source, target) {
                        Some(Some((v, _))) => return Some(ExprKind::Constant(Box::new(v.clone()))),
                        Some(None) => return Some(ExprKind::Invalid),
                        None => {}
                    }
                }
                diags.push(bare_table(t, span, place));
                return Some(ExprKind::Invalid);
            }
            None => {}
        }
        if let Place::Definition { later } = place
            && let Some((_, at)) = later.iter().find(|(l, _)| l == n)
        {
            diags.push(
                Diagnostic::error(
                    "E0621",
                    format!("constant `{n}` is used before its definition"),
                )
                .with_label(span, "used here")
                .with_label(*at, "defined later here")
                .with_help(format!("move the definition of `{n}` above this one")),
            );
            return Some(ExprKind::Invalid);
        }
        if in_arithmetic && units::lookup(n).is_none() {
            diags.push(unknown_value(n, span, self.scope));
            return Some(ExprKind::Invalid);
        }
        None
    }

    fn index(
        &self,
        table: &Ident,
        keys: &[Ident],
        span: Span,
        place: Place,
        diags: &mut Vec<Diagnostic>,
    ) -> ExprKind {
        let t = match self.scope.find(&table.name) {
            Some(Binding::Table(t)) => t,
            Some(Binding::BrokenTable) => return ExprKind::Invalid,
            Some(Binding::Const(_)) => {
                diags.push(
                    Diagnostic::error(
                        "E0625",
                        format!("`{}` is a constant, not a table", table.name),
                    )
                    .with_label(table.span, "cannot be indexed")
                    .with_help(format!("write `{}` alone", table.name)),
                );
                return ExprKind::Invalid;
            }
            None => {
                let mut d = Diagnostic::error("E0620", format!("unknown table `{}`", table.name))
                    .with_label(table.span, "no table of this name");
                d = match suggest(&table.name, self.scope.names()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "define it: `table {} : to \\ from [...] {{ ... }}`",
                        table.name
                    )),
                };
                diags.push(d);
                return ExprKind::Invalid;
            }
        };
        let mut resolved = Vec::with_capacity(keys.len());
        let mut deferred = false;
        for key in keys {
            let name = match (key.name.as_str(), place) {
                ("self", Place::Population(Some(p))) => p.to_string(),
                ("self", Place::Population(None)) => {
                    deferred = true;
                    key.name.clone()
                }
                ("from", Place::Pair { source, .. }) => source.to_string(),
                ("to", Place::Pair { target, .. }) => target.to_string(),
                (word @ ("self" | "from" | "to"), _) => {
                    diags.push(key_out_of_place(word, key.span));
                    return ExprKind::Invalid;
                }
                _ => key.name.clone(),
            };
            resolved.push(Ident {
                name,
                span: key.span,
            });
        }
        if deferred {
            return ExprKind::Entry(t.clone(), resolved);
        }
        match t.lookup(&resolved, span) {
            Ok(Some((v, _))) => ExprKind::Constant(Box::new(v.clone())),
            Ok(None) => ExprKind::Invalid,
            Err(d) => {
                diags.push(d);
                ExprKind::Invalid
            }
        }
    }

    fn block(&self, block: &mut Block, place: Place, diags: &mut Vec<Diagnostic>) {
        for p in &mut block.params {
            self.expr(&mut p.value, place, diags);
        }
    }
}

fn key_out_of_place(word: &str, span: Span) -> Diagnostic {
    let (what, help) = match word {
        "self" => (
            "`self` names the population being declared",
            "use it in a population's block or template: `v = v0_mean[self]`",
        ),
        _ => (
            "`from` and `to` name the populations of a pair",
            "use them in a `connect` statement or the template it uses: `w_mean[from]`",
        ),
    };
    Diagnostic::error("E0625", format!("{what}, and there is none here"))
        .with_label(span, "not known here")
        .with_help(help)
}

/// E0625: a table where one value is expected.
fn bare_table(t: &Table, span: Span, place: Place) -> Diagnostic {
    let shape = if t.two_axes() {
        format!("{} × {}", t.rows.len(), t.columns.len())
    } else {
        format!("{}", t.columns.len())
    };
    let d = Diagnostic::error(
        "E0625",
        format!(
            "table `{}` ({shape}, {}) is not one value here",
            t.name.name,
            t.axes.join(" \\ ")
        ),
    )
    .with_label(span, "one value expected")
    .with_label(t.name.span, "defined here");
    match place {
        Place::Pair { .. } => d.with_help(
            "in `connect`, a table alone is the pair's entry only if its axes are `to \\ from`, \
             `from \\ to`, `from` or `to`; index it: `T[ROW, COLUMN]`",
        ),
        _ if t.two_axes() => d.with_help(format!(
            "take one entry: `{}[{}, {}]`, or use it in `connect {} : ...`",
            t.name.name,
            t.rows.first().map_or("ROW", |r| r.name.as_str()),
            t.columns.first().map_or("COLUMN", |c| c.name.as_str()),
            t.name.name
        )),
        _ => d.with_help(format!(
            "take one entry: `{}[{}]`",
            t.name.name,
            t.columns.first().map_or("COLUMN", |c| c.name.as_str())
        )),
    }
}

/// E0620 with the nearest constant or table suggested.
fn unknown_value(n: &str, span: Span, scope: &Scope) -> Diagnostic {
    let d = Diagnostic::error("E0620", format!("unknown constant `{n}`"))
        .with_label(span, "no constant of this name");
    match suggest(n, scope.names()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("define it: `let {n} = ...`")),
    }
}

/// A definition of the value namespace, in source order.
enum Def<'a> {
    Const(&'a mut ConstDecl),
    Table(&'a mut TableDecl),
}

impl Def<'_> {
    fn name(&self) -> &Ident {
        match self {
            Def::Const(c) => &c.name,
            Def::Table(t) => &t.name,
        }
    }
}

/// Defines constants and tables in order into `scope`. A `--set NAME=VALUE` override of a
/// constant replaces its value (and so that of every constant and table defined from it).
fn define(
    defs: Vec<Def>,
    scope: &mut Scope,
    overrides: &[PreparedOverride],
    used: &mut [bool],
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    let names: Vec<(String, Span)> = defs
        .iter()
        .map(|d| (d.name().name.clone(), d.name().span))
        .collect();
    for (i, def) in defs.into_iter().enumerate() {
        let name = def.name().clone();
        if let Some(first) = seen.get(&name.name) {
            diags.push(names::duplicate(
                "constant",
                &name,
                &Ident {
                    name: name.name.clone(),
                    span: *first,
                },
            ));
            continue;
        }
        seen.insert(name.name.clone(), name.span);
        if let Some(what) = reserved(&name.name) {
            diags.push(
                Diagnostic::error(
                    "E0628",
                    format!(
                        "`{}` cannot name a constant or table: it is {what}",
                        name.name
                    ),
                )
                .with_label(name.span, "reserved")
                .with_help("choose another name"),
            );
            continue;
        }
        let place = Place::Definition {
            later: &names[i + 1..],
        };
        let resolver = Resolver { scope };
        let binding = match def {
            Def::Const(c) => {
                resolver.expr(&mut c.value, place, diags);
                let mut value = eval(&c.value, diags);
                let set = overrides
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, o)| o.target.is_none() && o.param.name == name.name);
                if let Some((k, o)) = set {
                    used[k] = true;
                    let mut expr = o.value.clone();
                    resolver.expr(&mut expr, Place::Value, diags);
                    value = match (value, eval(&expr, diags)) {
                        (Some(old), Some(new)) => match (dimension(&old), dimension(&new)) {
                            (Some(a), Some(b)) if a != b => {
                                diags.push(
                                    Diagnostic::error(
                                        "E0627",
                                        format!(
                                            "`--set {}`: the constant is {}, the value {}",
                                            name.name,
                                            a.name(),
                                            b.name()
                                        ),
                                    )
                                    .with_label(o.value.span, format!("this is {}", b.name()))
                                    .with_label(c.value.span, format!("{} here", a.name()))
                                    .with_help(format!(
                                        "give a value of {}, e.g. `{}`",
                                        a.name(),
                                        a.example_unit()
                                    )),
                                );
                                None
                            }
                            _ => Some(new),
                        },
                        _ => None,
                    };
                }
                Binding::Const(value)
            }
            Def::Table(t) => match table(t, &resolver, place, diags) {
                Some(t) => Binding::Table(Arc::new(t)),
                None => Binding::BrokenTable,
            },
        };
        scope.values.push((name.name, binding));
    }
}

/// The dimension of a number or distribution.
fn dimension(v: &Val) -> Option<Dim> {
    match v {
        Val::Num { dim, .. } | Val::Dist { dim, .. } | Val::Linear { dim, .. } => Some(*dim),
        _ => None,
    }
}

/// Checks a table's shape and evaluates its entries.
fn table(
    decl: &mut TableDecl,
    resolver: &Resolver,
    place: Place,
    diags: &mut Vec<Diagnostic>,
) -> Option<Table> {
    let two = decl.axes.len() == 2;
    let axes_text: Vec<&str> = decl.axes.iter().map(|a| a.name.as_str()).collect();
    let mut ok = true;
    let _ = names::declare("column", decl.columns.iter().map(|c| (c, ())), diags);
    let _ = names::declare(
        "row",
        decl.rows
            .iter()
            .filter_map(|r| r.name.as_ref().map(|n| (n, ()))),
        diags,
    );
    if decl.rows.is_empty() {
        diags.push(
            Diagnostic::error("E0622", format!("table `{}` has no rows", decl.name.name))
                .with_label(decl.span, "empty"),
        );
        return None;
    }
    for row in &decl.rows {
        match (&row.name, two) {
            (None, true) => {
                diags.push(
                    Diagnostic::error(
                        "E0622",
                        format!(
                            "a row of table `{}` ({}) has no name",
                            decl.name.name,
                            axes_text.join(" \\ ")
                        ),
                    )
                    .with_label(row.list_span, "unnamed row")
                    .with_help(format!(
                        "name each row by its {}: `NAME: [...]`",
                        axes_text[0]
                    )),
                );
                ok = false;
            }
            (Some(n), false) => {
                diags.push(
                    Diagnostic::error(
                        "E0622",
                        format!(
                            "table `{}` has one axis ({}): its one row has no name",
                            decl.name.name, axes_text[0]
                        ),
                    )
                    .with_label(n.span, "a row name")
                    .with_help(format!(
                        "write `table {} : ROWS \\ {} [...]` for named rows, or drop the name",
                        decl.name.name, axes_text[0]
                    )),
                );
                ok = false;
            }
            _ => {}
        }
        if row.values.len() != decl.columns.len() {
            let which = row
                .name
                .as_ref()
                .map_or_else(|| "the row".to_string(), |n| format!("row `{}`", n.name));
            diags.push(
                Diagnostic::error(
                    "E0622",
                    format!(
                        "{which} of table `{}` has {} entries for {} columns",
                        decl.name.name,
                        row.values.len(),
                        decl.columns.len()
                    ),
                )
                .with_label(row.list_span, format!("{} entries", row.values.len()))
                .with_label(
                    decl.columns.first().map_or(decl.name.span, |c| {
                        c.span.to(decl.columns.last().expect("columns").span)
                    }),
                    format!("{} columns", decl.columns.len()),
                )
                .with_help("give one entry per column, 0 where there is none"),
            );
            ok = false;
        }
    }
    if !two && decl.rows.len() > 1 {
        diags.push(
            Diagnostic::error(
                "E0622",
                format!(
                    "table `{}` has one axis and {} rows",
                    decl.name.name,
                    decl.rows.len()
                ),
            )
            .with_label(decl.rows[1].span, "a second row")
            .with_help(format!(
                "a table of several rows names them: `table {} : ROWS \\ {} [...] {{ A: [...] }}`",
                decl.name.name, axes_text[0]
            )),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let unit = match &decl.unit {
        Some(u) => Some((resolve_unit(u, diags)?, u.span)),
        None => None,
    };
    let mut entries = Vec::with_capacity(decl.rows.len());
    for row in &mut decl.rows {
        let mut values = Vec::with_capacity(row.values.len());
        for e in &mut row.values {
            resolver.expr(e, place, diags);
            let v = eval(e, diags).and_then(|v| with_unit(v, unit, e.span, diags));
            values.push(v.map(|v| (v, e.span)));
        }
        same_dimension(&decl.name.name, row.name.as_ref(), &mut values, diags);
        entries.push(values);
    }
    Some(Table {
        name: decl.name.clone(),
        axes: axes_text.iter().map(|a| a.to_string()).collect(),
        rows: decl.rows.iter().filter_map(|r| r.name.clone()).collect(),
        columns: decl.columns.clone(),
        entries,
    })
}

/// An entry of a table with a unit (`in pA`) is a plain number, then in that unit.
fn with_unit(
    v: Val,
    unit: Option<((f64, Dim), Span)>,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Val> {
    let Some(((factor, dim), unit_span)) = unit else {
        return Some(v);
    };
    match v {
        Val::Num {
            value,
            dim: Dim::NONE,
        } => Some(Val::Num {
            value: value * factor,
            dim,
        }),
        other => {
            diags.push(
                Diagnostic::error(
                    "E0624",
                    format!(
                        "an entry of a table `in` a unit is a plain number, found {}",
                        other.describe()
                    ),
                )
                .with_label(span, "expected a number without unit")
                .with_label(unit_span, "the unit of every entry"),
            );
            None
        }
    }
}

/// The numbers of one row share a dimension; 0 fits any. The entries that do not are
/// reported and taken out (so their uses report nothing more).
fn same_dimension(
    table: &str,
    row: Option<&Ident>,
    values: &mut [Option<(Val, Span)>],
    diags: &mut Vec<Diagnostic>,
) {
    let dims: Vec<(Dim, Span)> = values
        .iter()
        .flatten()
        .filter(|(v, _)| !matches!(v, Val::Num { value, dim: Dim::NONE } if *value == 0.0))
        .filter_map(|(v, s)| dimension(v).map(|d| (d, *s)))
        .collect();
    let Some(&(first, first_span)) = dims.iter().find(|(d, _)| *d != Dim::NONE).or(dims.first())
    else {
        return;
    };
    let Some(&(odd, odd_span)) = dims.iter().find(|(d, _)| *d != first) else {
        return;
    };
    let which = row.map_or_else(|| "the row".to_string(), |r| format!("row `{}`", r.name));
    let message = if odd == Dim::NONE {
        format!(
            "an entry of {which} of table `{table}` has no unit; the others are {}",
            plural(first)
        )
    } else {
        format!(
            "{which} of table `{table}` mixes {} and {}",
            plural(first),
            plural(odd)
        )
    };
    let help = if odd == Dim::NONE {
        format!(
            "add the unit, e.g. `{}`, or give the table one: `in {}`",
            first.example_unit(),
            first.example_unit()
        )
    } else {
        "the entries of a row are of one dimension".to_string()
    };
    diags.push(
        Diagnostic::error("E0624", message)
            .with_label(odd_span, odd.name())
            .with_label(first_span, first.name())
            .with_help(help),
    );
    for v in values.iter_mut() {
        if v.as_ref().and_then(|(v, _)| dimension(v)).is_some_and(|d| {
            d != first
                && !matches!(v, Some((Val::Num { value, dim: Dim::NONE }, _)) if *value == 0.0)
        }) {
            *v = None;
        }
    }
}

/// "currents", "plain numbers".
fn plural(d: Dim) -> String {
    let n = d.name();
    let n = n
        .strip_prefix("a ")
        .or_else(|| n.strip_prefix("an "))
        .unwrap_or(&n);
    format!("{n}s")
}

/// Resolves the values of a whole compilation: file-level definitions (imports first), then
/// every network of `file`. `--set NAME=VALUE` overrides of constants are marked in `used`,
/// and the values of all overrides are resolved in the file's scope.
pub fn resolve(
    imported: &mut [crate::lang::ast::File],
    file: &mut crate::lang::ast::File,
    overrides: &mut [PreparedOverride],
    used: &mut [bool],
    diags: &mut Vec<Diagnostic>,
) {
    let mut scope = Scope::default();
    let mut projection_templates: Vec<Let> = Vec::new();
    {
        let mut defs = Vec::new();
        let mut files: Vec<&mut crate::lang::ast::File> = imported.iter_mut().collect();
        files.push(file);
        // `let a = b` is a constant when `b` is one defined before it.
        let mut constants: Vec<String> = Vec::new();
        for f in &mut files {
            for item in &mut f.items {
                match item {
                    Item::Let(l) if l.block.is_none() && constants.contains(&l.model.name) => {
                        let c = alias(l);
                        constants.push(c.name.name.clone());
                        *item = Item::Const(c);
                    }
                    Item::Const(c) => constants.push(c.name.name.clone()),
                    Item::Table(t) => constants.push(t.name.name.clone()),
                    _ => {}
                }
            }
        }
        for f in files {
            for item in &mut f.items {
                match item {
                    Item::Const(c) => defs.push(Def::Const(c)),
                    Item::Table(t) => defs.push(Def::Table(t)),
                    _ => {}
                }
            }
        }
        define(defs, &mut scope, overrides, used, diags);
    }
    // Projection templates leave the items (they are no population templates); population
    // templates have their values resolved, `self` kept for each population.
    for f in imported.iter_mut().chain(std::iter::once(&mut *file)) {
        take_projection_templates(&mut f.items, &mut projection_templates, |i| match i {
            Item::Let(l) => Some(l),
            _ => None,
        });
        let resolver = Resolver { scope: &scope };
        for item in &mut f.items {
            if let Item::Let(l) = item
                && let Some(b) = &mut l.block
            {
                resolver.block(b, Place::Population(None), diags);
            }
        }
    }
    let resolver = Resolver { scope: &scope };
    for o in overrides.iter_mut() {
        resolver.expr(&mut o.value, Place::Population(None), diags);
    }
    for item in &mut file.items {
        if let Item::Network(n) = item {
            network(n, &scope, &projection_templates, (overrides, used), diags);
        }
    }
}

/// `let a = b` where `b` is a constant.
fn alias(l: &Let) -> ConstDecl {
    ConstDecl {
        name: l.name.clone(),
        value: Expr {
            kind: ExprKind::Name(l.model.name.clone()),
            span: l.model.span,
            depth: 1,
        },
        span: l.span,
    }
}

/// Moves every projection template (`let x = projection { ... }`, or one built on another
/// projection template) out of `items` into `out`.
fn take_projection_templates<T>(
    items: &mut Vec<T>,
    out: &mut Vec<Let>,
    as_let: impl Fn(&T) -> Option<&Let>,
) {
    loop {
        let before = out.len();
        items.retain(|i| match as_let(i) {
            Some(l)
                if l.model.name == PROJECTION
                    || out.iter().any(|p| p.name.name == l.model.name) =>
            {
                out.push(l.clone());
                false
            }
            _ => true,
        });
        if out.len() == before {
            return;
        }
    }
}

/// Resolves one network: its own constants and tables, then every value in it; `connect`
/// statements become projection statements.
fn network(
    net: &mut NetworkDecl,
    file_scope: &Scope,
    file_projection_templates: &[Let],
    (overrides, used): (&[PreparedOverride], &mut [bool]),
    diags: &mut Vec<Diagnostic>,
) {
    let mut scope = file_scope.clone();
    let mut constants: Vec<String> = Vec::new();
    for stmt in &mut net.body {
        match stmt {
            Stmt::Let(l)
                if l.block.is_none()
                    && (constants.contains(&l.model.name) || scope.has_constant(&l.model.name)) =>
            {
                let c = alias(l);
                constants.push(c.name.name.clone());
                *stmt = Stmt::Const(c);
            }
            Stmt::Const(c) => constants.push(c.name.name.clone()),
            Stmt::Table(t) => constants.push(t.name.name.clone()),
            _ => {}
        }
    }
    let defs: Vec<Def> = net
        .body
        .iter_mut()
        .filter_map(|s| match s {
            Stmt::Const(c) => Some(Def::Const(c)),
            Stmt::Table(t) => Some(Def::Table(t)),
            _ => None,
        })
        .collect();
    define(defs, &mut scope, overrides, used, diags);
    let mut templates: Vec<Let> = file_projection_templates.to_vec();
    take_projection_templates(&mut net.body, &mut templates, |s| match s {
        Stmt::Let(l) => Some(l),
        _ => None,
    });
    let resolver = Resolver { scope: &scope };
    let body = std::mem::take(&mut net.body);
    for mut stmt in body {
        match &mut stmt {
            Stmt::Setting(p) => resolver.expr(&mut p.value, Place::Value, diags),
            Stmt::Let(l) => {
                if let Some(b) = &mut l.block {
                    resolver.block(b, Place::Population(None), diags);
                }
            }
            Stmt::Const(_) | Stmt::Table(_) => {}
            Stmt::Population(p) => {
                let place = Place::Population(Some(&p.name.name));
                for e in &mut p.shape {
                    resolver.expr(e, place, diags);
                }
                if let Some(b) = &mut p.block {
                    resolver.block(b, place, diags);
                }
            }
            Stmt::Projection(p) => {
                with_template(p, &templates, diags);
                if let Some(args) = &mut p.connector_args {
                    for a in &mut args.args {
                        resolver.expr(&mut a.value, Place::Value, diags);
                    }
                }
                if let Some(b) = &mut p.block {
                    resolver.block(b, Place::Value, diags);
                }
            }
            Stmt::Connect(c) => {
                for p in connect(c, &resolver, &templates, diags) {
                    net.body.push(Stmt::Projection(p));
                }
                continue;
            }
            Stmt::Dataset(d) => match &mut d.source {
                crate::lang::ast::DataSourceDecl::Inline { options, rows, .. } => {
                    if let Some(o) = options {
                        for a in &mut o.args {
                            resolver.expr(&mut a.value, Place::Value, diags);
                        }
                    }
                    for r in rows {
                        resolver.expr(&mut r.inputs, Place::Value, diags);
                        if let Some(t) = &mut r.targets {
                            resolver.expr(t, Place::Value, diags);
                        }
                    }
                }
                crate::lang::ast::DataSourceDecl::Call(c) => {
                    for a in &mut c.args.args {
                        resolver.expr(&mut a.value, Place::Value, diags);
                    }
                }
            },
            Stmt::Train(t) => resolver.block(&mut t.block, Place::Value, diags),
            Stmt::Evaluate(b) => resolver.block(b, Place::Value, diags),
            Stmt::Simulate(SimulateDecl::Duration(e)) => resolver.expr(e, Place::Value, diags),
            Stmt::Simulate(SimulateDecl::Block(b)) => resolver.block(b, Place::Value, diags),
            Stmt::Record(r) => record(r, &resolver, diags),
        }
        net.body.push(stmt);
    }
}

fn record(r: &mut RecordDecl, resolver: &Resolver, diags: &mut Vec<Diagnostic>) {
    for e in [
        r.from.as_deref_mut(),
        r.until.as_deref_mut(),
        r.every.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        resolver.expr(e, Place::Value, diags);
    }
    for t in &mut r.targets {
        if let Target::Population { slice: Some(s), .. } = t {
            resolver.expr(&mut s.start, Place::Value, diags);
            if let Some(e) = &mut s.end {
                resolver.expr(e, Place::Value, diags);
            }
        }
    }
}

/// The entries of projection template `name` and the templates it is built on, outermost
/// first; E0630 if it is not a projection template.
fn template_entries(
    name: &Ident,
    templates: &[Let],
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<Param>> {
    let mut layers: Vec<Vec<Param>> = Vec::new();
    let mut current = name.clone();
    let mut seen: Vec<String> = Vec::new();
    while current.name != PROJECTION {
        let Some(t) = templates.iter().rev().find(|t| t.name.name == current.name) else {
            let known: Vec<&str> = templates.iter().map(|t| t.name.name.as_str()).collect();
            let mut d = Diagnostic::error(
                "E0630",
                format!("`{}` is not a projection template", current.name),
            )
            .with_label(current.span, "no projection template of this name");
            d = match suggest(&current.name, known.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!(
                    "define it: `let {} = projection {{ weight = ..., delay = ... }}`",
                    current.name
                )),
            };
            diags.push(d);
            return None;
        };
        if seen.contains(&t.name.name) {
            diags.push(
                Diagnostic::error(
                    "E0116",
                    format!("template `{}` is defined in terms of itself", t.name.name),
                )
                .with_label(t.model.span, "refers back to itself here"),
            );
            return None;
        }
        seen.push(t.name.name.clone());
        layers.push(
            t.block
                .as_ref()
                .map(|b| b.params.clone())
                .unwrap_or_default(),
        );
        current = t.model.clone();
    }
    layers.reverse();
    Some(layered(layers))
}

/// Entries of later layers replace those of the same name in earlier ones.
fn layered(layers: impl IntoIterator<Item = Vec<Param>>) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    for layer in layers {
        for p in layer {
            out.retain(|o| o.name.name != p.name.name);
            out.push(p);
        }
    }
    out
}

/// `A -> B : c with T { ... }`: T's entries go first in the block.
fn with_template(p: &mut ProjectionDecl, templates: &[Let], diags: &mut Vec<Diagnostic>) {
    let Some(name) = p.template.take() else {
        return;
    };
    let Some(base) = template_entries(&name, templates, diags) else {
        return;
    };
    let own = p
        .block
        .as_ref()
        .map(|b| b.params.clone())
        .unwrap_or_default();
    let span = p.block.as_ref().map_or(name.span, |b| b.span);
    // The block's own duplicates are still reported by the checker: only the template's
    // entries that the block gives again are dropped.
    let mut params: Vec<Param> = base
        .into_iter()
        .filter(|b| !own.iter().any(|o| o.name.name == b.name.name))
        .collect();
    params.extend(own);
    p.block = Some(Block { params, span });
}

/// (source, target, entry) of one pair of a table; no entry where it had errors.
type PairEntry<'t> = (&'t Ident, &'t Ident, Option<&'t (Val, Span)>);

/// Expands `connect TABLE : ...` into one projection statement per nonzero entry.
fn connect(
    c: &ConnectDecl,
    resolver: &Resolver,
    templates: &[Let],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ProjectionDecl> {
    let table = match resolver.scope.find(&c.table.name) {
        Some(Binding::Table(t)) => t.clone(),
        Some(Binding::BrokenTable) => return Vec::new(),
        Some(Binding::Const(_)) => {
            diags.push(
                Diagnostic::error(
                    "E0625",
                    format!("`{}` is a constant; `connect` takes a table", c.table.name),
                )
                .with_label(c.table.span, "not a table"),
            );
            return Vec::new();
        }
        None => {
            let known: Vec<&str> = resolver
                .scope
                .values
                .iter()
                .filter(|(_, b)| matches!(b, Binding::Table(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            diags.push(names::unknown("E0620", "table", &c.table, &known));
            return Vec::new();
        }
    };
    let from_to = match table.axes.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["to", "from"] => Some(false),
        ["from", "to"] => Some(true),
        _ => None,
    };
    let Some(rows_are_sources) = from_to else {
        diags.push(
            Diagnostic::error(
                "E0625",
                format!(
                    "`connect` needs a table of pairs, and `{}` is `{}`",
                    table.name.name,
                    table.axes.join(" \\ ")
                ),
            )
            .with_label(c.table.span, "not a table of pairs")
            .with_label(table.name.span, "defined here")
            .with_help(format!(
                "write its axes `to \\ from` (rows are targets) or `from \\ to`: `table {} : to \\ from [...]`",
                table.name.name
            )),
        );
        return Vec::new();
    };
    let base = match &c.template {
        Some(t) => match template_entries(t, templates, diags) {
            Some(p) => p,
            None => return Vec::new(),
        },
        None => Vec::new(),
    };
    let connector_params: Vec<&str> = connector::find(&c.connector.name)
        .map(|k| {
            k.params
                .iter()
                .chain(COMMON_PARAMS)
                .map(|p| p.name)
                .collect()
        })
        .unwrap_or_default();
    // Every pair: (source, target, entry).
    let mut pairs: Vec<PairEntry> = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        for (k, column) in table.columns.iter().enumerate() {
            let (s, t) = if rows_are_sources {
                (row, column)
            } else {
                (column, row)
            };
            pairs.push((s, t, table.entries[r][k].as_ref()));
        }
    }
    let is_zero =
        |e: Option<&(Val, Span)>| matches!(e, Some((Val::Num { value, .. }, _)) if *value == 0.0);
    for pb in &c.pairs {
        let found = pairs
            .iter()
            .find(|(s, t, _)| s.name == pb.source.name && t.name == pb.target.name);
        match found {
            Some((_, _, e)) if is_zero(*e) => diags.push(
                Diagnostic::error(
                    "E0626",
                    format!(
                        "the entry of {} -> {} in table `{}` is 0: there is no projection to change",
                        pb.source.name, pb.target.name, table.name.name
                    ),
                )
                .with_label(pb.source.span.to(pb.target.span), "creates no projection")
                .with_label(e.map_or(table.name.span, |(_, s)| *s), "0 here")
                .with_help("give the entry a value in the table to create the projection"),
            ),
            Some(_) => {}
            None => {
                let (sources, targets) = if rows_are_sources {
                    (&table.rows, &table.columns)
                } else {
                    (&table.columns, &table.rows)
                };
                let mut d = Diagnostic::error(
                    "E0626",
                    format!(
                        "table `{}` has no pair {} -> {}",
                        table.name.name, pb.source.name, pb.target.name
                    ),
                )
                .with_label(pb.source.span.to(pb.target.span), "not a pair of the table");
                for (end, names, axis) in
                    [(&pb.source, sources, "from"), (&pb.target, targets, "to")]
                {
                    if names.iter().any(|n| n.name == end.name) {
                        continue;
                    }
                    let known: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                    d = match suggest(&end.name, known.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}` (`{axis}`)?")),
                        None => d.with_note(format!(
                            "`{axis}` of `{}`: {}",
                            table.name.name,
                            known.join(", ")
                        )),
                    };
                }
                diags.push(d);
            }
        }
    }
    let mut out = Vec::new();
    for (s, t, entry) in pairs {
        if entry.is_none() || is_zero(entry) {
            continue;
        }
        let place = Place::Pair {
            source: &s.name,
            target: &t.name,
        };
        let own = c
            .pairs
            .iter()
            .filter(|p| p.source.name == s.name && p.target.name == t.name)
            .flat_map(|p| p.block.params.iter().cloned());
        let (mut args, params): (Vec<Param>, Vec<Param>) =
            layered([base.clone(), c.params.clone()])
                .into_iter()
                .chain(own)
                .partition(|p| {
                    connector_params.contains(&p.name.name.as_str())
                        && !matches!(p.name.name.as_str(), "weight" | "delay")
                });
        let mut connector_args = c.connector_args.clone();
        let mut block = Block {
            params: layered([params]),
            span: c.span,
        };
        if !args.is_empty() {
            let a = connector_args.get_or_insert_with(Default::default);
            a.args.retain(|x| {
                !args
                    .iter()
                    .any(|p| x.name.as_ref().is_some_and(|n| n.name == p.name.name))
            });
            a.args.extend(args.drain(..).map(|p| crate::lang::ast::Arg {
                span: p.span,
                name: Some(p.name),
                value: p.value,
            }));
        }
        if let Some(a) = &mut connector_args {
            for arg in &mut a.args {
                resolver.expr(&mut arg.value, place, diags);
            }
        }
        resolver.block(&mut block, place, diags);
        out.push(ProjectionDecl {
            stages: vec![vec![s.clone()], vec![t.clone()]],
            arrows: vec![(Arrow::Directed, c.table.span)],
            connector: c.connector.clone(),
            connector_args,
            template: None,
            block: Some(block),
            span: c.span,
        });
    }
    out
}

/// A population's value with its `self` entries taken (`v0_mean[self]` in a template), or
/// `None` if it has none.
pub fn for_population(expr: &Expr, population: &str, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    if !has_entry(expr) {
        return None;
    }
    let mut e = expr.clone();
    take_entries(&mut e, population, diags);
    Some(e)
}

fn has_entry(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Entry(..) => true,
        ExprKind::List(items) => items.iter().any(has_entry),
        ExprKind::Range(a, b) | ExprKind::Clip(a, b) | ExprKind::Binary(_, a, b) => {
            has_entry(a) || has_entry(b)
        }
        ExprKind::Neg(a) | ExprKind::Quantity(a, _) => has_entry(a),
        ExprKind::Call(c) => c.args.args.iter().any(|a| has_entry(&a.value)),
        _ => false,
    }
}

fn take_entries(e: &mut Expr, population: &str, diags: &mut Vec<Diagnostic>) {
    let span = e.span;
    match &mut e.kind {
        ExprKind::Entry(t, keys) => {
            let keys: Vec<Ident> = keys
                .iter()
                .map(|k| Ident {
                    name: if k.name == "self" {
                        population.to_string()
                    } else {
                        k.name.clone()
                    },
                    span: k.span,
                })
                .collect();
            e.kind = match t.lookup(&keys, span) {
                Ok(Some((v, _))) => ExprKind::Constant(Box::new(v.clone())),
                Ok(None) => ExprKind::Invalid,
                Err(d) => {
                    diags.push(d);
                    ExprKind::Invalid
                }
            };
        }
        ExprKind::List(items) => {
            for i in items {
                take_entries(i, population, diags);
            }
        }
        ExprKind::Range(a, b) | ExprKind::Clip(a, b) | ExprKind::Binary(_, a, b) => {
            take_entries(a, population, diags);
            take_entries(b, population, diags);
        }
        ExprKind::Neg(a) | ExprKind::Quantity(a, _) => take_entries(a, population, diags),
        ExprKind::Call(c) => {
            for a in &mut c.args.args {
                take_entries(&mut a.value, population, diags);
            }
        }
        _ => {}
    }
}

/// Whether a value still waits for its population (`self`): such template entries are
/// checked per population, not on the template.
pub fn waits_for_population(e: &Expr) -> bool {
    has_entry(e)
}
