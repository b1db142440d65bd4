//! Built-in procedural surfaces, the zone depth limits data file, and user
//! meshes from OBJ or glTF files.

use std::collections::BTreeMap;
use std::path::Path;

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::face;
use crate::surface::{Mesh, Surface, Zone};

/// The shipped zone depth limits (`data/zones.toml`).
pub const ZONES_TOML: &str = include_str!("../data/zones.toml");

/// Names of the built-in surfaces.
pub const BUILTIN_SURFACES: [&str; 4] = ["flat-pad", "curved-pad", "forearm", "face"];

/// Flat pad side, mm.
pub const FLAT_PAD_SIDE_MM: f32 = 100.0;
/// Curved pad: cylinder radius, mm.
pub const CURVED_PAD_RADIUS_MM: f32 = 60.0;
/// Curved pad: arc angle, radians (a quarter of the cylinder).
pub const CURVED_PAD_ARC_RAD: f32 = std::f32::consts::FRAC_PI_2;
/// Curved pad: length along the cylinder axis, mm.
pub const CURVED_PAD_LENGTH_MM: f32 = 100.0;
/// Segments of the curved pad's arc (chord error is part of the area test).
pub const CURVED_PAD_SEGMENTS: u32 = 96;

/// One zone's entry in a zones data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneLimit {
    /// Recommended maximum penetration depth, mm; 0 makes the zone a no-go.
    pub max_depth_mm: f32,
    /// Usual working range, mm (guidance shown to trainers; not scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_depth_mm: Option<[f32; 2]>,
    /// Where the values come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl ZoneLimit {
    /// Checks the values TOML types alone cannot: `Err((key, message))`.
    fn check(&self) -> std::result::Result<(), (&'static str, &'static str)> {
        if !(self.max_depth_mm.is_finite() && self.max_depth_mm >= 0.0) {
            return Err(("max_depth_mm", "max_depth_mm must be a non-negative number"));
        }
        if let Some([lo, hi]) = self.typical_depth_mm
            && !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi)
        {
            return Err((
                "typical_depth_mm",
                "typical_depth_mm must be [low, high] with 0 <= low <= high",
            ));
        }
        Ok(())
    }
}

/// Checks `zones`, read from the table at `keys` of TOML `text` (a zones
/// file or a script's `[zones]`); a mistake is located at its entry.
pub fn check_zones(
    path: &Path,
    text: &str,
    keys: &[&str],
    zones: &BTreeMap<String, ZoneLimit>,
) -> Result<()> {
    for (name, limit) in zones {
        if let Err((key, m)) = limit.check() {
            let mut at = keys.to_vec();
            at.extend([name.as_str(), key]);
            return Err(Error::at_toml_keys(
                path,
                text,
                &at,
                format!("zone {name}: {m}"),
            ));
        }
    }
    Ok(())
}

/// A zones data file: zone name → limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneLimits {
    /// The limits by zone name.
    #[serde(default)]
    pub zones: BTreeMap<String, ZoneLimit>,
}

impl ZoneLimits {
    /// The shipped limits.
    pub fn shipped() -> Result<Self> {
        Self::parse("data/zones.toml", ZONES_TOML)
    }

    /// Parses and checks a zones file; errors carry `file:line:column`, the
    /// line and a caret.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let limits: Self =
            toml::from_str(text).map_err(|e| Error::toml(path.as_ref(), text, &e))?;
        check_zones(path.as_ref(), text, &["zones"], &limits.zones)?;
        Ok(limits)
    }

    /// Overrides entries with `other`'s.
    pub fn merge(&mut self, other: &Self) {
        for (k, v) in &other.zones {
            self.zones.insert(k.clone(), v.clone());
        }
    }

    /// A [`Zone`] named `name` with its limit, if the data has one.
    pub fn zone(&self, name: &str) -> Zone {
        Zone {
            name: name.to_owned(),
            max_depth_mm: self.zones.get(name).map(|z| z.max_depth_mm),
        }
    }
}

/// A regular grid mesh over UV `[0,1]²` from a parametric map; the normal is
/// `∂P/∂u × ∂P/∂v`.
fn param_mesh(
    nu: u32,
    nv: u32,
    f: impl Fn(f32, f32) -> Vec3,
    zone: impl Fn(f32, f32) -> u16,
) -> Mesh {
    let mut mesh = Mesh::default();
    for j in 0..=nv {
        for i in 0..=nu {
            let uv = Vec2::new(i as f32 / nu as f32, j as f32 / nv as f32);
            mesh.positions.push(f(uv.x, uv.y));
            mesh.uvs.push(uv);
        }
    }
    let idx = |i: u32, j: u32| j * (nu + 1) + i;
    for j in 0..nv {
        for i in 0..nu {
            let cu = (i as f32 + 0.5) / nu as f32;
            let cv = (j as f32 + 0.5) / nv as f32;
            let z = zone(cu, cv);
            mesh.triangles
                .push([idx(i, j), idx(i + 1, j), idx(i + 1, j + 1)]);
            mesh.triangles
                .push([idx(i, j), idx(i + 1, j + 1), idx(i, j + 1)]);
            mesh.triangle_zones.extend([z, z]);
        }
    }
    mesh
}

/// Flat pad, 100 × 100 mm in the z = 0 plane, normal +z, `x = 100·u`, `y = 100·v`.
pub fn flat_pad_mesh() -> Mesh {
    param_mesh(
        10,
        10,
        |u, v| Vec3::new(u, v, 0.0) * FLAT_PAD_SIDE_MM,
        |_, _| 0,
    )
}

/// Curved pad: a quarter cylinder of radius 60 mm and length 100 mm, axis
/// along y, crest at z = 0, normal outward (+z at the crest).
pub fn curved_pad_mesh() -> Mesh {
    param_mesh(
        CURVED_PAD_SEGMENTS,
        10,
        |u, v| {
            let phi = (u - 0.5) * CURVED_PAD_ARC_RAD;
            let r = CURVED_PAD_RADIUS_MM;
            Vec3::new(r * phi.sin(), v * CURVED_PAD_LENGTH_MM, r * phi.cos() - r)
        },
        |_, _| 0,
    )
}

/// Forearm: a tapered cylinder along y, 250 mm long, radius 32 mm at the
/// wrist (v = 0) to 42 mm at the elbow (v = 1); u runs around it.
pub fn forearm_mesh() -> Mesh {
    param_mesh(
        128,
        40,
        |u, v| {
            let phi = u * std::f32::consts::TAU;
            let r = 32.0 + 10.0 * v;
            Vec3::new(r * phi.sin(), 250.0 * v, r * phi.cos())
        },
        |_, _| 0,
    )
}

/// The built-in head and neck (see [`crate::face`]): positions in mm,
/// facing +y, z up from the base of the neck, x to the subject's right; and
/// its zone names in index order.
pub fn face_mesh() -> Result<(Mesh, Vec<String>)> {
    face::head_mesh().cloned()
}

/// A built-in surface by name with a `grid` × `grid` density map.
pub fn builtin(name: &str, limits: &ZoneLimits, grid: u32) -> Result<Surface> {
    let (mesh, zones) = match name {
        "flat-pad" => (flat_pad_mesh(), vec![limits.zone("pad")]),
        "curved-pad" => (curved_pad_mesh(), vec![limits.zone("pad")]),
        "forearm" => (forearm_mesh(), vec![limits.zone("forearm")]),
        "face" => {
            let (mesh, names) = face_mesh()?;
            (mesh, names.iter().map(|z| limits.zone(z)).collect())
        }
        other => {
            return Err(Error::Invalid(format!(
                "unknown surface {other:?}; built-in surfaces are {}, or give a path to an .obj, .gltf or .glb file",
                BUILTIN_SURFACES.join(", ")
            )));
        }
    };
    Surface::new(name, mesh, zones, grid)
}

/// Length unit of a mesh file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Millimetres.
    Mm,
    /// Centimetres.
    Cm,
    /// Metres (glTF's unit).
    M,
}

impl Units {
    /// Millimetres per unit.
    pub fn to_mm(self) -> f32 {
        match self {
            Self::Mm => 1.0,
            Self::Cm => 10.0,
            Self::M => 1000.0,
        }
    }
}

/// Loads a user mesh (OBJ, glTF or GLB by extension). Groups (OBJ `o`/`g`,
/// glTF mesh names) become zones, with limits from `limits` by name.
/// `units` defaults to mm for OBJ and m for glTF.
pub fn load_mesh_file(
    path: &Path,
    units: Option<Units>,
    limits: &ZoneLimits,
    grid: u32,
) -> Result<Surface> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (mut mesh, names) = match ext.as_str() {
        "obj" => crate::obj::load(path)?,
        "gltf" | "glb" => crate::gltf_mesh::load(path)?,
        _ => {
            return Err(Error::File {
                path: path.to_owned(),
                message: "unknown mesh format: use .obj, .gltf or .glb".into(),
            });
        }
    };
    let scale = units
        .unwrap_or(if ext == "obj" { Units::Mm } else { Units::M })
        .to_mm();
    for p in &mut mesh.positions {
        *p *= scale;
    }
    let zones = names.iter().map(|n| limits.zone(n)).collect();
    Surface::new(path.display().to_string(), mesh, zones, grid).map_err(|e| match e {
        Error::Invalid(m) => Error::File {
            path: path.to_owned(),
            message: m,
        },
        other => other,
    })
}
