//! The matrix exponential, for the propagator of the `exact` method.
//!
//! Scaling and squaring with a Taylor series (Moler & Van Loan 2003, "Nineteen dubious
//! ways…", method 3 with the scaling of method 5): `exp(A) = exp(A/2^s)^(2^s)` with `s`
//! chosen so that `‖A/2^s‖₁ <= 1/2`, where the series converges fast (a term below 1e-17
//! of the sum ends it; at most 20 terms, `0.5^21/21! < 1e-22`). All in f64; the scaling by
//! a power of two is exact. Neuron propagators are small (a few state variables plus the
//! constant) and well conditioned, and are computed once per group (or per neuron when the
//! parameters differ), so this simple method is sufficient and easy to check.

/// `exp(a)` of the `m × m` row-major matrix `a`. A non-finite entry gives a matrix of NaN.
pub fn expm(a: &[f64], m: usize) -> Vec<f64> {
    assert_eq!(a.len(), m * m, "expm: not an {m}×{m} matrix");
    let norm = (0..m)
        .map(|j| (0..m).map(|i| a[i * m + j].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    if !norm.is_finite() {
        return vec![f64::NAN; m * m];
    }
    let mut squarings = 0;
    let mut scale = 1.0;
    while norm * scale > 0.5 {
        scale *= 0.5;
        squarings += 1;
    }
    let x: Vec<f64> = a.iter().map(|v| v * scale).collect();
    let identity: Vec<f64> = (0..m * m)
        .map(|k| if k / m == k % m { 1.0 } else { 0.0 })
        .collect();
    let mut sum = identity.clone();
    let mut term = identity;
    for k in 1..=20 {
        term = product(&term, &x, m);
        let inverse = 1.0 / k as f64;
        term.iter_mut().for_each(|v| *v *= inverse);
        sum.iter_mut().zip(&term).for_each(|(s, t)| *s += t);
        let largest = |v: &[f64]| v.iter().fold(0.0, |acc: f64, x| acc.max(x.abs()));
        if largest(&term) <= 1e-17 * largest(&sum) {
            break;
        }
    }
    for _ in 0..squarings {
        sum = product(&sum, &sum, m);
    }
    sum
}

fn product(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn a_scalar_decay_and_its_constant_input() {
        // dx/dt = -x/tau + c, augmented with the constant: [[-1/tau, c], [0, 0]]·h.
        let (tau, c, h) = (20.0, 0.3, 0.1);
        let p = expm(&[-h / tau, c * h, 0.0, 0.0], 2);
        let decay = (-h / tau).exp();
        assert!(close(p[0], decay, 1e-15), "{} vs {decay}", p[0]);
        assert!(close(p[1], c * tau * (1.0 - decay), 1e-14));
        assert_eq!((p[2], p[3]), (0.0, 1.0));
    }

    /// NEST's `iaf_psc_exp` propagator from the synaptic variable to `v` (lif.rs).
    fn lif_propagator(tau_s: f64, tau_m: f64, h: f64) -> f64 {
        if tau_s == tau_m {
            h / tau_m * (-h / tau_m).exp()
        } else {
            tau_s / (tau_s - tau_m) * ((-h / tau_s).exp() - (-h / tau_m).exp())
        }
    }

    #[test]
    fn the_lif_propagator_including_equal_time_constants() {
        // tau_m dv/dt = -v + i_s (voltage form), di_s/dt = -i_s/tau_s.
        let h = 0.1;
        // The closed form cancels for nearly equal time constants (it loses about as many
        // digits as 1/(tau_s - tau_m) has), so the match is looser there.
        for (tau_m, tau_s, tol) in [
            (20.0, 5.0, 1e-13),
            (10.0, 10.0, 1e-14),
            (5.0, 20.0, 1e-13),
            (20.0, 19.999_999, 1e-7),
        ] {
            let a = [-h / tau_m, h / tau_m, 0.0, -h / tau_s];
            let p = expm(&a, 2);
            assert!(close(p[0], (-h / tau_m).exp(), 1e-15));
            assert!(close(p[3], (-h / tau_s).exp(), 1e-15));
            let expected = lif_propagator(tau_s, tau_m, h);
            assert!(
                close(p[1], expected, tol),
                "tau_m {tau_m}, tau_s {tau_s}: {} vs {expected}",
                p[1]
            );
        }
    }

    #[test]
    fn large_steps_are_scaled_and_squared() {
        // A rotation by 10 radians and a stiff decay.
        let p = expm(&[0.0, 10.0, -10.0, 0.0], 2);
        for (got, expected) in p
            .iter()
            .zip([10f64.cos(), 10f64.sin(), -10f64.sin(), 10f64.cos()])
        {
            assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
        }
        assert!(close(expm(&[-30.0], 1)[0], (-30f64).exp(), 1e-12));
        assert!(expm(&[f64::INFINITY], 1)[0].is_nan());
    }
}
