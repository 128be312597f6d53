//! The accuracy of a set of answers, with its Wilson 95 % interval.

use std::fmt;
use std::ops::Add;

use serde::{Deserialize, Serialize};

/// The standard normal quantile of 0.975, for two-sided 95 % intervals.
const Z_95: f64 = 1.959_963_984_540_054;

/// Correct answers out of a number of questions (the fraction reported in docs/iqtt.md, with its Wilson interval).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Questions answered correctly.
    pub correct: u64,
    /// Questions answered.
    pub total: u64,
}

impl Accuracy {
    /// `correct` right out of `total`.
    ///
    /// # Panics
    /// If `correct > total`.
    pub fn new(correct: u64, total: u64) -> Self {
        assert!(correct <= total, "{correct} correct out of {total}");
        Self { correct, total }
    }

    /// One answer, right or wrong.
    pub fn of(right: bool) -> Self {
        Self::new(u64::from(right), 1)
    }

    /// The fraction answered correctly; NaN when no question was answered.
    pub fn fraction(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }

    /// The Wilson score interval of the fraction at 95 % confidence, `[low, high]` (Wilson
    /// 1927): with `p̂ = correct/total`, `n = total`, `z = 1.96`,
    /// `(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`. Unlike `p̂ ± z·√(p̂(1−p̂)/n)` it
    /// stays within `[0, 1]` and is not empty at 0 or `n` correct. `[0, 1]` when no question
    /// was answered.
    pub fn interval_95(&self) -> [f64; 2] {
        if self.total == 0 {
            return [0.0, 1.0];
        }
        let n = self.total as f64;
        let p = self.fraction();
        let z2 = Z_95 * Z_95;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        [(centre - half).max(0.0), (centre + half).min(1.0)]
    }
}

impl Add for Accuracy {
    type Output = Accuracy;

    /// The answers of both sets together.
    fn add(self, other: Accuracy) -> Accuracy {
        Accuracy::new(self.correct + other.correct, self.total + other.total)
    }
}

impl fmt::Display for Accuracy {
    /// `0.510 [0.492, 0.528] (1530/3000)`: the fraction, its 95 % interval and the counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [lo, hi] = self.interval_95();
        write!(
            f,
            "{:.3} [{lo:.3}, {hi:.3}] ({}/{})",
            self.fraction(),
            self.correct,
            self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: [f64; 2], want: [f64; 2]) {
        let d = (got[0] - want[0]).abs().max((got[1] - want[1]).abs());
        assert!(d < 5e-5, "{got:?} vs {want:?}");
    }

    #[test]
    fn wilson_interval_matches_hand_computed_values() {
        // z² = 3.841459; 5/10: centre 0.5, half = 1.959964/1.384146 · √(0.025 + 0.0096036)
        // = 1.416009 · 0.186020 = 0.263406.
        close(Accuracy::new(5, 10).interval_95(), [0.236594, 0.763406]);
        // 0/10: [0, z²/n / (1 + z²/n)] = [0, 0.384146/1.384146].
        close(Accuracy::new(0, 10).interval_95(), [0.0, 0.277533]);
        // 10/10 mirrors 0/10.
        close(Accuracy::new(10, 10).interval_95(), [0.722467, 1.0]);
        // 1530/3000 = 0.51: centre (0.51 + 0.000640)/1.001280 = 0.509988,
        // half = 1.957458 · √(0.00008330 + 0.000000107) = 1.957458 · 0.0091327 = 0.017877.
        close(
            Accuracy::new(1530, 3000).interval_95(),
            [0.492111, 0.527865],
        );
        assert_eq!(Accuracy::default().interval_95(), [0.0, 1.0]);
    }

    #[test]
    fn accuracies_add_and_print() {
        let a = Accuracy::of(true) + Accuracy::of(false) + Accuracy::new(1529, 2998);
        assert_eq!(a, Accuracy::new(1530, 3000));
        assert_eq!(a.to_string(), "0.510 [0.492, 0.528] (1530/3000)");
        assert!(Accuracy::default().fraction().is_nan());
    }
}
