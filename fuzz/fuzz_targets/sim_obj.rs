//! Arbitrary text as an OBJ mesh: parsing and building the surface never
//! panic or hang; a mistake names a place inside the text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_simulator::Error;
use penlab_simulator::surface::{Surface, Zone};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match penlab_simulator::obj::parse(Path::new("fuzz.obj"), text) {
        Ok((mesh, names)) => {
            let zones = names
                .iter()
                .map(|n| Zone {
                    name: n.clone(),
                    max_depth_mm: None,
                })
                .collect();
            let _ = Surface::new("fuzz.obj", mesh, zones, 16);
        }
        Err(Error::Source(e)) => {
            assert!(e.span().end <= text.len());
            let _ = e.to_string();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
