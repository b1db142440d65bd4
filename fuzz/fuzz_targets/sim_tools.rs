//! Arbitrary text as a tools data file (`data/tools.toml`'s shape): parsing
//! never panics, a mistake names a place inside the text, and every profile
//! of a file that parses builds its tool.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_simulator::Error;
use penlab_simulator::tool::ToolProfiles;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ToolProfiles::parse("fuzz.toml", text) {
        Ok(profiles) => {
            for p in &profiles.profiles {
                let tool = profiles.tool(&p.name).expect("a checked profile builds");
                assert!(tool.needles_per_strike() > 0);
            }
        }
        Err(Error::Source(e)) => {
            assert!(e.span().end <= text.len());
            let _ = e.to_string();
        }
        Err(e) => panic!("a tools file's mistake has a place: {e}"),
    }
});
