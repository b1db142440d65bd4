//! Arbitrary text as a zones data file (`data/zones.toml`'s shape): parsing
//! never panics, a mistake names a place inside the text, and the limits
//! of a file that parses are usable depths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_simulator::Error;
use penlab_simulator::surfaces::ZoneLimits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ZoneLimits::parse("fuzz.toml", text) {
        Ok(limits) => {
            for name in limits.zones.keys() {
                let depth = limits.zone(name).max_depth_mm.expect("a zone of the file");
                assert!(depth.is_finite() && depth >= 0.0);
            }
        }
        Err(Error::Source(e)) => {
            assert!(e.span().end <= text.len());
            let _ = e.to_string();
        }
        Err(e) => panic!("a zones file's mistake has a place: {e}"),
    }
});
