//! Built-in procedural surfaces, the zone depth limits data file, and user
//! meshes from OBJ or glTF files.

use std::collections::BTreeMap;
use std::path::Path;

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, read_text};
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

    /// Parses a zones file; errors carry `file:line:column`.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let limits: Self =
            toml::from_str(text).map_err(|e| Error::toml(path.as_ref(), text, &e))?;
        for (name, limit) in &limits.zones {
            if !(limit.max_depth_mm.is_finite() && limit.max_depth_mm >= 0.0) {
                return Err(Error::Invalid(format!(
                    "{}: zone {name}: max_depth_mm must be a non-negative number",
                    path.as_ref().display()
                )));
            }
            if let Some([lo, hi]) = limit.typical_depth_mm
                && !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi)
            {
                return Err(Error::Invalid(format!(
                    "{}: zone {name}: typical_depth_mm must be [low, high] with 0 <= low <= high",
                    path.as_ref().display()
                )));
            }
        }
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
        "obj" => load_obj(path)?,
        "gltf" | "glb" => load_gltf(path)?,
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

fn load_obj(path: &Path) -> Result<(Mesh, Vec<String>)> {
    let text = read_text(path)?;
    let options = tobj::LoadOptions {
        single_index: true,
        triangulate: true,
        ignore_points: true,
        ignore_lines: true,
    };
    let loaded = tobj::load_obj_buf(&mut text.as_bytes(), &options, |_| Ok(Default::default()));
    let (models, _materials) = loaded.map_err(|e| match locate_obj_problem(&text) {
        Some((offset, message)) => Error::Parse {
            location: Location::from_offset(path, &text, offset),
            message,
        },
        None => Error::File {
            path: path.to_owned(),
            message: format!("OBJ: {e}"),
        },
    })?;
    let mut mesh = Mesh::default();
    let mut names = Vec::new();
    for model in models {
        let m = &model.mesh;
        if m.indices.is_empty() {
            continue;
        }
        if m.texcoords.len() / 2 != m.positions.len() / 3 {
            return Err(Error::File {
                path: path.to_owned(),
                message: format!(
                    "object {:?} has no texture coordinates (vt) on every vertex; the density map needs UVs",
                    model.name
                ),
            });
        }
        let zone = names.len() as u16;
        names.push(if model.name.is_empty() {
            "mesh".into()
        } else {
            model.name.clone()
        });
        let base = mesh.positions.len() as u32;
        mesh.positions.extend(
            m.positions
                .chunks_exact(3)
                .map(|p| Vec3::new(p[0], p[1], p[2])),
        );
        mesh.uvs
            .extend(m.texcoords.chunks_exact(2).map(|t| Vec2::new(t[0], t[1])));
        for tri in m.indices.chunks_exact(3) {
            mesh.triangles
                .push([base + tri[0], base + tri[1], base + tri[2]]);
            mesh.triangle_zones.push(zone);
        }
    }
    Ok((mesh, names))
}

/// Finds the first malformed `v`, `vt`, `vn` or `f` statement: (byte offset, message).
fn locate_obj_problem(text: &str) -> Option<(usize, String)> {
    let (mut nv, mut nt, mut nn) = (0i64, 0i64, 0i64);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.split('#').next().unwrap_or("");
        let mut words = body.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        let args: Vec<&str> = words.collect();
        let at = |word: &str| start + line.find(word).unwrap_or(0);
        let floats = |min: usize, max: usize, what: &str| -> Option<(usize, String)> {
            if args.len() < min || args.len() > max {
                return Some((
                    start,
                    format!("{what} needs {min} to {max} numbers, found {}", args.len()),
                ));
            }
            args.iter()
                .find(|a| a.parse::<f32>().is_err())
                .map(|a| (at(a), format!("{what}: {a:?} is not a number")))
        };
        match keyword {
            "v" => {
                if let Some(p) = floats(3, 7, "vertex position (v)") {
                    return Some(p);
                }
                nv += 1;
            }
            "vt" => {
                if let Some(p) = floats(1, 3, "texture coordinate (vt)") {
                    return Some(p);
                }
                nt += 1;
            }
            "vn" => {
                if let Some(p) = floats(3, 3, "normal (vn)") {
                    return Some(p);
                }
                nn += 1;
            }
            "f" => {
                if args.len() < 3 {
                    return Some((
                        start,
                        format!("face (f) needs at least 3 vertices, found {}", args.len()),
                    ));
                }
                for a in &args {
                    for (k, part) in a.split('/').enumerate() {
                        if part.is_empty() && k > 0 {
                            continue;
                        }
                        let count = [nv, nt, nn].get(k).copied().unwrap_or(0);
                        match part.parse::<i64>() {
                            Ok(i) if i != 0 && i.abs() <= count => {}
                            Ok(i) => {
                                let kind = ["vertex", "texture coordinate", "normal"]
                                    .get(k)
                                    .unwrap_or(&"index");
                                return Some((
                                    at(a),
                                    format!(
                                        "face refers to {kind} {i}, but only {count} are defined above"
                                    ),
                                ));
                            }
                            Err(_) => {
                                return Some((
                                    at(a),
                                    format!("face (f): {a:?} is not a vertex reference"),
                                ));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    None
}

fn load_gltf(path: &Path) -> Result<(Mesh, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file_err = |message: String| Error::File {
        path: path.to_owned(),
        message,
    };
    let gltf = gltf::Gltf::from_slice(&bytes).map_err(|e| file_err(format!("glTF: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut buffers = Vec::new();
    for buffer in gltf.buffers() {
        let data = match buffer.source() {
            gltf::buffer::Source::Bin => gltf.blob.clone().ok_or_else(|| {
                file_err("glTF buffer refers to a GLB binary chunk that is missing".into())
            })?,
            gltf::buffer::Source::Uri(uri) if uri.starts_with("data:") => {
                return Err(file_err(format!(
                    "glTF buffer {} is an embedded data: URI, which is not supported; export as .glb or with a separate .bin file",
                    buffer.index()
                )));
            }
            gltf::buffer::Source::Uri(uri) => {
                let p = dir.join(uri);
                std::fs::read(&p).map_err(|e| Error::io(p, e))?
            }
        };
        if data.len() < buffer.length() {
            return Err(file_err(format!(
                "glTF buffer {} holds {} bytes but declares {}",
                buffer.index(),
                data.len(),
                buffer.length()
            )));
        }
        buffers.push(data);
    }
    let mut mesh = Mesh::default();
    let mut names: Vec<String> = Vec::new();
    let mut stack: Vec<(gltf::Node, glam::Mat4)> =
        match gltf.default_scene().or_else(|| gltf.scenes().next()) {
            Some(scene) => scene.nodes().map(|n| (n, glam::Mat4::IDENTITY)).collect(),
            None => gltf.nodes().map(|n| (n, glam::Mat4::IDENTITY)).collect(),
        };
    while let Some((node, parent)) = stack.pop() {
        let world = parent * glam::Mat4::from_cols_array_2d(&node.transform().matrix());
        stack.extend(node.children().map(|c| (c, world)));
        let Some(gmesh) = node.mesh() else { continue };
        let name = gmesh
            .name()
            .or(node.name())
            .map_or_else(|| format!("mesh{}", gmesh.index()), str::to_owned);
        let zone = match names.iter().position(|n| *n == name) {
            Some(i) => i as u16,
            None => {
                names.push(name.clone());
                (names.len() - 1) as u16
            }
        };
        for prim in gmesh.primitives() {
            if prim.mode() != gltf::mesh::Mode::Triangles {
                continue;
            }
            let reader = prim.reader(|b| buffers.get(b.index()).map(Vec::as_slice));
            let positions: Vec<Vec3> = reader
                .read_positions()
                .ok_or_else(|| {
                    file_err(format!("mesh {name:?} has a primitive without positions"))
                })?
                .map(|p| world.transform_point3(Vec3::from(p)))
                .collect();
            let uvs: Vec<Vec2> = reader
                .read_tex_coords(0)
                .ok_or_else(|| {
                    file_err(format!(
                        "mesh {name:?} has no TEXCOORD_0; the density map needs UVs"
                    ))
                })?
                .into_f32()
                .map(Vec2::from)
                .collect();
            let base = mesh.positions.len() as u32;
            let count = positions.len() as u32;
            let indices: Vec<u32> = match reader.read_indices() {
                Some(i) => i.into_u32().collect(),
                None => (0..count).collect(),
            };
            mesh.positions.extend(positions);
            mesh.uvs.extend(uvs);
            for tri in indices.chunks_exact(3) {
                if tri.iter().any(|&i| i >= count) {
                    return Err(file_err(format!("mesh {name:?}: index out of range")));
                }
                mesh.triangles
                    .push([base + tri[0], base + tri[1], base + tri[2]]);
                mesh.triangle_zones.push(zone);
            }
        }
    }
    Ok((mesh, names))
}
