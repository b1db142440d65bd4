//! Arbitrary text as a scenario file (with every step kind, the test-only
//! one included): loading never panics, a mistake always names a place
//! inside the text, and a file that loads has tests with steps.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_harness::scenario::Suite;
use penlab_harness::steps::{FaultInjection, StepSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let steps = StepSet::with_fault_injection(Some(FaultInjection::PanicInStep));
    match Suite::parse_with(Path::new("fuzz.toml"), text, steps) {
        Ok(suite) => assert!(suite.tests.iter().all(|t| !t.steps.is_empty())),
        Err(e) => {
            let e = e.source_error().expect("parsing reads no file");
            assert!(e.span().end <= text.len());
            let _ = e.to_string();
        }
    }
});
