//! Arbitrary text as a simulator script: parsing and building its surface
//! and tool never panic; errors are values.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_simulator::script::Script;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(script) = Script::parse(Path::new("fuzz.toml"), text) else { return };
    let _ = script.zone_limits();
    let _ = script.tool();
});
