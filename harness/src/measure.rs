//! Measurements with limits, in the manner of OpenHTF: a named value, its
//! unit, the limit it is held to, and whether it passed. Tolerances compare
//! with `approx`, so "117 Hz ± 3 %" means what a metrologist means.

use approx::{abs_diff_eq, relative_eq};
use serde::{Deserialize, Serialize};

/// What a measured value must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Limit {
    /// `nominal`, within an absolute and/or a relative tolerance (both must
    /// hold when both are given; with neither, the value must equal
    /// `nominal`). The relative tolerance is `approx`'s: a fraction of the
    /// larger of the value and `nominal`.
    Tolerance {
        /// The expected value.
        nominal: f64,
        /// Largest allowed absolute difference, in the measurement's unit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        abs: Option<f64>,
        /// Largest allowed relative difference, as a fraction (0.03 for 3 %).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rel: Option<f64>,
    },
    /// Inside `min ..= max`; either end may be open.
    Range {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
}

impl Limit {
    /// Whether `value` satisfies the limit. NaN never does.
    pub fn check(&self, value: f64) -> bool {
        if value.is_nan() {
            return false;
        }
        match *self {
            Limit::Tolerance {
                nominal,
                abs: None,
                rel: None,
            } => value == nominal,
            Limit::Tolerance { nominal, abs, rel } => {
                let abs_ok = abs.is_none_or(|eps| abs_diff_eq!(value, nominal, epsilon = eps));
                let rel_ok = rel
                    .is_none_or(|r| relative_eq!(value, nominal, epsilon = 0.0, max_relative = r));
                abs_ok && rel_ok
            }
            Limit::Range { min, max } => {
                min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m)
            }
        }
    }

    /// The limit in words: `117 ± 3 %`, `1000 ± 50`, `≤ 300`, `2 ..= 5`.
    pub fn describe(&self, unit: &str) -> String {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        match *self {
            Limit::Tolerance { nominal, abs, rel } => {
                let mut text = format!("{nominal}{unit}");
                if let Some(a) = abs {
                    text.push_str(&format!(" ± {a}{unit}"));
                }
                if let Some(r) = rel {
                    text.push_str(&format!(" ± {}%", r * 100.0));
                }
                text
            }
            Limit::Range {
                min: Some(lo),
                max: Some(hi),
            } => format!("{lo} ..= {hi}{unit}"),
            Limit::Range {
                min: Some(lo),
                max: None,
            } => format!("≥ {lo}{unit}"),
            Limit::Range {
                min: None,
                max: Some(hi),
            } => format!("≤ {hi}{unit}"),
            Limit::Range {
                min: None,
                max: None,
            } => "any value".to_owned(),
        }
    }
}

/// A measured value held to a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// What was measured (`puncture_rate`, `depth_settled`).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit (`Hz`, `um`, `ms`).
    pub unit: String,
    /// The limit it is held to.
    pub limit: Limit,
    /// Whether it met the limit.
    pub passed: bool,
}

impl Measurement {
    /// Measures: records `value` and checks it against `limit`.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>, limit: Limit) -> Self {
        let passed = limit.check(value);
        Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
            limit,
            passed,
        }
    }

    /// `puncture_rate = 113.2 Hz, limit 117 Hz ± 3%: FAIL`.
    pub fn describe(&self) -> String {
        format!(
            "{} = {} {}, limit {}: {}",
            self.name,
            self.value,
            self.unit,
            self.limit.describe(&self.unit),
            if self.passed { "pass" } else { "FAIL" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_tolerance_is_relative_to_nominal() {
        let l = Limit::Tolerance {
            nominal: 117.0,
            abs: None,
            rel: Some(0.03),
        };
        assert!(l.check(117.0));
        assert!(l.check(113.6)); // -2.9 %
        assert!(l.check(120.4)); // +2.9 %
        assert!(!l.check(113.0)); // -3.4 %
        assert!(!l.check(121.0)); // +3.4 %
        assert!(!l.check(f64::NAN));
    }

    #[test]
    fn absolute_tolerance() {
        let l = Limit::Tolerance {
            nominal: 1_000.0,
            abs: Some(50.0),
            rel: None,
        };
        assert!(l.check(950.0) && l.check(1_050.0) && l.check(1_000.0));
        assert!(!l.check(949.9) && !l.check(1_050.1));
    }

    #[test]
    fn both_tolerances_must_hold() {
        let l = Limit::Tolerance {
            nominal: 100.0,
            abs: Some(1.0),
            rel: Some(0.05),
        };
        assert!(l.check(100.9));
        assert!(!l.check(102.0), "within 5 % but not within 1");
    }

    #[test]
    fn a_bare_nominal_means_exactly() {
        let l = Limit::Tolerance {
            nominal: 14.0,
            abs: None,
            rel: None,
        };
        assert!(l.check(14.0));
        assert!(!l.check(14.000_001));
    }

    #[test]
    fn ranges() {
        let l = Limit::Range {
            min: None,
            max: Some(300.0),
        };
        assert!(l.check(300.0) && !l.check(300.5));
        let l = Limit::Range {
            min: Some(2.0),
            max: Some(5.0),
        };
        assert!(l.check(2.0) && l.check(5.0) && !l.check(1.99) && !l.check(5.01));
    }

    #[test]
    fn descriptions_read_like_a_spec() {
        let m = Measurement::new(
            "puncture_rate",
            113.0,
            "Hz",
            Limit::Tolerance {
                nominal: 117.0,
                abs: None,
                rel: Some(0.03),
            },
        );
        assert!(!m.passed);
        assert_eq!(
            m.describe(),
            "puncture_rate = 113 Hz, limit 117 Hz ± 3%: FAIL"
        );
        assert_eq!(
            Limit::Range {
                min: None,
                max: Some(300.0)
            }
            .describe("ms"),
            "≤ 300 ms"
        );
    }

    #[test]
    fn a_limit_with_a_stray_key_is_refused() {
        assert!(serde_json::from_str::<Limit>(r#"{"nominal": 1, "abs": "fifty"}"#).is_err());
        assert!(serde_json::from_str::<Limit>(r#"{"max": 300, "maxx": 3}"#).is_err());
    }

    #[test]
    fn limits_read_from_toml_shapes() {
        let tol: Limit = serde_json::from_str(r#"{"nominal": 117, "rel": 0.03}"#).unwrap();
        assert_eq!(
            tol,
            Limit::Tolerance {
                nominal: 117.0,
                abs: None,
                rel: Some(0.03)
            }
        );
        let range: Limit = serde_json::from_str(r#"{"max": 300}"#).unwrap();
        assert_eq!(
            range,
            Limit::Range {
                min: None,
                max: Some(300.0)
            }
        );
    }
}
