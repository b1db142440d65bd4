//! The study as CSV (a row per point, for a spreadsheet) and JSON (all of
//! it, for tools).

use std::fmt::Write as _;
use std::path::Path;

use super::Characterisation;

/// The CSV file's name.
pub const CSV: &str = "characterisation.csv";
/// The JSON file's name.
pub const JSON: &str = "characterisation.json";

/// The CSV header, one column per number of a point.
pub const CSV_HEADER: &str = "set_depth_um,set_rate_hz,strokes,depth_mean_um,depth_sd_um,depth_max_error_um,depth_verdict,rate_mean_hz,rate_sd_hz,rate_max_error_hz,rate_verdict,verdict,gauge_readings,gauge_mean_um,pen_minus_gauge_um,gauge_verdict";

/// A row per point; numbers to 3 decimals, empty where there is none.
pub fn csv(study: &Characterisation) -> String {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    let mut out = format!("{CSV_HEADER}\n");
    for p in &study.points {
        let gauge = p.reference.as_ref();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.set.depth_um,
            p.set.rate_hz(),
            p.strokes,
            num(p.depth.map(|d| d.mean)),
            num(p.depth.map(|d| d.sd)),
            num(p.depth.map(|d| d.max_error)),
            p.depth_verdict,
            num(p.rate.map(|r| r.mean)),
            num(p.rate.map(|r| r.sd)),
            num(p.rate.map(|r| r.max_error)),
            p.rate_verdict,
            p.verdict,
            gauge.map(|g| g.readings.to_string()).unwrap_or_default(),
            num(gauge.map(|g| g.gauge_mean_um)),
            num(gauge.map(|g| g.pen_minus_gauge_um)),
            gauge
                .map(|g| g.gauge_verdict.to_string())
                .unwrap_or_default(),
        );
    }
    out
}

/// Writes [`CSV`] and [`JSON`] into `dir`.
pub fn write(study: &Characterisation, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::write(dir.join(CSV), csv(study))?;
    let json = serde_json::to_string_pretty(study).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(JSON), json)?;
    Ok(vec![CSV.to_owned(), JSON.to_owned()])
}
