//! Arbitrary text as a trainer's rubric: parsing never panics, errors are
//! values that render with their source line; a rubric that loads scores
//! an empty session's report without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_simulator::rubric::Rubric;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Rubric::parse("fuzz.toml", text) {
        Ok(rubric) => {
            let scores = rubric.score(&empty_report());
            assert!((0.0..=100.0).contains(&scores.total));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

fn empty_report() -> penlab_simulator::report::Report {
    use std::sync::Arc;

    use penlab_simulator::metrics::{MetricsConfig, analyse};
    use penlab_simulator::session::{Session, StrikeSource};
    use penlab_simulator::surfaces::{ZoneLimits, builtin};
    use penlab_simulator::tool::ToolProfiles;

    let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 16).unwrap());
    let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("pen-14").unwrap());
    let session = Session::new(pad, tool, StrikeSource::Events, 4);
    analyse(&session, &MetricsConfig::default()).unwrap().report
}
