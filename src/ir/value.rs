//! Checked parameter values: numbers already converted to internal units, names already
//! resolved against the registries.

use std::collections::BTreeMap;
use std::fmt;

use crate::models::{ParamKind, ParamSpec};

/// One checked value of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number in internal units (see `units`); its dimension was checked against the spec.
    Number(f64),
    Bool(bool),
    /// A name out of a fixed set: `relu`, `excitatory`, `xavier`.
    Symbol(String),
    /// A string literal; paths are already resolved against the `.net` file's folder.
    Str(String),
    /// One draw per element (neuron or synapse).
    Dist(Distribution),
    /// Per neuron, evenly spaced from `low` (the first neuron) to `high` (the last):
    /// `linspace(0 pA, 500 pA)`, an f–I curve in one population.
    Linear {
        low: f64,
        high: f64,
    },
    /// A value that changes in time, the same for every neuron (`steps(...)`, `ramp(...)`).
    Timed(TimeCourse),
    /// A list: of a list-valued parameter (`times`), or, for a per-neuron parameter, one
    /// value per neuron of the population.
    List(Vec<Value>),
    /// A parameterised choice: `adam(lr = 1e-3)`, `stdp(...)`.
    Call(Call),
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Value::Symbol(s) | Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

pub use crate::models::course::TimeCourse;

/// A call with named arguments; defaults from the callee's registry are already filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Params,
}

/// A random distribution in internal units, optionally clipped to `[lo, hi]` (clipping
/// redraws are not used: values outside are clamped, as NEST's `clip` does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    pub kind: DistKind,
    pub clip: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DistKind {
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Log-normal given by the mean and standard deviation of the values themselves.
    LogNormal {
        mean: f64,
        sd: f64,
    },
}

impl Distribution {
    /// Expected value, used where a single number stands for the distribution (reports).
    pub fn mean(&self) -> f64 {
        let m = match self.kind {
            DistKind::Uniform { low, high } => 0.5 * (low + high),
            DistKind::Normal { mean, .. } | DistKind::LogNormal { mean, .. } => mean,
        };
        match self.clip {
            Some((lo, hi)) => m.clamp(lo, hi),
            None => m,
        }
    }
}

/// Named values in a deterministic order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params(pub BTreeMap<String, Value>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        self.0.insert(name.into(), value);
    }

    /// A scalar number (a distribution is not a number: ask for `get` instead).
    pub fn number(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_number)
    }

    /// A number, or a flag as 0/1: the lookup that `models` constructors take.
    pub fn numeric(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Number(x) => Some(*x),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn symbol(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_symbol)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Resolves these values against a parameter table: every parameter of `specs` not set
    /// yet takes its registry default, except those named in `optional` (no default on
    /// purpose: `k` or `p` of a connector). Returns the required ones still missing. The one
    /// place a default is read, for the language, networks built in Rust and tests alike.
    pub fn resolve(&mut self, specs: &[ParamSpec], optional: &[&str]) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for spec in specs {
            if self.0.contains_key(spec.name) || optional.contains(&spec.name) {
                continue;
            }
            match Unset::of(spec) {
                Unset::Default(value) => self.insert(spec.name, value),
                Unset::Required => missing.push(spec.name),
                Unset::Absent => {}
            }
        }
        missing
    }

    /// A number the engine needs; after [`Params::resolve`] it is there for every parameter
    /// with a default, so a miss means a network was built without resolving.
    pub fn required_number(&self, name: &str) -> Result<f64, Unresolved> {
        self.number(name).ok_or(Unresolved(name.to_string()))
    }

    pub fn required_flag(&self, name: &str) -> Result<bool, Unresolved> {
        self.flag(name).ok_or(Unresolved(name.to_string()))
    }

    pub fn required_symbol(&self, name: &str) -> Result<&str, Unresolved> {
        self.symbol(name).ok_or(Unresolved(name.to_string()))
    }
}

/// What a parameter is when nobody wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Unset {
    /// Its registry default.
    Default(Value),
    /// It has no default and must be given.
    Required,
    /// It has no value when absent (a call, a dataset, a list of names): absence means off.
    Absent,
}

impl Unset {
    pub fn of(spec: &ParamSpec) -> Unset {
        let default = match spec.kind {
            ParamKind::Quantity { default, .. } => default.map(Value::Number),
            ParamKind::Integer { default, .. } => default.map(|d| Value::Number(d as f64)),
            ParamKind::Choice { default, .. } => default.map(|d| Value::Symbol(d.into())),
            ParamKind::Flag { default } | ParamKind::FlagOrValue { default } => {
                Some(Value::Bool(default))
            }
            ParamKind::List { .. } => None,
            ParamKind::Call { .. } | ParamKind::Dataset | ParamKind::Names { .. } => {
                return Unset::Absent;
            }
        };
        default.map_or(Unset::Required, Unset::Default)
    }
}

/// A parameter an engine asked for that was never resolved against its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved(pub String);

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parameter `{}` has no value (not given and without a default)",
            self.0
        )
    }
}

impl std::error::Error for Unresolved {}

impl From<Unresolved> for String {
    fn from(e: Unresolved) -> String {
        e.to_string()
    }
}
