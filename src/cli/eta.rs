//! The estimate of the time a run still needs, shown on its progress line. It is measured
//! from the first progress report (not from the start of the process, so building the
//! network does not inflate it) and stays hidden until a second has passed and some progress
//! has been made: the first ticks of a run say nothing reliable about its pace.

use std::time::{Duration, Instant};

/// Wall time before an estimate is shown.
const SETTLE: Duration = Duration::from_secs(1);

/// Remembers where the run's progress stood when it was first reported.
#[derive(Debug, Default)]
pub struct Eta {
    origin: Option<(Instant, f64)>,
}

impl Eta {
    /// The estimate for `fraction` done at `now`, as text: `ETA 42 s`, or `ETA …` while
    /// there is no estimate yet.
    pub fn text(&mut self, now: Instant, fraction: f64) -> String {
        let (start, at_start) = *self.origin.get_or_insert((now, fraction));
        let elapsed = now.saturating_duration_since(start);
        match seconds_left(elapsed, fraction - at_start, 1.0 - fraction) {
            Some(s) => format!("ETA {}", duration(s)),
            None => "ETA …".to_string(),
        }
    }
}

/// Seconds left when `done` of the work took `elapsed` and `remaining` is left, at the same
/// pace; `None` before [`SETTLE`] has passed or while nothing measurable was done.
pub fn seconds_left(elapsed: Duration, done: f64, remaining: f64) -> Option<f64> {
    if elapsed < SETTLE || !done.is_finite() || done <= 0.0 || !remaining.is_finite() {
        return None;
    }
    let left = elapsed.as_secs_f64() * remaining.max(0.0) / done;
    left.is_finite().then_some(left)
}

/// `42 s`, `3 min 05 s`, `2 h 03 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_estimate_from_the_first_ticks() {
        // The first report of a run: nothing elapsed, a sliver done.
        assert_eq!(seconds_left(Duration::ZERO, 1e-6, 1.0), None);
        // Within the first second, however far along.
        assert_eq!(seconds_left(Duration::from_millis(900), 0.3, 0.7), None);
        // Nothing done since the first report.
        assert_eq!(seconds_left(Duration::from_secs(5), 0.0, 1.0), None);
        assert_eq!(seconds_left(Duration::from_secs(5), f64::NAN, 1.0), None);
    }

    #[test]
    fn the_estimate_follows_the_pace_since_the_first_report() {
        // A tenth of the work in 2 s: 18 s for the other nine tenths.
        let left = seconds_left(Duration::from_secs(2), 0.1, 0.9).unwrap();
        assert!((left - 18.0).abs() < 1e-9, "{left}");
        assert_eq!(seconds_left(Duration::from_secs(3), 0.5, 0.0), Some(0.0));

        // Measured from the first report, which came after 40 % had been done by the time
        // the network was built: 10 % more in 1.5 s leaves 50 % for 7.5 s.
        let start = Instant::now();
        let mut eta = Eta::default();
        assert_eq!(eta.text(start, 0.4), "ETA …");
        assert_eq!(eta.text(start + Duration::from_millis(500), 0.45), "ETA …");
        assert_eq!(
            eta.text(start + Duration::from_millis(1500), 0.5),
            "ETA 8 s"
        );
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(7.4), "7 s");
        assert_eq!(duration(185.0), "3 min 05 s");
        assert_eq!(duration(7380.0), "2 h 03 min");
        assert_eq!(duration(-1.0), "0 s");
    }
}
