//! The JSON record of a run: the report (device, tests, measurements with
//! their limits, logs), its totals and the requirement traceability table.

use std::path::Path;

use super::RunReport;

impl RunReport {
    /// The JSON record: the report, its totals and the traceability table.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "totals".into(),
                serde_json::to_value(self.totals()).unwrap_or_default(),
            );
            map.insert(
                "traceability".into(),
                serde_json::to_value(self.traceability()).unwrap_or_default(),
            );
        }
        value
    }
}

/// The record of a bench: one run's record as it is, several as
/// `{ "runs": [...] }`.
pub fn bench_json(reports: &[RunReport]) -> serde_json::Value {
    match reports {
        [one] => one.to_json(),
        many => {
            serde_json::json!({ "runs": many.iter().map(RunReport::to_json).collect::<Vec<_>>() })
        }
    }
}

/// Writes [`bench_json`] to `path`, pretty-printed.
pub fn write(path: &Path, reports: &[RunReport]) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&bench_json(reports)).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
