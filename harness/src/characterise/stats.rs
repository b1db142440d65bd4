//! The numbers of one grid point: from the strokes the pen reported, the
//! measured mean, standard deviation and largest error of depth and rate,
//! each judged against its limit.

use serde::{Deserialize, Serialize};

use super::grid::SetPoint;
use crate::measure::{Limit, Verdict};

/// One stroke as the pen reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stroke {
    /// When, in the pen's microseconds (wrapping).
    pub time_us: u32,
    /// Measured depth at the bottom of the stroke, µm.
    pub depth_um: u16,
}

/// The limits a study holds every point to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudyLimits {
    /// Largest allowed depth error of any stroke, µm.
    pub depth_abs_um: f64,
    /// Depth error beyond which a stroke is marginal, µm.
    pub depth_marginal_um: Option<f64>,
    /// Largest allowed error of the measured rate, a fraction (0.03).
    pub rate_rel: f64,
    /// Rate error beyond which the rate is marginal, a fraction.
    pub rate_marginal_rel: Option<f64>,
}

impl Default for StudyLimits {
    /// The conformance suite's: ±50 µm (marginal beyond ±35 µm) and ±3 %
    /// (marginal beyond ±2 %).
    fn default() -> Self {
        StudyLimits {
            depth_abs_um: 50.0,
            depth_marginal_um: Some(35.0),
            rate_rel: 0.03,
            rate_marginal_rel: Some(0.02),
        }
    }
}

impl StudyLimits {
    /// The limit of a stroke's depth at `set_um`.
    pub fn depth(&self, set_um: f64) -> Limit {
        let limit = Limit::abs(set_um, self.depth_abs_um);
        match self.depth_marginal_um {
            Some(m) => limit.with_marginal_abs(m),
            None => limit,
        }
    }

    /// The limit of the measured rate at `set_hz`.
    pub fn rate(&self, set_hz: f64) -> Limit {
        Limit::Tolerance {
            nominal: set_hz,
            abs: None,
            rel: Some(self.rate_rel),
            marginal_abs: None,
            marginal_rel: self.rate_marginal_rel,
        }
    }

    /// Whether the limits make sense (bands inside their limits, none
    /// negative).
    pub fn validate(&self) -> Result<(), String> {
        if !(self.depth_abs_um >= 0.0 && self.rate_rel >= 0.0) {
            return Err("limits must be positive".into());
        }
        self.depth(1_000.0).validate()?;
        self.rate(100.0).validate()
    }
}

/// Mean, standard deviation and largest error of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// Sample standard deviation (0 for a single value).
    pub sd: f64,
    /// The error (value − set) largest in size, with its sign.
    pub max_error: f64,
}

impl Spread {
    /// Of `values` around `set`; `None` when there are none.
    pub fn of(values: &[f64], set: f64) -> Option<Spread> {
        let n = values.len() as f64;
        let (&first, rest) = values.split_first()?;
        let mean = values.iter().sum::<f64>() / n;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let max_error = rest.iter().fold(first - set, |worst, v| {
            let e = v - set;
            if e.abs() > worst.abs() { e } else { worst }
        });
        Some(Spread {
            mean,
            sd,
            max_error,
        })
    }
}

/// What one grid point measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// What the pen was set to.
    pub set: SetPoint,
    /// Strokes measured.
    pub strokes: usize,
    /// Stroke depths, µm (none when no stroke came).
    pub depth: Option<Spread>,
    /// The worst stroke's depth against the depth limit: every stroke must
    /// be within it.
    pub depth_verdict: Verdict,
    /// Stroke-to-stroke rates, Hz; the mean is strokes over the window.
    pub rate: Option<Spread>,
    /// The mean rate against the rate limit (a single interval's rate is
    /// jitter, not the pen's rate).
    pub rate_verdict: Verdict,
    /// The worse of the two.
    pub verdict: Verdict,
    /// What went wrong at this point, if anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// External gauge readings at this point, when a reference was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<super::reference::Comparison>,
}

impl PointResult {
    /// Judges the strokes measured at `set`.
    pub fn judge(set: SetPoint, strokes: &[Stroke], limits: &StudyLimits) -> PointResult {
        let set_depth = f64::from(set.depth_um);
        let depths: Vec<f64> = strokes.iter().map(|s| f64::from(s.depth_um)).collect();
        let depth = Spread::of(&depths, set_depth);
        let depth_verdict = depth.map_or(Verdict::Fail, |d| {
            limits.depth(set_depth).verdict(set_depth + d.max_error)
        });
        let intervals: Vec<u32> = strokes
            .windows(2)
            .map(|w| w[1].time_us.wrapping_sub(w[0].time_us))
            .collect();
        let span_s = intervals.iter().map(|&i| f64::from(i)).sum::<f64>() / 1e6;
        let instant: Vec<f64> = intervals
            .iter()
            .filter(|&&i| i > 0)
            .map(|&i| 1e6 / f64::from(i))
            .collect();
        let rate = Spread::of(&instant, set.rate_hz()).map(|mut r| {
            r.mean = intervals.len() as f64 / span_s;
            r
        });
        let rate_verdict = rate.map_or(Verdict::Fail, |r| {
            limits.rate(set.rate_hz()).verdict(r.mean)
        });
        let note = match strokes.len() {
            0 => Some("no strokes".to_owned()),
            1 => Some("one stroke: no rate".to_owned()),
            _ => None,
        };
        PointResult {
            set,
            strokes: strokes.len(),
            depth,
            depth_verdict,
            rate,
            rate_verdict,
            verdict: depth_verdict.max(rate_verdict),
            note,
            reference: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strokes(depths: &[u16], every_us: u32) -> Vec<Stroke> {
        depths
            .iter()
            .enumerate()
            .map(|(i, &depth_um)| Stroke {
                // Across the u32 wrap, as a pen up for 71 minutes would be.
                time_us: (u32::MAX - 5_000).wrapping_add(i as u32 * every_us),
                depth_um,
            })
            .collect()
    }

    const SET: SetPoint = SetPoint {
        depth_um: 1_000,
        rate_chz: 10_000,
    };

    #[test]
    fn spread_of_values() {
        let s = Spread::of(&[990.0, 1_000.0, 1_020.0], 1_000.0).unwrap();
        assert!((s.mean - 1_003.333).abs() < 1e-3);
        assert!((s.sd - 15.275).abs() < 1e-3);
        assert_eq!(s.max_error, 20.0);
        assert_eq!(
            Spread::of(&[960.0, 1_020.0], 1_000.0).unwrap().max_error,
            -40.0
        );
        assert_eq!(Spread::of(&[5.0], 4.0).unwrap().sd, 0.0);
        assert!(Spread::of(&[], 4.0).is_none());
    }

    #[test]
    fn the_worst_stroke_decides_the_depth_verdict() {
        let limits = StudyLimits::default();
        let clean = PointResult::judge(SET, &strokes(&[1_000, 1_010, 990], 10_000), &limits);
        assert_eq!(clean.depth_verdict, Verdict::Pass);
        assert_eq!(clean.rate_verdict, Verdict::Pass);
        assert_eq!(clean.rate.unwrap().mean, 100.0);
        assert_eq!(clean.verdict, Verdict::Pass);
        let near = PointResult::judge(SET, &strokes(&[1_000, 1_040, 1_000], 10_000), &limits);
        assert_eq!(near.depth_verdict, Verdict::Marginal);
        assert_eq!(near.verdict, Verdict::Marginal);
        let off = PointResult::judge(SET, &strokes(&[1_000, 1_000, 1_060], 10_000), &limits);
        assert_eq!(off.depth_verdict, Verdict::Fail);
        assert_eq!(off.depth.unwrap().max_error, 60.0);
    }

    #[test]
    fn the_rate_is_strokes_over_the_window() {
        let limits = StudyLimits::default();
        // 102.5 Hz at a set 100 Hz: within 3 %, beyond 2 %.
        let fast = PointResult::judge(SET, &strokes(&[1_000; 5], 9_756), &limits);
        assert_eq!(fast.rate_verdict, Verdict::Marginal);
        let slow = PointResult::judge(SET, &strokes(&[1_000; 5], 10_500), &limits);
        assert_eq!(slow.rate_verdict, Verdict::Fail);
        assert_eq!(slow.verdict, Verdict::Fail);
    }

    #[test]
    fn too_few_strokes_fail_with_a_note() {
        let limits = StudyLimits::default();
        let none = PointResult::judge(SET, &[], &limits);
        assert_eq!(
            (none.verdict, none.note.as_deref()),
            (Verdict::Fail, Some("no strokes"))
        );
        let one = PointResult::judge(SET, &strokes(&[1_000], 10_000), &limits);
        assert_eq!(one.depth_verdict, Verdict::Pass);
        assert_eq!(one.rate_verdict, Verdict::Fail);
    }

    #[test]
    fn limits_are_checked() {
        assert!(StudyLimits::default().validate().is_ok());
        let wide = StudyLimits {
            depth_marginal_um: Some(80.0),
            ..StudyLimits::default()
        };
        assert!(wide.validate().unwrap_err().contains("marginal_abs"));
    }
}
