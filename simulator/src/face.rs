//! The built-in head and neck: a geometry image (`data/face/`) built from
//! MediaPipe's canonical face model by `tools/face/build_face.py`.
//!
//! A geometry image is a grid mesh stored as pictures: `face-geometry.png`
//! (16-bit RGB) holds one vertex per pixel, its position quantised to the
//! bounds in `face.toml`; `face-zones.png` (8-bit grey) holds the zone index
//! of each grid cell. Pixel column `i`, row `j` counted from the bottom of the
//! image is the vertex with UV `(i / columns, j / rows)`, so the UV map is the
//! grid itself: it covers `[0, 1]²` and no two cells overlap. Row 0 is the base
//! of the neck, the last row the crown (one point), and the last column repeats
//! the first (the seam at the back of the head).

use std::sync::OnceLock;

use glam::{Vec2, Vec3};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::surface::{Mesh, NO_ZONE};

const FACE_TOML: &str = include_str!("../data/face/face.toml");
const FACE_GEOMETRY: &[u8] = include_bytes!("../data/face/face-geometry.png");
const FACE_ZONES: &[u8] = include_bytes!("../data/face/face-zones.png");

/// `face.toml`: the geometry image's header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    columns: u32,
    rows: u32,
    geometry: String,
    zone_map: String,
    min_mm: [f32; 3],
    max_mm: [f32; 3],
    zones: Vec<String>,
    #[allow(dead_code)]
    source: String,
}

/// The built-in head and neck and its zone names (index order), decoded once.
pub fn head_mesh() -> Result<&'static (Mesh, Vec<String>)> {
    static HEAD: OnceLock<std::result::Result<(Mesh, Vec<String>), String>> = OnceLock::new();
    HEAD.get_or_init(|| decode(FACE_TOML, FACE_GEOMETRY, FACE_ZONES).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|m| Error::Invalid(format!("built-in face: {m}")))
}

/// Decodes a geometry image from its header and two PNGs.
pub fn decode(header: &str, geometry_png: &[u8], zones_png: &[u8]) -> Result<(Mesh, Vec<String>)> {
    let bad = |m: String| Error::Invalid(format!("geometry image: {m}"));
    let h: Header =
        toml::from_str(header).map_err(|e| Error::toml("data/face/face.toml", header, &e))?;
    if h.format != "penlab-geometry-image" || h.version != 1 {
        return Err(bad(format!(
            "unsupported format {:?} version {}",
            h.format, h.version
        )));
    }
    if h.columns == 0 || h.rows == 0 || h.zones.len() >= usize::from(NO_ZONE) {
        return Err(bad("empty grid or too many zones".into()));
    }
    let geometry = image::load_from_memory_with_format(geometry_png, image::ImageFormat::Png)
        .map_err(|e| bad(format!("{}: {e}", h.geometry)))?;
    let image::DynamicImage::ImageRgb16(geometry) = geometry else {
        return Err(bad(format!("{} must be 16-bit RGB", h.geometry)));
    };
    let zone_map = image::load_from_memory_with_format(zones_png, image::ImageFormat::Png)
        .map_err(|e| bad(format!("{}: {e}", h.zone_map)))?;
    let image::DynamicImage::ImageLuma8(zone_map) = zone_map else {
        return Err(bad(format!("{} must be 8-bit grey", h.zone_map)));
    };
    let (nc, nr) = (h.columns, h.rows);
    if geometry.dimensions() != (nc + 1, nr + 1) || zone_map.dimensions() != (nc, nr) {
        return Err(bad(format!(
            "{} is {:?} and {} is {:?}; a {nc} × {nr} grid needs {:?} and {:?}",
            h.geometry,
            geometry.dimensions(),
            h.zone_map,
            zone_map.dimensions(),
            (nc + 1, nr + 1),
            (nc, nr)
        )));
    }
    let lo = Vec3::from(h.min_mm);
    let span = (Vec3::from(h.max_mm) - lo) / f32::from(u16::MAX);
    let mut mesh = Mesh::default();
    for j in 0..=nr {
        // Image row 0 is the top of the picture: the crown, v = 1.
        let row = nr - j;
        for i in 0..=nc {
            let [x, y, z] = geometry.get_pixel(i, row).0;
            mesh.positions
                .push(lo + Vec3::new(f32::from(x), f32::from(y), f32::from(z)) * span);
            mesh.uvs
                .push(Vec2::new(i as f32 / nc as f32, j as f32 / nr as f32));
        }
    }
    let index = |i: u32, j: u32| j * (nc + 1) + i;
    for j in 0..nr {
        for i in 0..nc {
            let zone = match zone_map.get_pixel(i, nr - 1 - j).0[0] {
                255 => NO_ZONE,
                z if usize::from(z) < h.zones.len() => u16::from(z),
                z => {
                    return Err(bad(format!(
                        "cell ({i}, {j}) has zone {z} of {}",
                        h.zones.len()
                    )));
                }
            };
            // Counter-clockwise seen from outside: u runs to the subject's
            // left over the front, v up.
            let (a, b, c, d) = (
                index(i, j),
                index(i + 1, j),
                index(i + 1, j + 1),
                index(i, j + 1),
            );
            for tri in [[a, b, c], [a, c, d]] {
                // The crown's row is one point: skip the triangles it collapses.
                let [p, q, r] = tri.map(|k| mesh.positions[k as usize]);
                if p != q && q != r && r != p {
                    mesh.triangles.push(tri);
                    mesh.triangle_zones.push(zone);
                }
            }
        }
    }
    Ok((mesh, h.zones))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_head_decodes() {
        let (mesh, zones) = head_mesh().unwrap();
        assert_eq!(mesh.positions.len(), 257 * 205);
        assert!(zones.iter().any(|z| z == "periorbital"));
        mesh.validate("face").unwrap();
    }

    #[test]
    fn bad_headers_and_images_are_refused() {
        let wrong = FACE_TOML.replace("penlab-geometry-image", "something-else");
        let err = decode(&wrong, FACE_GEOMETRY, FACE_ZONES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported format"), "{err}");
        let smaller = FACE_TOML.replace("columns = 256", "columns = 128");
        let err = decode(&smaller, FACE_GEOMETRY, FACE_ZONES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs"), "{err}");
        let err = decode(FACE_TOML, FACE_ZONES, FACE_ZONES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("16-bit RGB"), "{err}");
        let err = decode(FACE_TOML, b"not a png", FACE_ZONES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("face-geometry.png"), "{err}");
    }
}
