//! What a neuron, connector, learning rule, activation, loss, initialiser, optimizer or
//! learning-rate schedule *is*: its name, documented parameters (dimension, default, allowed
//! range) and its mathematics.
//!
//! Each family has one registry (`neuron::REGISTRY`, `connector::REGISTRY`, ...), which is
//! the only list of its members: the semantic checks read parameter specs from it, the
//! engines dispatch through it, and help output prints it. Adding a member means one file
//! plus one registry line. Nothing here does IO or uses rayon.

pub mod activation;
pub mod connector;
pub mod course;
pub mod init;
pub mod loss;
pub mod neuron;
pub mod optimizer;
pub mod plasticity;
pub mod schedule;

use crate::units::Dim;

/// Which engine a model, rule or connector belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Rate,
    Spiking,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Rate => "rate",
            Mode::Spiking => "spiking",
        }
    }
}

/// Allowed values of a numeric parameter (in internal units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Any,
    /// Strictly greater than zero.
    Positive,
    NonNegative,
    /// Inclusive bounds.
    Between(f64, f64),
}

impl Range {
    pub fn contains(self, x: f64) -> bool {
        match self {
            Range::Any => x.is_finite(),
            Range::Positive => x > 0.0 && x.is_finite(),
            Range::NonNegative => x >= 0.0 && x.is_finite(),
            Range::Between(lo, hi) => x >= lo && x <= hi,
        }
    }

    /// Human wording for an error message: "must be > 0".
    pub fn describe(self) -> String {
        match self {
            Range::Any => "must be finite".into(),
            Range::Positive => "must be > 0".into(),
            Range::NonNegative => "must be ≥ 0".into(),
            Range::Between(lo, hi) => format!("must be between {lo} and {hi}"),
        }
    }
}

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A number of the given dimension. `default: None` means the parameter is required.
    /// `per_element`: a distribution may be given (one draw per neuron or synapse).
    Quantity {
        dim: Dim,
        default: Option<f64>,
        range: Range,
        per_element: bool,
    },
    /// A whole number (sizes, counts, epochs).
    Integer {
        default: Option<i64>,
        range: Range,
    },
    /// One name out of a fixed set (`activation = relu`, `receptor = excitatory`).
    Choice {
        options: &'static [&'static str],
        default: Option<&'static str>,
    },
    Flag {
        default: bool,
    },
    /// `true`/`false`, or a plain number or distribution that switches it on with those
    /// initial values (`bias = 0.5`: a learned bias starting at 0.5).
    FlagOrValue {
        default: bool,
    },
    /// A list of quantities of one dimension (`times = [1 ms, 5 ms]`).
    List {
        dim: Dim,
    },
    /// A call into another registry (`optimizer = adam(lr = 1e-3)`, `plasticity = stdp(...)`).
    Call {
        family: Family,
    },
    /// The name of a dataset declared in the network.
    Dataset,
    /// A list of names out of a fixed set (`metrics = [accuracy, loss]`).
    Names {
        options: &'static [&'static str],
    },
}

/// The registries a `ParamKind::Call` can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Optimizer,
    Plasticity,
    Connector,
    /// Learning-rate schedules (`schedule = cosine(min_lr = 1e-5)`).
    Schedule,
}

/// One documented parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub doc: &'static str,
}

impl ParamSpec {
    /// A required-or-defaulted quantity that is the same for every element.
    pub const fn scalar(
        name: &'static str,
        dim: Dim,
        default: f64,
        range: Range,
        doc: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Quantity {
                dim,
                default: Some(default),
                range,
                per_element: false,
            },
            doc,
        }
    }

    /// The same quantity with another default: a model that shares a parameter with its
    /// family but not the family's usual value (`adex`'s `tau_m` of 9.3667 ms).
    pub const fn with_default(self, default: f64) -> ParamSpec {
        let kind = match self.kind {
            ParamKind::Quantity {
                dim,
                range,
                per_element,
                ..
            } => ParamKind::Quantity {
                dim,
                default: Some(default),
                range,
                per_element,
            },
            other => other,
        };
        ParamSpec { kind, ..self }
    }

    /// The default of a numeric parameter (a quantity, or a whole number as f64), if any.
    pub fn default_number(&self) -> Option<f64> {
        match self.kind {
            ParamKind::Quantity { default, .. } => default,
            ParamKind::Integer { default, .. } => default.map(|d| d as f64),
            _ => None,
        }
    }

    /// A quantity that may vary per element (a distribution draws one value per neuron).
    pub const fn per_element(
        name: &'static str,
        dim: Dim,
        default: f64,
        range: Range,
        doc: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Quantity {
                dim,
                default: Some(default),
                range,
                per_element: true,
            },
            doc,
        }
    }
}

/// Looks a parameter up by name in a spec table.
pub fn find_param<'a>(specs: &'a [ParamSpec], name: &str) -> Option<&'a ParamSpec> {
    specs.iter().find(|p| p.name == name)
}
