//! Arbitrary text as a gauge reference file (`penlab characterise
//! --reference FILE.csv`): reading never panics, and every reading it
//! accepts is a whole depth with finite, non-negative values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_harness::characterise::reference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(readings) = reference::parse(text) {
        for r in readings {
            assert!(r.measured_um.is_finite() && r.measured_um >= 0.0, "{r:?}");
            assert!(r.rate_hz.is_none_or(|h| h.is_finite() && h >= 0.0), "{r:?}");
        }
    }
});
