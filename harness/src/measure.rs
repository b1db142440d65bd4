//! Measurements with limits, in the manner of OpenHTF: a named value, its
//! unit, the limit it is held to, and its verdict. Tolerances compare with
//! `approx`, so "117 Hz ± 3 %" means what a metrologist means.
//!
//! A limit may carry a marginal band inside it, as OpenHTF's marginal
//! limits do: `{ nominal = 1000, abs = 50, marginal_abs = 35 }` passes
//! 1030, calls 1040 MARGINAL (still within the limit, but close to it) and
//! fails 1060. A marginal measurement does not fail its test; reports show
//! it everywhere, so a drifting pen is seen before it fails.

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
        /// Beyond this absolute difference (and within `abs`) the value is
        /// marginal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marginal_abs: Option<f64>,
        /// Beyond this relative difference (and within `rel`) the value is
        /// marginal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marginal_rel: Option<f64>,
    },
    /// Inside `min ..= max`; either end may be open.
    Range {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Below this (and at least `min`) the value is marginal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marginal_min: Option<f64>,
        /// Above this (and at most `max`) the value is marginal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marginal_max: Option<f64>,
    },
}

/// A measurement's verdict against its limit.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within the limit and its marginal band.
    #[default]
    Pass,
    /// Within the limit, outside its marginal band: a pass, reported as such.
    Marginal,
    /// Outside the limit.
    Fail,
}

impl Verdict {
    /// `PASS`, `MARGINAL` or `FAIL`, as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Marginal => "MARGINAL",
            Verdict::Fail => "FAIL",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl Limit {
    /// `nominal ± abs` (no relative tolerance, no marginal band).
    pub fn abs(nominal: f64, abs: f64) -> Self {
        Limit::Tolerance {
            nominal,
            abs: Some(abs),
            rel: None,
            marginal_abs: None,
            marginal_rel: None,
        }
    }

    /// `nominal ± rel` as a fraction (no absolute tolerance, no band).
    pub fn rel(nominal: f64, rel: f64) -> Self {
        Limit::Tolerance {
            nominal,
            abs: None,
            rel: Some(rel),
            marginal_abs: None,
            marginal_rel: None,
        }
    }

    /// `min ..= max`, either end open, no marginal band.
    pub fn range(min: Option<f64>, max: Option<f64>) -> Self {
        Limit::Range {
            min,
            max,
            marginal_min: None,
            marginal_max: None,
        }
    }

    /// The same limit with a marginal band: `marginal_abs` for a tolerance,
    /// and for a range `marginal_abs` inside each closed end.
    pub fn with_marginal_abs(mut self, band: f64) -> Self {
        match &mut self {
            Limit::Tolerance { marginal_abs, .. } => *marginal_abs = Some(band),
            Limit::Range {
                min,
                max,
                marginal_min,
                marginal_max,
            } => {
                *marginal_min = min.map(|m| m + band);
                *marginal_max = max.map(|m| m - band);
            }
        }
        self
    }

    /// Whether the limit makes sense: a marginal band lies inside the limit
    /// it narrows, and a range is ordered. The message names the keys.
    pub fn validate(&self) -> Result<(), String> {
        let inside = |band: Option<f64>, outer: Option<f64>, b: &str, o: &str| match (band, outer) {
            (Some(_), None) => Err(format!("`{b}` narrows `{o}`, which is not given")),
            (Some(m), Some(x)) if !(0.0..=x).contains(&m) => {
                Err(format!("`{b}` ({m}) must lie between 0 and `{o}` ({x})"))
            }
            _ => Ok(()),
        };
        match *self {
            Limit::Tolerance {
                abs,
                rel,
                marginal_abs,
                marginal_rel,
                ..
            } => {
                inside(marginal_abs, abs, "marginal_abs", "abs")?;
                inside(marginal_rel, rel, "marginal_rel", "rel")
            }
            Limit::Range {
                min,
                max,
                marginal_min,
                marginal_max,
            } => {
                let order = [min, marginal_min, marginal_max, max];
                let given: Vec<f64> = order.iter().flatten().copied().collect();
                if given.windows(2).any(|w| w[0] > w[1]) {
                    return Err(
                        "a range must be ordered: min ≤ marginal_min ≤ marginal_max ≤ max".into(),
                    );
                }
                if marginal_min.is_some() && min.is_none() {
                    return Err("`marginal_min` narrows `min`, which is not given".into());
                }
                if marginal_max.is_some() && max.is_none() {
                    return Err("`marginal_max` narrows `max`, which is not given".into());
                }
                Ok(())
            }
        }
    }

    /// Whether `value` satisfies the limit (a marginal value does). NaN
    /// never does.
    pub fn check(&self, value: f64) -> bool {
        self.verdict(value) != Verdict::Fail
    }

    /// PASS, MARGINAL or FAIL for `value`. NaN always fails.
    pub fn verdict(&self, value: f64) -> Verdict {
        if value.is_nan() {
            return Verdict::Fail;
        }
        match *self {
            Limit::Tolerance {
                nominal,
                abs,
                rel,
                marginal_abs,
                marginal_rel,
            } => {
                if !within(value, nominal, abs, rel) {
                    Verdict::Fail
                } else if (marginal_abs.is_some() || marginal_rel.is_some())
                    && !within(value, nominal, marginal_abs, marginal_rel)
                {
                    Verdict::Marginal
                } else {
                    Verdict::Pass
                }
            }
            Limit::Range {
                min,
                max,
                marginal_min,
                marginal_max,
            } => {
                let inside = |lo: Option<f64>, hi: Option<f64>| {
                    lo.is_none_or(|m| value >= m) && hi.is_none_or(|m| value <= m)
                };
                if !inside(min, max) {
                    Verdict::Fail
                } else if !inside(marginal_min, marginal_max) {
                    Verdict::Marginal
                } else {
                    Verdict::Pass
                }
            }
        }
    }

    /// The band of values that pass, `(lowest, highest)`, for plots (an open
    /// end is infinite; a relative tolerance is taken on `nominal`).
    pub fn pass_band(&self) -> (f64, f64) {
        match *self {
            Limit::Tolerance {
                nominal, abs, rel, ..
            } => band(nominal, abs, rel),
            Limit::Range { min, max, .. } => (
                min.unwrap_or(f64::NEG_INFINITY),
                max.unwrap_or(f64::INFINITY),
            ),
        }
    }

    /// The band inside which a value is a clean pass, when the limit has a
    /// marginal band.
    pub fn marginal_band(&self) -> Option<(f64, f64)> {
        match *self {
            Limit::Tolerance {
                marginal_abs: None,
                marginal_rel: None,
                ..
            }
            | Limit::Range {
                marginal_min: None,
                marginal_max: None,
                ..
            } => None,
            Limit::Tolerance {
                nominal,
                marginal_abs,
                marginal_rel,
                ..
            } => Some(band(nominal, marginal_abs, marginal_rel)),
            Limit::Range {
                min,
                max,
                marginal_min,
                marginal_max,
            } => Some((
                marginal_min.or(min).unwrap_or(f64::NEG_INFINITY),
                marginal_max.or(max).unwrap_or(f64::INFINITY),
            )),
        }
    }

    /// The limit in words: `117 ± 3 %`, `1000 ± 50 (marginal ± 35)`,
    /// `≤ 300`, `2 ..= 5`.
    pub fn describe(&self, unit: &str) -> String {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        match *self {
            Limit::Tolerance {
                nominal,
                abs,
                rel,
                marginal_abs,
                marginal_rel,
            } => {
                let mut text = format!("{nominal}{unit}");
                if let Some(a) = abs {
                    text.push_str(&format!(" ± {a}{unit}"));
                }
                if let Some(r) = rel {
                    text.push_str(&format!(" ± {}%", r * 100.0));
                }
                let mut band = Vec::new();
                if let Some(a) = marginal_abs {
                    band.push(format!("± {a}{unit}"));
                }
                if let Some(r) = marginal_rel {
                    band.push(format!("± {}%", r * 100.0));
                }
                if !band.is_empty() {
                    text.push_str(&format!(" (marginal beyond {})", band.join(", ")));
                }
                text
            }
            Limit::Range {
                min,
                max,
                marginal_min,
                marginal_max,
            } => {
                let mut text = match (min, max) {
                    (Some(lo), Some(hi)) => format!("{lo} ..= {hi}{unit}"),
                    (Some(lo), None) => format!("≥ {lo}{unit}"),
                    (None, Some(hi)) => format!("≤ {hi}{unit}"),
                    (None, None) => "any value".to_owned(),
                };
                let band: Vec<String> = [
                    marginal_min.map(|m| format!("below {m}{unit}")),
                    marginal_max.map(|m| format!("above {m}{unit}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !band.is_empty() {
                    text.push_str(&format!(" (marginal {})", band.join(", ")));
                }
                text
            }
        }
    }
}

/// Whether `value` is within `abs` and `rel` of `nominal` (a bare nominal:
/// equal to it).
fn within(value: f64, nominal: f64, abs: Option<f64>, rel: Option<f64>) -> bool {
    if abs.is_none() && rel.is_none() {
        return value == nominal;
    }
    let abs_ok = abs.is_none_or(|eps| abs_diff_eq!(value, nominal, epsilon = eps));
    let rel_ok = rel.is_none_or(|r| relative_eq!(value, nominal, epsilon = 0.0, max_relative = r));
    abs_ok && rel_ok
}

/// `nominal` ± the tighter of `abs` and `rel · nominal`.
fn band(nominal: f64, abs: Option<f64>, rel: Option<f64>) -> (f64, f64) {
    let half = [abs, rel.map(|r| r * nominal.abs())]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    let half = if half.is_infinite() { 0.0 } else { half };
    (nominal - half, nominal + half)
}

/// A measured value held to a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "MeasurementRecord")]
pub struct Measurement {
    /// What was measured (`puncture_rate`, `depth_settled`).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit (`Hz`, `um`, `ms`).
    pub unit: String,
    /// The limit it is held to.
    pub limit: Limit,
    /// Whether it met the limit (a marginal value does).
    pub passed: bool,
    /// PASS, MARGINAL or FAIL.
    pub verdict: Verdict,
}

/// A measurement as records hold it: records from before marginal limits
/// have no `verdict`, and read as PASS or FAIL from `passed`.
#[derive(Deserialize)]
struct MeasurementRecord {
    name: String,
    value: f64,
    unit: String,
    limit: Limit,
    passed: bool,
    #[serde(default)]
    verdict: Option<Verdict>,
}

impl From<MeasurementRecord> for Measurement {
    fn from(r: MeasurementRecord) -> Self {
        let fallback = if r.passed {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Measurement {
            name: r.name,
            value: r.value,
            unit: r.unit,
            limit: r.limit,
            passed: r.passed,
            verdict: r.verdict.unwrap_or(fallback),
        }
    }
}

impl Measurement {
    /// Measures: records `value` and judges it against `limit`.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>, limit: Limit) -> Self {
        let verdict = limit.verdict(value);
        Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
            limit,
            passed: verdict != Verdict::Fail,
            verdict,
        }
    }

    /// `puncture_rate = 113.2 Hz, limit 117 Hz ± 3%: FAIL`.
    pub fn describe(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Pass => "pass",
            other => other.label(),
        };
        format!(
            "{} = {} {}, limit {}: {verdict}",
            self.name,
            self.value,
            self.unit,
            self.limit.describe(&self.unit),
        )
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_tolerance_is_relative_to_nominal() {
        let l = Limit::rel(117.0, 0.03);
        assert!(l.check(117.0));
        assert!(l.check(113.6)); // -2.9 %
        assert!(l.check(120.4)); // +2.9 %
        assert!(!l.check(113.0)); // -3.4 %
        assert!(!l.check(121.0)); // +3.4 %
        assert!(!l.check(f64::NAN));
    }

    #[test]
    fn absolute_tolerance() {
        let l = Limit::abs(1_000.0, 50.0);
        assert!(l.check(950.0) && l.check(1_050.0) && l.check(1_000.0));
        assert!(!l.check(949.9) && !l.check(1_050.1));
    }

    #[test]
    fn both_tolerances_must_hold() {
        let l = Limit::Tolerance {
            nominal: 100.0,
            abs: Some(1.0),
            rel: Some(0.05),
            marginal_abs: None,
            marginal_rel: None,
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
            marginal_abs: None,
            marginal_rel: None,
        };
        assert!(l.check(14.0));
        assert!(!l.check(14.000_001));
    }

    #[test]
    fn ranges() {
        let l = Limit::range(None, Some(300.0));
        assert!(l.check(300.0) && !l.check(300.5));
        let l = Limit::range(Some(2.0), Some(5.0));
        assert!(l.check(2.0) && l.check(5.0) && !l.check(1.99) && !l.check(5.01));
    }

    #[test]
    fn descriptions_read_like_a_spec() {
        let m = Measurement::new("puncture_rate", 113.0, "Hz", Limit::rel(117.0, 0.03));
        assert!(!m.passed);
        assert_eq!(
            m.describe(),
            "puncture_rate = 113 Hz, limit 117 Hz ± 3%: FAIL"
        );
        assert_eq!(Limit::range(None, Some(300.0)).describe("ms"), "≤ 300 ms");
    }

    #[test]
    fn a_limit_with_a_stray_key_is_refused() {
        assert!(serde_json::from_str::<Limit>(r#"{"nominal": 1, "abs": "fifty"}"#).is_err());
        assert!(serde_json::from_str::<Limit>(r#"{"max": 300, "maxx": 3}"#).is_err());
    }

    #[test]
    fn limits_read_from_toml_shapes() {
        let tol: Limit = serde_json::from_str(r#"{"nominal": 117, "rel": 0.03}"#).unwrap();
        assert_eq!(tol, Limit::rel(117.0, 0.03));
        let range: Limit = serde_json::from_str(r#"{"max": 300}"#).unwrap();
        assert_eq!(range, Limit::range(None, Some(300.0)));
    }

    #[test]
    fn a_marginal_band_inside_an_absolute_tolerance() {
        let l: Limit =
            serde_json::from_str(r#"{"nominal": 1000, "abs": 50, "marginal_abs": 35}"#).unwrap();
        assert_eq!(l, Limit::abs(1_000.0, 50.0).with_marginal_abs(35.0));
        assert_eq!(l.validate(), Ok(()));
        assert_eq!(l.verdict(1_000.0), Verdict::Pass);
        assert_eq!(l.verdict(965.0), Verdict::Pass);
        assert_eq!(l.verdict(1_035.0), Verdict::Pass);
        assert_eq!(l.verdict(1_040.0), Verdict::Marginal);
        assert_eq!(l.verdict(951.0), Verdict::Marginal);
        assert_eq!(l.verdict(1_050.0), Verdict::Marginal);
        assert_eq!(l.verdict(1_050.1), Verdict::Fail);
        assert_eq!(l.verdict(f64::NAN), Verdict::Fail);
        assert!(l.check(1_040.0), "a marginal value meets the limit");
        assert_eq!(l.pass_band(), (950.0, 1_050.0));
        assert_eq!(l.marginal_band(), Some((965.0, 1_035.0)));
        let m = Measurement::new("depth", 1_040.0, "um", l);
        assert!(m.passed);
        assert_eq!(m.verdict, Verdict::Marginal);
        assert_eq!(
            m.describe(),
            "depth = 1040 um, limit 1000 um ± 50 um (marginal beyond ± 35 um): MARGINAL"
        );
    }

    #[test]
    fn marginal_relative_and_range_bands() {
        let l: Limit =
            serde_json::from_str(r#"{"nominal": 100, "rel": 0.03, "marginal_rel": 0.02}"#).unwrap();
        assert_eq!(l.verdict(101.0), Verdict::Pass);
        assert_eq!(l.verdict(102.5), Verdict::Marginal);
        assert_eq!(l.verdict(104.0), Verdict::Fail);
        let r: Limit = serde_json::from_str(r#"{"max": 300, "marginal_max": 250}"#).unwrap();
        assert_eq!(r.verdict(200.0), Verdict::Pass);
        assert_eq!(r.verdict(260.0), Verdict::Marginal);
        assert_eq!(r.verdict(301.0), Verdict::Fail);
        assert_eq!(r.describe("ms"), "≤ 300 ms (marginal above 250 ms)");
        assert_eq!(
            Limit::range(Some(2.0), Some(5.0)).with_marginal_abs(0.5),
            Limit::Range {
                min: Some(2.0),
                max: Some(5.0),
                marginal_min: Some(2.5),
                marginal_max: Some(4.5)
            }
        );
    }

    #[test]
    fn a_marginal_band_outside_its_limit_is_refused() {
        let wide = Limit::abs(1_000.0, 50.0).with_marginal_abs(60.0);
        assert!(wide.validate().unwrap_err().contains("`marginal_abs` (60)"));
        let alone = Limit::rel(100.0, 0.03).with_marginal_abs(1.0);
        assert!(
            alone
                .validate()
                .unwrap_err()
                .contains("`abs`, which is not given")
        );
        let r: Limit = serde_json::from_str(r#"{"max": 300, "marginal_max": 350}"#).unwrap();
        assert!(r.validate().unwrap_err().contains("ordered"));
        let r: Limit = serde_json::from_str(r#"{"max": 300, "marginal_min": 10}"#).unwrap();
        assert!(r.validate().unwrap_err().contains("`marginal_min`"));
    }

    #[test]
    fn a_record_from_before_marginal_limits_reads_its_verdict_from_passed() {
        let old = r#"{"name": "d", "value": 2000, "unit": "um",
                      "limit": {"nominal": 1000, "abs": 50}, "passed": false}"#;
        let m: Measurement = serde_json::from_str(old).unwrap();
        assert_eq!(m.verdict, Verdict::Fail);
        let m = Measurement::new(
            "d",
            1_040.0,
            "um",
            Limit::abs(1_000.0, 50.0).with_marginal_abs(35.0),
        );
        let back: Measurement = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
