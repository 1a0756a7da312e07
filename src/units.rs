//! Physical units and dimension checking.
//!
//! neurosim works internally in one coherent unit system, the one NEST uses:
//!
//! | quantity    | internal unit |
//! |-------------|---------------|
//! | time        | ms            |
//! | voltage     | mV            |
//! | current     | pA            |
//! | conductance | nS            |
//! | capacitance | pF            |
//! | resistance  | GΩ            |
//! | frequency   | 1/ms (kHz)    |
//!
//! The system is coherent (nS·mV = pA, pF·mV/ms = pA, mV/pA = GΩ), so a product or quotient
//! of units is converted by multiplying scale factors and adding dimension exponents; no
//! equation in a model needs a conversion constant.

use std::fmt;

/// Exponents of the three base dimensions (time, voltage, current). Every unit of the
/// language is a product of powers of these: conductance = current/voltage, capacitance =
/// current·time/voltage, frequency = 1/time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dim {
    pub time: i8,
    pub voltage: i8,
    pub current: i8,
}

impl Dim {
    pub const NONE: Dim = Dim {
        time: 0,
        voltage: 0,
        current: 0,
    };
    pub const TIME: Dim = Dim {
        time: 1,
        voltage: 0,
        current: 0,
    };
    pub const VOLTAGE: Dim = Dim {
        time: 0,
        voltage: 1,
        current: 0,
    };
    pub const CURRENT: Dim = Dim {
        time: 0,
        voltage: 0,
        current: 1,
    };
    pub const CONDUCTANCE: Dim = Dim {
        time: 0,
        voltage: -1,
        current: 1,
    };
    pub const CAPACITANCE: Dim = Dim {
        time: 1,
        voltage: -1,
        current: 1,
    };
    pub const RESISTANCE: Dim = Dim {
        time: 0,
        voltage: 1,
        current: -1,
    };
    pub const FREQUENCY: Dim = Dim {
        time: -1,
        voltage: 0,
        current: 0,
    };
    /// Voltage per time (Izhikevich's `d`).
    pub const VOLTAGE_RATE: Dim = Dim {
        time: -1,
        voltage: 1,
        current: 0,
    };

    /// The dimension of a product (also available as `*`).
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, o: Dim) -> Dim {
        Dim {
            time: self.time + o.time,
            voltage: self.voltage + o.voltage,
            current: self.current + o.current,
        }
    }

    /// The dimension of a quotient (also available as `/`).
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, o: Dim) -> Dim {
        Dim {
            time: self.time - o.time,
            voltage: self.voltage - o.voltage,
            current: self.current - o.current,
        }
    }

    pub fn is_dimensionless(self) -> bool {
        self == Dim::NONE
    }

    /// A unit a user would write for a value of this dimension, for messages ("expected a voltage, e.g. mV").
    pub fn example_unit(self) -> String {
        match self {
            Dim::NONE => "no unit".into(),
            Dim::TIME => "ms".into(),
            Dim::VOLTAGE => "mV".into(),
            Dim::CURRENT => "pA".into(),
            Dim::CONDUCTANCE => "nS".into(),
            Dim::CAPACITANCE => "pF".into(),
            Dim::RESISTANCE => "MOhm".into(),
            Dim::FREQUENCY => "Hz".into(),
            Dim::VOLTAGE_RATE => "mV/ms".into(),
            other => other.to_string(),
        }
    }

    /// The internal unit of a value of this dimension, written with the base units: the
    /// internal system is coherent (ms, mV, pA), so `ms^t·mV^v·pA^i` is exact — `pA/ms`
    /// for a current per time, where `Display` would say `s^-1·A`.
    pub fn internal_symbol(self) -> String {
        let mut up = Vec::new();
        let mut down = Vec::new();
        for (symbol, exponent) in [
            ("ms", self.time),
            ("mV", self.voltage),
            ("pA", self.current),
        ] {
            let side = if exponent > 0 { &mut up } else { &mut down };
            match exponent.unsigned_abs() {
                0 => {}
                1 => side.push(symbol.to_string()),
                n => side.push(format!("{symbol}^{n}")),
            }
        }
        let numerator = if up.is_empty() {
            "1".to_string()
        } else {
            up.join("*")
        };
        if down.is_empty() {
            numerator
        } else {
            format!("{numerator}/{}", down.join("/"))
        }
    }

    /// The dimension's name as a person would say it.
    pub fn name(self) -> String {
        match self {
            Dim::NONE => "a dimensionless number".into(),
            Dim::TIME => "a time".into(),
            Dim::VOLTAGE => "a voltage".into(),
            Dim::CURRENT => "a current".into(),
            Dim::CONDUCTANCE => "a conductance".into(),
            Dim::CAPACITANCE => "a capacitance".into(),
            Dim::RESISTANCE => "a resistance".into(),
            Dim::FREQUENCY => "a frequency".into(),
            Dim::VOLTAGE_RATE => "a voltage per time".into(),
            other => format!("a quantity of dimension {other}"),
        }
    }
}

impl std::ops::Mul for Dim {
    type Output = Dim;
    fn mul(self, o: Dim) -> Dim {
        Dim::mul(self, o)
    }
}

impl std::ops::Div for Dim {
    type Output = Dim;
    fn div(self, o: Dim) -> Dim {
        Dim::div(self, o)
    }
}

impl fmt::Display for Dim {
    /// Base-unit form, e.g. `V^-1·A` for a conductance.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_dimensionless() {
            return f.write_str("1");
        }
        let mut parts = Vec::new();
        for (sym, e) in [("s", self.time), ("V", self.voltage), ("A", self.current)] {
            match e {
                0 => {}
                1 => parts.push(sym.to_string()),
                e => parts.push(format!("{sym}^{e}")),
            }
        }
        f.write_str(&parts.join("·"))
    }
}

/// A value in internal units together with its dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub dim: Dim,
}

impl Quantity {
    pub fn number(value: f64) -> Quantity {
        Quantity {
            value,
            dim: Dim::NONE,
        }
    }
}

/// Every unit symbol of the language: (symbol, factor to internal units, dimension).
pub const UNITS: &[(&str, f64, Dim)] = &[
    ("s", 1e3, Dim::TIME),
    ("ms", 1.0, Dim::TIME),
    ("us", 1e-3, Dim::TIME),
    ("V", 1e3, Dim::VOLTAGE),
    ("mV", 1.0, Dim::VOLTAGE),
    ("uV", 1e-3, Dim::VOLTAGE),
    ("A", 1e12, Dim::CURRENT),
    ("mA", 1e9, Dim::CURRENT),
    ("uA", 1e6, Dim::CURRENT),
    ("nA", 1e3, Dim::CURRENT),
    ("pA", 1.0, Dim::CURRENT),
    ("S", 1e9, Dim::CONDUCTANCE),
    ("mS", 1e6, Dim::CONDUCTANCE),
    ("uS", 1e3, Dim::CONDUCTANCE),
    ("nS", 1.0, Dim::CONDUCTANCE),
    ("pS", 1e-3, Dim::CONDUCTANCE),
    ("F", 1e12, Dim::CAPACITANCE),
    ("uF", 1e6, Dim::CAPACITANCE),
    ("nF", 1e3, Dim::CAPACITANCE),
    ("pF", 1.0, Dim::CAPACITANCE),
    ("Ohm", 1e-9, Dim::RESISTANCE),
    ("kOhm", 1e-6, Dim::RESISTANCE),
    ("MOhm", 1e-3, Dim::RESISTANCE),
    ("GOhm", 1.0, Dim::RESISTANCE),
    ("Hz", 1e-3, Dim::FREQUENCY),
    ("kHz", 1.0, Dim::FREQUENCY),
];

/// Scale factor and dimension of a unit symbol.
pub fn lookup(symbol: &str) -> Option<(f64, Dim)> {
    UNITS
        .iter()
        .find(|(s, _, _)| *s == symbol)
        .map(|&(_, f, d)| (f, d))
}

/// Converts a value in internal units back to a named unit, for reports and file attributes.
pub fn to_unit(value: f64, symbol: &str) -> Option<f64> {
    lookup(symbol).map(|(f, _)| value / f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dimension_without_a_name_is_written_in_the_internal_units() {
        let current_rate = Dim::CURRENT.div(Dim::TIME);
        assert_eq!(current_rate.internal_symbol(), "pA/ms");
        assert_eq!(Dim::TIME.mul(Dim::VOLTAGE).internal_symbol(), "ms*mV");
        assert_eq!(
            Dim::NONE.div(Dim::TIME).div(Dim::TIME).internal_symbol(),
            "1/ms^2"
        );
        // The symbol reads back as the same dimension with factor 1: it is the internal unit.
        let (factor, dim) = lookup("pA")
            .map(|(f, d)| (f / lookup("ms").unwrap().0, d.div(Dim::TIME)))
            .unwrap();
        assert_eq!((factor, dim), (1.0, current_rate));
    }

    #[test]
    fn the_internal_system_is_coherent() {
        let (ns, g) = lookup("nS").unwrap();
        let (mv, v) = lookup("mV").unwrap();
        let (pa, i) = lookup("pA").unwrap();
        assert_eq!(ns * mv, pa);
        assert_eq!(g.mul(v), i);
        let (pf, c) = lookup("pF").unwrap();
        let (ms, t) = lookup("ms").unwrap();
        assert_eq!(c.mul(v).div(t), Dim::CURRENT);
        assert_eq!(pf * mv / ms, 1.0);
        // SI base units: 1 S = 1 A / 1 V, 1 F = 1 A·s / 1 V, 1 Ohm = 1 V / 1 A.
        let si = |s| lookup(s).unwrap().0;
        assert!((si("S") - si("A") / si("V")).abs() < 1e-3);
        assert!((si("F") - si("A") * si("s") / si("V")).abs() < 1e-3);
        assert!((si("Ohm") - si("V") / si("A")).abs() < 1e-18);
        assert!((si("Hz") - 1.0 / si("s")).abs() < 1e-18);
    }

    #[test]
    fn dimensions_print_readably() {
        assert_eq!(Dim::CONDUCTANCE.to_string(), "V^-1·A");
        assert_eq!(Dim::TIME.name(), "a time");
    }
}
