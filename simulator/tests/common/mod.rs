//! What more than one of the simulator's test binaries runs.

use std::path::Path;

use penlab_simulator::script::Script;

/// A crosshatch over the pad with a 14-needle pen at 117 Hz, lines 3 mm
/// apart, at `speed` mm/s, with `extra` lines in the `settings` table
/// (and tables after it, such as `[zones.pad]`).
pub fn pad_crosshatch(speed: f32, extra: &str) -> Script {
    let text = format!(
        "[surface]\nbuiltin = \"flat-pad\"\ngrid = 256\n[tool]\nprofile = \"pen-14\"\n\
         [settings]\ndepth_mm = 0.5\nrate_hz = 117\n{extra}\n\
         [[pattern]]\nkind = \"crosshatch\"\narea = {{ u = [0.1, 0.9], v = [0.1, 0.9] }}\n\
         speed_mm_s = {speed}\nspacing_mm = 3.0\n"
    );
    Script::parse(Path::new("pad-crosshatch.toml"), &text).unwrap()
}
