//! Arbitrary text as a simulator script: parsing and building its surface
//! (the one `[surface]` names) and tool never panic; errors are values.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_simulator::script::Script;

/// Larger density grids only cost time per run; the code is the same.
const MAX_FUZZ_GRID: u32 = 256;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut script) = Script::parse(Path::new("fuzz.toml"), text) else {
        return;
    };
    let _ = script.zone_limits();
    let _ = script.tool();
    script.spec.surface.grid = script.spec.surface.grid.min(MAX_FUZZ_GRID);
    if let Ok(surface) = script.surface() {
        assert!(surface.area.total_area_cm2().is_finite());
    }
});
