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
///
/// Exponents may be halves: white noise `xi` has the dimension time^-1/2 (Brian2's), so
/// the coefficient of a noise term is, say, a voltage per square root of time. They are
/// stored doubled, so `Dim` stays a small integer vector and equality stays exact. The
/// arithmetic saturates instead of overflowing: no physical quantity has an exponent beyond
/// ±63, and saturating keeps a checker of absurd input (a product of a hundred times) from
/// panicking.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dim {
    /// Twice the exponent of time.
    time: i8,
    /// Twice the exponent of voltage.
    voltage: i8,
    /// Twice the exponent of current.
    current: i8,
}

impl Dim {
    pub const NONE: Dim = Dim::new(0, 0, 0);
    pub const TIME: Dim = Dim::new(1, 0, 0);
    pub const VOLTAGE: Dim = Dim::new(0, 1, 0);
    pub const CURRENT: Dim = Dim::new(0, 0, 1);
    pub const CONDUCTANCE: Dim = Dim::new(0, -1, 1);
    pub const CAPACITANCE: Dim = Dim::new(1, -1, 1);
    pub const RESISTANCE: Dim = Dim::new(0, 1, -1);
    pub const FREQUENCY: Dim = Dim::new(-1, 0, 0);
    /// Voltage per time (Izhikevich's `d`).
    pub const VOLTAGE_RATE: Dim = Dim::new(-1, 1, 0);
    /// White noise `xi`: time^-1/2, so that `sigma*sqrt(2/tau)*xi` is a voltage per time.
    pub const NOISE: Dim = Dim::from_halves(-1, 0, 0);

    /// The dimension time^`time`·voltage^`voltage`·current^`current`.
    pub const fn new(time: i8, voltage: i8, current: i8) -> Dim {
        Dim::from_halves(
            time.saturating_mul(2),
            voltage.saturating_mul(2),
            current.saturating_mul(2),
        )
    }

    /// The dimension whose exponents are half the numbers given (`from_halves(-1, 0, 0)`
    /// is time^-1/2).
    pub const fn from_halves(time: i8, voltage: i8, current: i8) -> Dim {
        Dim {
            time,
            voltage,
            current,
        }
    }

    fn halves(self) -> [i8; 3] {
        [self.time, self.voltage, self.current]
    }

    fn from_array([time, voltage, current]: [i8; 3]) -> Dim {
        Dim::from_halves(time, voltage, current)
    }

    /// The dimension of a square root, if its exponents are whole or half numbers.
    pub fn sqrt(self) -> Option<Dim> {
        let h = self.halves();
        h.iter()
            .all(|e| e % 2 == 0)
            .then(|| Dim::from_array(h.map(|e| e / 2)))
    }

    /// The dimension of the `n`-th power.
    pub fn powi(self, n: i8) -> Dim {
        Dim::from_array(self.halves().map(|e| e.saturating_mul(n)))
    }

    /// The dimension of a product (also available as `*`).
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, o: Dim) -> Dim {
        Dim {
            time: self.time.saturating_add(o.time),
            voltage: self.voltage.saturating_add(o.voltage),
            current: self.current.saturating_add(o.current),
        }
    }

    /// The dimension of a quotient (also available as `/`).
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, o: Dim) -> Dim {
        Dim {
            time: self.time.saturating_sub(o.time),
            voltage: self.voltage.saturating_sub(o.voltage),
            current: self.current.saturating_sub(o.current),
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
                2 => side.push(symbol.to_string()),
                n => side.push(format!("{symbol}^{}", exponent_text(n as i16))),
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

/// An exponent given doubled, as written: `-2` for -1, `-1` for -0.5.
fn exponent_text(doubled: i16) -> String {
    if doubled % 2 == 0 {
        (doubled / 2).to_string()
    } else {
        format!("{}", f64::from(doubled) / 2.0)
    }
}

impl fmt::Debug for Dim {
    /// The base-unit form (the stored exponents are doubled, which would mislead).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dim({self})")
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
                2 => parts.push(sym.to_string()),
                e => parts.push(format!("{sym}^{}", exponent_text(e.into()))),
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
        assert_eq!(Dim::new(-2, 0, 0).to_string(), "s^-2");
        assert_eq!(Dim::NOISE.mul(Dim::VOLTAGE).to_string(), "s^-0.5·V");
        assert_eq!(Dim::NOISE.mul(Dim::VOLTAGE).internal_symbol(), "mV/ms^0.5");
        assert_eq!(Dim::new(0, 0, -3).internal_symbol(), "1/pA^3");
    }

    #[test]
    fn half_exponents_square_back_and_whole_ones_take_roots() {
        // sigma·sqrt(2/tau)·xi, the noise term of an Ornstein–Uhlenbeck membrane.
        let coefficient = Dim::VOLTAGE.mul(Dim::FREQUENCY.sqrt().unwrap());
        assert_eq!(coefficient.mul(Dim::NOISE), Dim::VOLTAGE_RATE);
        assert_eq!(coefficient.powi(2), Dim::VOLTAGE.mul(Dim::VOLTAGE_RATE));
        assert_eq!(Dim::TIME.sqrt().unwrap().powi(2), Dim::TIME);
        // A quarter power has no dimension neurosim can state.
        assert_eq!(Dim::TIME.sqrt().unwrap().sqrt(), None);
        // Saturating, not overflowing.
        let huge = (0..200).fold(Dim::NONE, |d, _| d.mul(Dim::TIME));
        assert_ne!(huge.div(Dim::TIME), Dim::NONE);
    }
}
