//! Arbitrary bytes as a glTF or GLB mesh (external buffers refused): parsing
//! and building the surface never panic or hang, node cycles included.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_simulator::Error;
use penlab_simulator::surface::{Surface, Zone};

fuzz_target!(|data: &[u8]| {
    // Both names: `.glb` reports byte offsets, `.gltf` lines and columns.
    let path = Path::new(if data.starts_with(b"glTF") {
        "fuzz.glb"
    } else {
        "fuzz.gltf"
    });
    let no_files = |uri: &str| Err(Error::Invalid(format!("fuzzing reads no file ({uri:?})")));
    match penlab_simulator::gltf_mesh::parse(path, data, no_files) {
        Ok((mesh, names)) => {
            let zones = names
                .iter()
                .map(|n| Zone {
                    name: n.clone(),
                    max_depth_mm: None,
                })
                .collect();
            let _ = Surface::new("fuzz", mesh, zones, 16);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
