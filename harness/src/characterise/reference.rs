//! External gauge readings (`--reference FILE.csv`), for a lab that
//! measures penetration depth outside the pen, and how they compare with
//! what the pen reported.
//!
//! ```csv
//! # depth_um: the set depth; rate_hz: the set rate (empty: any rate)
//! depth_um,rate_hz,measured_um
//! 1000,90,1012
//! 1000,,1008.5
//! ```
//!
//! Columns may come in any order; `#` starts a comment line; every reading
//! of a point counts towards its mean.

use serde::{Deserialize, Serialize};

use super::stats::{PointResult, StudyLimits};
use crate::measure::Verdict;

/// One gauge reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The set depth it was taken at, µm.
    pub depth_um: u16,
    /// The set rate, Hz (`None`: at any rate).
    pub rate_hz: Option<f64>,
    /// What the gauge measured, µm.
    pub measured_um: f64,
}

/// A reference file that cannot be read, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ReferenceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub problem: String,
}

/// The gauge against the pen at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Readings at this point.
    pub readings: usize,
    /// Their mean, µm.
    pub gauge_mean_um: f64,
    /// The pen's reported mean less the gauge's, µm.
    pub pen_minus_gauge_um: f64,
    /// The gauge's mean against the depth limit.
    pub gauge_verdict: Verdict,
}

const COLUMNS: [&str; 3] = ["depth_um", "rate_hz", "measured_um"];

/// Reads a reference file's text.
pub fn parse(text: &str) -> Result<Vec<Reading>, ReferenceError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (header_line, header) = lines.next().ok_or(ReferenceError {
        line: 1,
        problem: format!(
            "empty: the first line names the columns {}",
            COLUMNS.join(",")
        ),
    })?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let at = |name: &str| {
        names.iter().position(|n| *n == name).ok_or(ReferenceError {
            line: header_line,
            problem: format!("no `{name}` column (the columns are {})", COLUMNS.join(",")),
        })
    };
    let (depth_col, rate_col, measured_col) = (at(COLUMNS[0])?, at(COLUMNS[1])?, at(COLUMNS[2])?);
    if let Some(extra) = names.iter().find(|n| !COLUMNS.contains(n)) {
        return Err(ReferenceError {
            line: header_line,
            problem: format!(
                "unknown column `{extra}` (the columns are {})",
                COLUMNS.join(",")
            ),
        });
    }
    lines
        .map(|(line, text)| {
            let cells: Vec<&str> = text.split(',').map(str::trim).collect();
            let bad = |problem: String| ReferenceError { line, problem };
            if cells.len() != names.len() {
                return Err(bad(format!(
                    "{} cells, the header has {}",
                    cells.len(),
                    names.len()
                )));
            }
            let number = |col: usize| -> Result<f64, ReferenceError> {
                cells[col]
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| {
                        bad(format!(
                            "`{}` is not a number ≥ 0 ({})",
                            cells[col], names[col]
                        ))
                    })
            };
            let depth = number(depth_col)?;
            if depth.fract() != 0.0 || depth > f64::from(u16::MAX) {
                return Err(bad(format!("depth_um {depth} is not a whole number of µm")));
            }
            let rate_hz = match cells[rate_col] {
                "" => None,
                _ => Some(number(rate_col)?),
            };
            Ok(Reading {
                depth_um: depth as u16,
                rate_hz,
                measured_um: number(measured_col)?,
            })
        })
        .collect()
}

/// Adds the gauge readings to the points they were taken at; returns the
/// readings that match no point of the grid.
pub fn compare(
    points: &mut [PointResult],
    readings: &[Reading],
    limits: &StudyLimits,
) -> Vec<Reading> {
    let matches = |r: &Reading, p: &PointResult| {
        r.depth_um == p.set.depth_um && r.rate_hz.is_none_or(|hz| hz == p.set.rate_hz())
    };
    for point in points.iter_mut() {
        let gauge: Vec<f64> = readings
            .iter()
            .filter(|r| matches(r, point))
            .map(|r| r.measured_um)
            .collect();
        let (Some(pen), false) = (point.depth, gauge.is_empty()) else {
            continue;
        };
        let gauge_mean_um = gauge.iter().sum::<f64>() / gauge.len() as f64;
        let set = f64::from(point.set.depth_um);
        point.reference = Some(Comparison {
            readings: gauge.len(),
            gauge_mean_um,
            pen_minus_gauge_um: pen.mean - gauge_mean_um,
            gauge_verdict: limits.depth(set).verdict(gauge_mean_um),
        });
    }
    readings
        .iter()
        .filter(|r| !points.iter().any(|p| matches(r, p)))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::characterise::grid::SetPoint;
    use crate::characterise::stats::Stroke;

    #[test]
    fn readings_in_any_column_order_with_comments() {
        let text = "# gauge G-17, 2026-11-30\nmeasured_um, depth_um, rate_hz\n1012,1000,90\n\n1008.5,1000,\n";
        let r = parse(text).unwrap();
        assert_eq!(
            r,
            [
                Reading {
                    depth_um: 1_000,
                    rate_hz: Some(90.0),
                    measured_um: 1_012.0
                },
                Reading {
                    depth_um: 1_000,
                    rate_hz: None,
                    measured_um: 1_008.5
                },
            ]
        );
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            e(""),
            "line 1: empty: the first line names the columns depth_um,rate_hz,measured_um"
        );
        assert!(e("depth_um,measured_um\n").contains("line 1: no `rate_hz` column"));
        assert!(e("depth_um,rate_hz,measured_um,who\n").contains("unknown column `who`"));
        assert!(e("depth_um,rate_hz,measured_um\n1000,90\n").starts_with("line 2: 2 cells"));
        assert!(
            e("depth_um,rate_hz,measured_um\n1000,90,deep\n").contains("`deep` is not a number")
        );
        assert!(
            e("depth_um,rate_hz,measured_um\n# x\n1000.5,90,1\n")
                .starts_with("line 3: depth_um 1000.5")
        );
        assert!(e("depth_um,rate_hz,measured_um\n99999,90,1\n").contains("whole number"));
        assert!(e("depth_um,rate_hz,measured_um\n100,NaN,1\n").contains("`NaN`"));
    }

    #[test]
    fn the_gauge_is_compared_with_the_pen_point_by_point() {
        let limits = StudyLimits::default();
        let strokes = |d: u16| {
            (0..4)
                .map(|i| Stroke {
                    time_us: i * 10_000,
                    depth_um: d,
                })
                .collect::<Vec<_>>()
        };
        let at = |depth_um, rate_chz| SetPoint { depth_um, rate_chz };
        let mut points = vec![
            PointResult::judge(at(1_000, 9_000), &strokes(1_000), &limits),
            PointResult::judge(at(1_000, 12_000), &strokes(1_010), &limits),
            PointResult::judge(at(2_000, 9_000), &strokes(2_000), &limits),
        ];
        let readings =
            parse("depth_um,rate_hz,measured_um\n1000,,1040\n1000,90,1020\n1500,,1500\n").unwrap();
        let unmatched = compare(&mut points, &readings, &limits);
        assert_eq!(unmatched, [readings[2]]);
        let first = points[0].reference.as_ref().unwrap();
        assert_eq!((first.readings, first.gauge_mean_um), (2, 1_030.0));
        assert_eq!(first.pen_minus_gauge_um, -30.0);
        assert_eq!(first.gauge_verdict, Verdict::Pass);
        let second = points[1].reference.as_ref().unwrap();
        assert_eq!((second.readings, second.pen_minus_gauge_um), (1, -30.0));
        assert_eq!(second.gauge_verdict, Verdict::Marginal);
        assert!(points[2].reference.is_none());
    }
}
