//! A parameter's course in time (`steps(...)`, `ramp(...)`): what a step current or an
//! inhomogeneous Poisson rate is, read by the neuron models that let a parameter vary.

/// A parameter's course in time: `steps(times = [0 ms, 100 ms], values = [0 pA, 200 pA])`
/// holds each value from its time to the next (NEST's `step_current_generator` and
/// `inhomogeneous_poisson_generator`); `ramp(...)` interpolates linearly between the points
/// (Brian2's `TimedArray` with interpolation). Before the first time the value is 0; after
/// the last it stays at the last value. Times in ms, ascending; values in internal units.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeCourse {
    pub times: Vec<f64>,
    pub values: Vec<f64>,
    pub ramp: bool,
}

impl TimeCourse {
    /// The value at time `t` (ms).
    pub fn at(&self, t: f64) -> f64 {
        let after = self.times.partition_point(|&x| x <= t);
        if after == 0 {
            return 0.0;
        }
        let i = after - 1;
        if !self.ramp || after == self.times.len() {
            return self.values[i];
        }
        let (t0, t1) = (self.times[i], self.times[after]);
        let (v0, v1) = (self.values[i], self.values[after]);
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// The largest value the course takes.
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_hold_and_ramps_interpolate() {
        let mut c = TimeCourse {
            times: vec![10.0, 20.0, 40.0],
            values: vec![1.0, 3.0, -1.0],
            ramp: false,
        };
        assert_eq!(c.at(0.0), 0.0, "zero before the first time");
        assert_eq!(c.at(10.0), 1.0);
        assert_eq!(c.at(19.9), 1.0);
        assert_eq!(c.at(25.0), 3.0);
        assert_eq!(c.at(99.0), -1.0, "the last value to the end");
        c.ramp = true;
        assert_eq!(c.at(15.0), 2.0);
        assert_eq!(c.at(30.0), 1.0);
        assert_eq!(c.at(99.0), -1.0);
        assert_eq!(c.max(), 3.0);
    }
}
