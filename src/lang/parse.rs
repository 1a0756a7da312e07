//! pest pairs to the typed AST: one function per grammar rule, named after it.
//!
//! This is the only file that walks `Pair<Rule>`. The grammar guarantees the shape of each
//! pair, so a mismatch is a bug in this file, reported by `unreachable!` naming the function.

use pest::iterators::Pair;

use super::ast::*;
use super::syntax::{self, Rule};
use crate::diag::{Diagnostic, FileId, Span};

/// Parses a whole file. `None` (with at least one diagnostic) if the text is not valid syntax.
pub fn parse_file(file: FileId, text: &str) -> (Option<File>, Vec<Diagnostic>) {
    let pre = syntax::prescan(file, text);
    if !pre.is_empty() {
        return (None, pre);
    }
    match syntax::parse_rule(Rule::file, file, text) {
        Ok(mut pairs) => {
            let Some(pair) = pairs.next() else {
                return (None, vec![Diagnostic::error("E0001", "empty parse")]);
            };
            let mut p = Lowerer {
                file,
                offset: 0,
                diagnostics: Vec::new(),
            };
            let ast = p.file(pair);
            (Some(ast), p.diagnostics)
        }
        Err(d) => (None, vec![d]),
    }
}

/// Parses one value standing alone (the right-hand side of `--set PATH=VALUE`). `offset` is
/// where `text` starts within file `file`, so spans point into the whole argument.
pub fn parse_value(file: FileId, text: &str, offset: usize) -> Result<Expr, Diagnostic> {
    let shift = |mut d: Diagnostic| {
        for l in &mut d.labels {
            l.span.start += offset as u32;
            l.span.end += offset as u32;
        }
        d
    };
    if let Some(d) = syntax::prescan(file, text).into_iter().next() {
        return Err(shift(d));
    }
    let mut pairs = syntax::parse_rule(Rule::override_value, file, text).map_err(shift)?;
    let mut p = Lowerer {
        file,
        offset,
        diagnostics: Vec::new(),
    };
    let Some(value) = pairs
        .next()
        .and_then(|o| o.into_inner().find(|x| x.as_rule() == Rule::value))
    else {
        return Err(Diagnostic::error("E0001", "expected a value"));
    };
    let expr = p.value(value);
    match p.diagnostics.into_iter().next() {
        Some(d) => Err(d),
        None => Ok(expr),
    }
}

/// Highest expression tree accepted (real values stay below 20): bounds the recursion of
/// every later walk, whatever the input (`1+1+...+1` a million times, `- - - ... 1`).
pub const MAX_EXPR_DEPTH: u32 = 256;

struct Lowerer {
    file: FileId,
    /// Byte offset of the parsed text within its file (non-zero for `--set` values).
    offset: usize,
    /// Problems found while building nodes (numbers that do not fit in an f64).
    diagnostics: Vec<Diagnostic>,
}

impl Lowerer {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start() + self.offset, s.end() + self.offset)
    }

    /// Builds an expression node; one deeper than `MAX_EXPR_DEPTH` is reported and replaced
    /// by a literal, so no taller tree ever exists.
    fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let depth = kind.child_depth() + 1;
        if depth > MAX_EXPR_DEPTH {
            if !self.diagnostics.iter().any(|d| d.code == "E0004") {
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0004",
                        format!("expression nested more than {MAX_EXPR_DEPTH} deep"),
                    )
                    .with_label(span, "too deep")
                    .with_help("split it, or write the value it computes"),
                );
            }
            return Expr {
                kind: ExprKind::Number(0.0),
                span,
                depth: 1,
            };
        }
        Expr { kind, span, depth }
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::name);
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn file(&mut self, pair: Pair<Rule>) -> File {
        let span = self.span(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::import => items.push(Item::Import(self.import(p))),
                Rule::let_stmt => items.push(Item::Let(self.let_stmt(p))),
                Rule::constant => items.push(match self.constant(p) {
                    Stmt::Let(l) => Item::Let(l),
                    Stmt::Const(c) => Item::Const(c),
                    s => unreachable!("constant: {s:?}"),
                }),
                Rule::table => items.push(Item::Table(self.table(p))),
                Rule::neuron_def => items.push(Item::Neuron(self.neuron_def(p))),
                Rule::synapse_def => items.push(Item::Synapse(self.synapse_def(p))),
                Rule::network => items.push(Item::Network(self.network(p))),
                Rule::EOI => {}
                r => unreachable!("file: {r:?}"),
            }
        }
        File { items, span }
    }

    fn import(&mut self, pair: Pair<Rule>) -> Import {
        let span = self.span(&pair);
        let s = pair.into_inner().next().expect("import has a string");
        let path_span = self.span(&s);
        Import {
            path: self.string(s),
            path_span,
            span,
        }
    }

    fn network(&mut self, pair: Pair<Rule>) -> NetworkDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("network name"));
        let mode = self.ident(inner.next().expect("network mode"));
        let body = self.body(inner.next().expect("network body"));
        NetworkDecl {
            name,
            mode,
            body,
            span,
        }
    }

    fn body(&mut self, pair: Pair<Rule>) -> Vec<Stmt> {
        pair.into_inner().map(|p| self.statement(p)).collect()
    }

    fn statement(&mut self, pair: Pair<Rule>) -> Stmt {
        match pair.as_rule() {
            Rule::setting => Stmt::Setting(self.param(pair)),
            Rule::let_stmt => Stmt::Let(self.let_stmt(pair)),
            Rule::constant => self.constant(pair),
            Rule::table => Stmt::Table(self.table(pair)),
            Rule::connect => Stmt::Connect(self.connect(pair)),
            Rule::population => Stmt::Population(self.population(pair)),
            Rule::projection => Stmt::Projection(self.projection(pair)),
            Rule::dataset => Stmt::Dataset(self.dataset(pair)),
            Rule::train => Stmt::Train(self.train(pair)),
            Rule::evaluate => Stmt::Evaluate(self.evaluate(pair)),
            Rule::simulate => Stmt::Simulate(self.simulate(pair)),
            Rule::record => Stmt::Record(self.record(pair)),
            r => unreachable!("statement: {r:?}"),
        }
    }

    fn param(&mut self, pair: Pair<Rule>) -> Param {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("param name"));
        let value = self.value(inner.next().expect("param value"));
        Param { name, value, span }
    }

    fn neuron_def(&mut self, pair: Pair<Rule>) -> NeuronDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("neuron name"));
        let body = inner.next().expect("neuron body");
        let mut items = Vec::new();
        for p in body.into_inner() {
            match p.as_rule() {
                Rule::param_decl => {
                    items.extend(p.into_inner().map(|q| NeuronItem::Param(self.param(q))))
                }
                Rule::state_decl => {
                    items.extend(p.into_inner().map(|q| NeuronItem::State(self.param(q))))
                }
                _ => items.push(self.neuron_item(p)),
            }
        }
        NeuronDecl { name, items, span }
    }

    fn synapse_def(&mut self, pair: Pair<Rule>) -> SynapseDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("synapse name"));
        let body = inner.next().expect("synapse body");
        let mut items = Vec::new();
        for p in body.into_inner() {
            match p.as_rule() {
                Rule::param_decl => {
                    items.extend(p.into_inner().map(|q| SynapseItem::Param(self.param(q))))
                }
                Rule::state_decl => {
                    items.extend(p.into_inner().map(|q| SynapseItem::State(self.param(q))))
                }
                Rule::derivative => items.push(SynapseItem::Derivative(self.derivative(p))),
                Rule::alias => items.push(SynapseItem::Alias(self.alias(p))),
                Rule::synapse_on_pre | Rule::on_post => {
                    let span = self.span(&p);
                    let on_pre = p.as_rule() == Rule::synapse_on_pre;
                    let body = self.statements(p.into_inner().next().expect("statements"));
                    items.push(if on_pre {
                        SynapseItem::OnPre(body, span)
                    } else {
                        SynapseItem::OnPost(body, span)
                    })
                }
                r => unreachable!("synapse_item: {r:?}"),
            }
        }
        SynapseDecl { name, items, span }
    }

    fn statements(&mut self, pair: Pair<Rule>) -> Vec<Statement> {
        pair.into_inner()
            .map(|p| match p.as_rule() {
                Rule::alias => Statement::Let(self.alias(p)),
                Rule::deliver => {
                    let span = self.span(&p);
                    let value = self.expr(p.into_inner().next().expect("deliver value"));
                    Statement::Deliver(value, span)
                }
                Rule::assignment => Statement::Assign(self.assignment(p)),
                r => unreachable!("statement: {r:?}"),
            })
            .collect()
    }

    fn neuron_item(&mut self, pair: Pair<Rule>) -> NeuronItem {
        match pair.as_rule() {
            Rule::derivative => NeuronItem::Derivative(self.derivative(pair)),
            Rule::alias => NeuronItem::Alias(self.alias(pair)),
            Rule::threshold => self.threshold(pair),
            Rule::reset => {
                let span = self.span(&pair);
                let body = pair.into_inner().next().expect("reset assignments");
                NeuronItem::Reset(self.assignments(body), span)
            }
            Rule::refractory => self.refractory(pair),
            Rule::on_pre => self.on_pre(pair),
            Rule::method_decl => {
                let span = self.span(&pair);
                let name = pair.into_inner().next().expect("method name");
                NeuronItem::Method(self.ident(name), span)
            }
            r => unreachable!("neuron_item: {r:?}"),
        }
    }

    fn derivative(&mut self, pair: Pair<Rule>) -> Derivative {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let of = inner.next().expect("derivative_of");
        let var = self.ident(of.into_inner().next().expect("derivative variable"));
        let expr = self.expr(inner.next().expect("derivative expression"));
        Derivative { var, expr, span }
    }

    fn alias(&mut self, pair: Pair<Rule>) -> Param {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("alias name"));
        let value = self.expr(inner.next().expect("alias expression"));
        Param { name, value, span }
    }

    fn threshold(&mut self, pair: Pair<Rule>) -> NeuronItem {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let left = self.expr(inner.next().expect("threshold left"));
        let cmp = match inner.next().expect("threshold comparison").as_str() {
            ">" => Compare::Greater,
            ">=" => Compare::GreaterEqual,
            "<" => Compare::Less,
            "<=" => Compare::LessEqual,
            c => unreachable!("threshold: {c}"),
        };
        let right = self.expr(inner.next().expect("threshold right"));
        NeuronItem::Threshold {
            left,
            cmp,
            right,
            span,
        }
    }

    fn assignments(&mut self, pair: Pair<Rule>) -> Vec<Assignment> {
        pair.into_inner().map(|p| self.assignment(p)).collect()
    }

    fn assignment(&mut self, pair: Pair<Rule>) -> Assignment {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let var = self.ident(inner.next().expect("assignment target"));
        let op = match inner.next().expect("assignment operator").as_str() {
            "=" => AssignKind::Set,
            "+=" => AssignKind::Add,
            "-=" => AssignKind::Sub,
            "*=" => AssignKind::Mul,
            "/=" => AssignKind::Div,
            o => unreachable!("assignment: {o}"),
        };
        let value = self.expr(inner.next().expect("assignment value"));
        Assignment {
            var,
            op,
            value,
            span,
        }
    }

    fn refractory(&mut self, pair: Pair<Rule>) -> NeuronItem {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let duration = self.expr(inner.next().expect("refractory duration"));
        let names: Vec<Ident> = inner.map(|p| self.ident(p)).collect();
        NeuronItem::Refractory {
            duration,
            clamp: (!names.is_empty()).then_some(names),
            span,
        }
    }

    fn on_pre(&mut self, pair: Pair<Rule>) -> NeuronItem {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let receptor = self.ident(inner.next().expect("on_pre receptor"));
        let body = self.assignments(inner.next().expect("on_pre body"));
        NeuronItem::OnPre {
            receptor,
            body,
            span,
        }
    }

    fn block(&mut self, pair: Pair<Rule>) -> Block {
        let span = self.span(&pair);
        let params = pair.into_inner().map(|p| self.param(p)).collect();
        Block { params, span }
    }

    fn let_stmt(&mut self, pair: Pair<Rule>) -> Let {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("let name"));
        let model = self.ident(inner.next().expect("let model"));
        let block = inner.next().map(|b| self.block(b));
        Let {
            name,
            model,
            block,
            span,
        }
    }

    /// `let NAME = VALUE`. A bare name (`let fast = cell`) is a template without a block, as
    /// it always was; `check/values.rs` turns it back into a constant when the name is a
    /// constant.
    fn constant(&mut self, pair: Pair<Rule>) -> Stmt {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("constant name"));
        let value = self.value(inner.next().expect("constant value"));
        if let ExprKind::Name(model) = &value.kind {
            return Stmt::Let(Let {
                name,
                model: Ident {
                    name: model.clone(),
                    span: value.span,
                },
                block: None,
                span,
            });
        }
        Stmt::Const(ConstDecl { name, value, span })
    }

    fn table(&mut self, pair: Pair<Rule>) -> TableDecl {
        let span = self.span(&pair);
        let mut name = None;
        let mut axes = Vec::new();
        let mut columns = Vec::new();
        let mut unit = None;
        let mut rows = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name if name.is_none() => name = Some(self.ident(p)),
                Rule::name => axes.push(self.ident(p)),
                Rule::table_by => {}
                Rule::table_columns => columns = p.into_inner().map(|c| self.ident(c)).collect(),
                Rule::table_unit => {
                    let u = p.into_inner().next().expect("table unit");
                    unit = Some(self.unit(&u));
                }
                Rule::table_row => rows.push(self.table_row(p)),
                r => unreachable!("table: {r:?}"),
            }
        }
        TableDecl {
            name: name.expect("table name"),
            axes,
            columns,
            unit,
            rows,
            span,
        }
    }

    fn table_row(&mut self, pair: Pair<Rule>) -> TableRow {
        let span = self.span(&pair);
        let mut name = None;
        let mut values = Vec::new();
        let mut list_span = span;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => name = Some(self.ident(p)),
                Rule::list => {
                    list_span = self.span(&p);
                    values = p.into_inner().map(|v| self.value(v)).collect();
                }
                r => unreachable!("table_row: {r:?}"),
            }
        }
        TableRow {
            name,
            values,
            list_span,
            span,
        }
    }

    fn connect(&mut self, pair: Pair<Rule>) -> ConnectDecl {
        let span = self.span(&pair);
        let mut table = None;
        let mut connector = None;
        let mut template = None;
        let mut params = Vec::new();
        let mut pairs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => table = Some(self.ident(p)),
                Rule::connector => connector = Some(self.connector(p)),
                Rule::with_template => template = Some(self.with_template(p)),
                Rule::connect_block => {
                    for item in p.into_inner() {
                        match item.as_rule() {
                            Rule::param => params.push(self.param(item)),
                            Rule::pair_block => pairs.push(self.pair_block(item)),
                            r => unreachable!("connect: {r:?}"),
                        }
                    }
                }
                r => unreachable!("connect: {r:?}"),
            }
        }
        let (connector, connector_args) = connector.expect("connect has a connector");
        ConnectDecl {
            table: table.expect("connect table"),
            connector,
            connector_args,
            template,
            params,
            pairs,
            span,
        }
    }

    fn pair_block(&mut self, pair: Pair<Rule>) -> PairBlock {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let source = self.ident(inner.next().expect("pair source"));
        let target = self.ident(inner.next().expect("pair target"));
        let block = self.block(inner.next().expect("pair block"));
        PairBlock {
            source,
            target,
            block,
            span,
        }
    }

    fn with_template(&mut self, pair: Pair<Rule>) -> Ident {
        self.ident(pair.into_inner().next().expect("template name"))
    }

    fn index(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner();
        let head = inner.next().expect("index head");
        let table = self.ident(head.into_inner().next().expect("table name"));
        let keys = inner.map(|k| self.ident(k)).collect();
        ExprKind::Index(table, keys)
    }

    fn population(&mut self, pair: Pair<Rule>) -> PopulationDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("population name"));
        let model = self.ident(inner.next().expect("population model"));
        let shape_pair = inner.next().expect("population shape");
        let shape_span = self.span(&shape_pair);
        let shape = self.shape(shape_pair);
        let block = inner.next().map(|b| self.block(b));
        PopulationDecl {
            name,
            model,
            shape,
            shape_span,
            block,
            span,
        }
    }

    fn shape(&mut self, pair: Pair<Rule>) -> Vec<Expr> {
        pair.into_inner().map(|v| self.value(v)).collect()
    }

    fn projection(&mut self, pair: Pair<Rule>) -> ProjectionDecl {
        let span = self.span(&pair);
        let mut stages = Vec::new();
        let mut arrows = Vec::new();
        let mut connector = None;
        let mut template = None;
        let mut block = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::endpoints => stages.push(self.endpoints(p)),
                Rule::arrow => arrows.push((self.arrow(&p), self.span(&p))),
                Rule::connector => connector = Some(self.connector(p)),
                Rule::with_template => template = Some(self.with_template(p)),
                Rule::block => block = Some(self.block(p)),
                r => unreachable!("projection: {r:?}"),
            }
        }
        let (connector, connector_args) = connector.expect("projection has a connector");
        ProjectionDecl {
            stages,
            arrows,
            connector,
            connector_args,
            template,
            block,
            span,
        }
    }

    fn endpoints(&mut self, pair: Pair<Rule>) -> Vec<Ident> {
        pair.into_inner().map(|p| self.ident(p)).collect()
    }

    fn arrow(&self, pair: &Pair<Rule>) -> Arrow {
        match pair.as_str() {
            "->" => Arrow::Directed,
            "--" => Arrow::Undirected,
            other => unreachable!("arrow: {other}"),
        }
    }

    fn connector(&mut self, pair: Pair<Rule>) -> (Ident, Option<Args>) {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("connector name"));
        let args = inner.next().map(|a| self.call_args(a));
        (name, args)
    }

    fn dataset(&mut self, pair: Pair<Rule>) -> DatasetDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("dataset name"));
        let src = inner.next().expect("dataset source");
        let source = match src.as_rule() {
            Rule::inline_data => self.inline_data(src),
            Rule::call => DataSourceDecl::Call(self.call(src)),
            r => unreachable!("dataset: {r:?}"),
        };
        DatasetDecl { name, source, span }
    }

    fn inline_data(&mut self, pair: Pair<Rule>) -> DataSourceDecl {
        let span = self.span(&pair);
        let mut options = None;
        let mut rows = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::call_args => options = Some(self.call_args(p)),
                Rule::row => rows.push(self.row(p)),
                r => unreachable!("inline_data: {r:?}"),
            }
        }
        DataSourceDecl::Inline {
            options,
            rows,
            span,
        }
    }

    fn row(&mut self, pair: Pair<Rule>) -> Row {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let inputs = self.list(inner.next().expect("row inputs"));
        let targets = inner.next().map(|t| self.list(t));
        Row {
            inputs,
            targets,
            span,
        }
    }

    fn train(&mut self, pair: Pair<Rule>) -> TrainDecl {
        let mut kind = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => kind = Some(self.ident(p)),
                Rule::block => {
                    return TrainDecl {
                        kind,
                        block: self.block(p),
                    };
                }
                r => unreachable!("train: {r:?}"),
            }
        }
        unreachable!("train without a block")
    }

    fn evaluate(&mut self, pair: Pair<Rule>) -> Block {
        let b = pair.into_inner().next().expect("evaluate block");
        self.block(b)
    }

    fn simulate(&mut self, pair: Pair<Rule>) -> SimulateDecl {
        let p = pair.into_inner().next().expect("simulate argument");
        match p.as_rule() {
            Rule::block => SimulateDecl::Block(self.block(p)),
            Rule::value => SimulateDecl::Duration(self.value(p)),
            r => unreachable!("simulate: {r:?}"),
        }
    }

    fn record(&mut self, pair: Pair<Rule>) -> RecordDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let what = self.ident(inner.next().expect("record what"));
        let mut targets = Vec::new();
        let mut clauses: [Option<(Expr, Span)>; 3] = [None, None, None];
        for p in inner {
            let (slot, word) = match p.as_rule() {
                Rule::targets => {
                    targets = self.targets(p);
                    continue;
                }
                Rule::record_from => (0, "from"),
                Rule::record_until => (1, "until"),
                Rule::record_every => (2, "every"),
                r => unreachable!("record: {r:?}"),
            };
            let clause_span = self.span(&p);
            let value = match p.as_rule() {
                Rule::record_from => self.record_from(p),
                Rule::record_until => self.record_until(p),
                _ => self.record_every(p),
            };
            match &clauses[slot] {
                Some((_, first)) => self.diagnostics.push(
                    Diagnostic::error("E0504", format!("`{word}` is given twice in one `record`"))
                        .with_label(clause_span, "given again here")
                        .with_label(*first, "first given here"),
                ),
                None => clauses[slot] = Some((value, clause_span)),
            }
        }
        let [from, until, every] = clauses.map(|c| c.map(|(value, _)| value));
        RecordDecl {
            what,
            targets,
            from: from.map(Box::new),
            until: until.map(Box::new),
            every,
            span,
        }
    }

    /// `from 100 ms`
    fn record_from(&mut self, pair: Pair<Rule>) -> Expr {
        let value = pair.into_inner().next().expect("record_from value");
        self.value(value)
    }

    /// `until 1 s`
    fn record_until(&mut self, pair: Pair<Rule>) -> Expr {
        let value = pair.into_inner().next().expect("record_until value");
        self.value(value)
    }

    /// `every 1 ms`, `every 2 epochs`
    fn record_every(&mut self, pair: Pair<Rule>) -> Expr {
        let value = pair.into_inner().next().expect("record_every value");
        self.value(value)
    }

    fn targets(&mut self, pair: Pair<Rule>) -> Vec<Target> {
        pair.into_inner().map(|t| self.target(t)).collect()
    }

    fn target(&mut self, pair: Pair<Rule>) -> Target {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("target name"));
        match inner.next() {
            None => Target::Population {
                name,
                slice: None,
                span,
            },
            Some(p) if p.as_rule() == Rule::slice => Target::Population {
                name,
                slice: Some(self.slice(p)),
                span,
            },
            Some(p) if p.as_rule() == Rule::arrow => {
                let arrow = self.arrow(&p);
                let target = self.ident(inner.next().expect("target of arrow"));
                Target::Projection {
                    source: name,
                    arrow,
                    target,
                    span,
                }
            }
            Some(p) => unreachable!("target: {:?}", p.as_rule()),
        }
    }

    fn slice(&mut self, pair: Pair<Rule>) -> Slice {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::range_to);
        let start = self.expr(inner.next().expect("slice start"));
        let end = inner.next().map(|e| self.expr(e));
        Slice { start, end, span }
    }

    // ------------------------------------------------------------ values

    fn value(&mut self, pair: Pair<Rule>) -> Expr {
        debug_assert_eq!(pair.as_rule(), Rule::value);
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let mut expr = self.expr(inner.next().expect("value expr"));
        while let Some(p) = inner.next() {
            match p.as_rule() {
                Rule::range_to => {
                    let hi = self.expr(inner.next().expect("range end"));
                    let span = expr.span.to(hi.span);
                    expr = self.mk(ExprKind::Range(Box::new(expr), Box::new(hi)), span);
                }
                Rule::clip => {
                    let list = self.clip(p);
                    expr = self.mk(ExprKind::Clip(Box::new(expr), Box::new(list)), span);
                }
                r => unreachable!("value: {r:?}"),
            }
        }
        expr
    }

    fn clip(&mut self, pair: Pair<Rule>) -> Expr {
        let list = pair.into_inner().next().expect("clip list");
        self.list(list)
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        debug_assert_eq!(pair.as_rule(), Rule::expr);
        let mut inner = pair.into_inner();
        let mut lhs = self.term(inner.next().expect("expr term"));
        while let Some(op) = inner.next() {
            let op = match op.as_str() {
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                o => unreachable!("expr: operator {o}"),
            };
            let rhs = self.term(inner.next().expect("expr rhs"));
            let span = lhs.span.to(rhs.span);
            lhs = self.mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
        }
        lhs
    }

    fn term(&mut self, pair: Pair<Rule>) -> Expr {
        debug_assert_eq!(pair.as_rule(), Rule::term);
        let mut inner = pair.into_inner();
        let mut lhs = self.factor(inner.next().expect("term factor"));
        while let Some(op) = inner.next() {
            let op = match op.as_str() {
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                o => unreachable!("term: operator {o}"),
            };
            let rhs = self.factor(inner.next().expect("term rhs"));
            let span = lhs.span.to(rhs.span);
            lhs = self.mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
        }
        lhs
    }

    fn factor(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let mut negations = Vec::new();
        let mut core: Option<Expr> = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::negate => negations.push(self.span(&p)),
                Rule::unit => {
                    let unit = self.unit(&p);
                    let inner = core.take().expect("unit follows a primary");
                    let span = inner.span.to(unit.span);
                    core = Some(self.mk(ExprKind::Quantity(Box::new(inner), unit), span));
                }
                _ => core = Some(self.primary(p)),
            }
        }
        let mut expr = core.expect("factor has a primary");
        for neg in negations.into_iter().rev() {
            let span = neg.to(expr.span);
            expr = self.mk(ExprKind::Neg(Box::new(expr)), span);
        }
        debug_assert!(expr.span.end <= span.end);
        expr
    }

    fn unit(&self, pair: &Pair<Rule>) -> Unit {
        let text = pair.as_str().to_string();
        let mut factors = Vec::new();
        let mut divide = false;
        let mut current = String::new();
        for c in text.chars() {
            if c == '/' || c == '*' {
                factors.push((divide, std::mem::take(&mut current)));
                divide = c == '/';
            } else {
                current.push(c);
            }
        }
        factors.push((divide, current));
        Unit {
            factors,
            text,
            span: self.span(pair),
        }
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => ExprKind::Number(self.number(&pair)),
            Rule::string => ExprKind::Str(self.string(pair)),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::list => return self.list(pair),
            Rule::call => ExprKind::Call(self.call(pair)),
            Rule::paren => return self.paren(pair),
            Rule::name => ExprKind::Name(pair.as_str().to_string()),
            Rule::index => self.index(pair),
            r => unreachable!("primary: {r:?}"),
        };
        self.mk(kind, span)
    }

    fn number(&mut self, pair: &Pair<Rule>) -> f64 {
        match pair.as_str().parse::<f64>() {
            Ok(x) if x.is_finite() => x,
            _ => {
                self.diagnostics.push(
                    Diagnostic::error("E0007", "number too large")
                        .with_label(self.span(pair), "does not fit in a 64-bit float"),
                );
                0.0
            }
        }
    }

    fn string(&mut self, pair: Pair<Rule>) -> String {
        let raw = pair
            .into_inner()
            .next()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn list(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let items = pair.into_inner().map(|v| self.value(v)).collect();
        self.mk(ExprKind::List(items), span)
    }

    fn paren(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let inner = self.value(pair.into_inner().next().expect("paren value"));
        // The parentheses belong to the span, so `(1 + 2) mV` underlines all of it.
        Expr { span, ..inner }
    }

    fn call(&mut self, pair: Pair<Rule>) -> Call {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = inner.next().expect("call name");
        let name = Ident {
            name: name.as_str().to_string(),
            span: self.span(&name),
        };
        let args = self.call_args(inner.next().expect("call args"));
        Call { name, args, span }
    }

    fn call_args(&mut self, pair: Pair<Rule>) -> Args {
        let span = self.span(&pair);
        let args = pair.into_inner().map(|a| self.arg(a)).collect();
        Args { args, span }
    }

    fn arg(&mut self, pair: Pair<Rule>) -> Arg {
        let span = self.span(&pair);
        let mut name = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::arg_name => {
                    name = Some(Ident {
                        name: p.as_str().to_string(),
                        span: self.span(&p),
                    })
                }
                Rule::value => value = Some(self.value(p)),
                r => unreachable!("arg: {r:?}"),
            }
        }
        Arg {
            name,
            value: value.expect("arg has a value"),
            span,
        }
    }
}
