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

/// A random distribution in internal units, optionally truncated by redrawing and clipped.
///
/// `redraw = Some((lo, hi))` draws again until the value lies in `[lo, hi]` (NEST's
/// `nest.math.redraw`; the values follow the truncated distribution); `clip = Some((lo,
/// hi))` then clamps what lies outside its interval (NEST's `clip`). Either bound of
/// `redraw` may be infinite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    pub kind: DistKind,
    pub clip: Option<(f64, f64)>,
    pub redraw: Option<(f64, f64)>,
}

/// Fewest values of a hundred that must fall inside a redraw interval: below that share the
/// redraws would take too long, and the checker refuses the interval.
pub const MIN_REDRAW_SHARE: f64 = 1e-3;

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
    /// Expected value, used where a single number stands for the distribution (reports):
    /// that of the truncated distribution when values are redrawn, clamped into a clip.
    pub fn mean(&self) -> f64 {
        let m = match (self.kind, self.redraw) {
            (DistKind::Normal { mean, sd }, Some((lo, hi))) if sd > 0.0 => {
                let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
                let mass = normal_mass(a, b);
                if mass > 0.0 {
                    mean + sd * (normal_pdf(a) - normal_pdf(b)) / mass
                } else {
                    mean.clamp(lo, hi)
                }
            }
            (DistKind::LogNormal { mean, sd }, Some((lo, hi))) if mean > 0.0 && sd > 0.0 => {
                let (z, sigma) = lognormal_z(mean, sd);
                let mass = normal_mass(z(lo), z(hi));
                if mass > 0.0 {
                    mean * normal_mass(z(lo) - sigma, z(hi) - sigma) / mass
                } else {
                    mean.clamp(lo, hi)
                }
            }
            (DistKind::Uniform { low, high }, _) => 0.5 * (low + high),
            (DistKind::Normal { mean, .. } | DistKind::LogNormal { mean, .. }, _) => mean,
        };
        match self.clip {
            Some((lo, hi)) => m.clamp(lo, hi),
            None => m,
        }
    }
}

impl Distribution {
    /// The share of values that fall inside `[lo, hi]` before any redraw (1 for a uniform or
    /// a distribution without spread whose value lies inside).
    pub fn mass_inside(&self, lo: f64, hi: f64) -> f64 {
        match self.kind {
            DistKind::Uniform { low, high } if high > low => {
                ((hi.min(high) - lo.max(low)) / (high - low)).max(0.0)
            }
            DistKind::Uniform { low: x, .. } => f64::from(u8::from(lo <= x && x <= hi)),
            DistKind::Normal { mean: x, sd } | DistKind::LogNormal { mean: x, sd }
                if sd <= 0.0 || x <= 0.0 && matches!(self.kind, DistKind::LogNormal { .. }) =>
            {
                f64::from(u8::from(lo <= x && x <= hi))
            }
            DistKind::Normal { mean, sd } => normal_mass((lo - mean) / sd, (hi - mean) / sd),
            DistKind::LogNormal { mean, sd } => {
                let (z, _) = lognormal_z(mean, sd);
                normal_mass(z(lo), z(hi))
            }
        }
    }
}

/// μ and σ of the underlying normal of a log-normal with this mean and sd of its values.
pub fn lognormal_mu_sigma(mean: f64, sd: f64) -> (f64, f64) {
    let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
    (mean.ln() - 0.5 * sigma2, sigma2.sqrt())
}

/// The standardised logarithm `x ↦ (ln x − μ)/σ` of a log-normal with this mean and sd of
/// its values (−∞ for x ≤ 0), and σ.
fn lognormal_z(mean: f64, sd: f64) -> (impl Fn(f64) -> f64, f64) {
    let (mu, sigma) = lognormal_mu_sigma(mean, sd);
    let z = move |x: f64| {
        if x > 0.0 {
            (x.ln() - mu) / sigma
        } else {
            f64::NEG_INFINITY
        }
    };
    (z, sigma)
}

/// The standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    if x.is_infinite() {
        return 0.0;
    }
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(b) − Φ(a) for a ≤ b, from the nearer tail so that a share far out keeps its digits.
pub fn normal_mass(a: f64, b: f64) -> f64 {
    if a > 0.0 {
        normal_cdf(-a) - normal_cdf(-b)
    } else {
        normal_cdf(b) - normal_cdf(a)
    }
}

/// The standard normal distribution function, Φ(x) = erfc(−x/√2)/2, to about 1e-7
/// relative (the Chebyshev fit of erfc in Numerical Recipes, §6.2).
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
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
