//! User meshes from Wavefront OBJ files (by `tobj`); a malformed statement
//! is reported at its line and word.

use std::ops::Range;
use std::path::Path;

use glam::{Vec2, Vec3};

use crate::error::{Error, Result, read_text};
use crate::surface::Mesh;

/// Reads an OBJ file: its mesh and the names of its groups (the zones).
pub fn load(path: &Path) -> Result<(Mesh, Vec<String>)> {
    parse(path, &read_text(path)?)
}

/// Parses OBJ `text`; `path` names it in errors, which point at the line
/// and the word (`file:line:column`, the line and a caret).
pub fn parse(path: &Path, text: &str) -> Result<(Mesh, Vec<String>)> {
    let options = tobj::LoadOptions {
        single_index: true,
        triangulate: true,
        ignore_points: true,
        ignore_lines: true,
    };
    let loaded = tobj::load_obj_buf(&mut text.as_bytes(), &options, |_| Ok(Default::default()));
    let (models, _materials) = loaded.map_err(|e| match locate_problem(text) {
        Some((span, message)) => Error::at(path, text, span, message),
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

/// Finds the first malformed `v`, `vt`, `vn` or `f` statement: (the bytes
/// of the statement or of its bad word, message). `tobj` says what is wrong
/// but not where.
fn locate_problem(text: &str) -> Option<(Range<usize>, String)> {
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
        let whole = start..start + line.trim_end().len();
        let at = |word: &str| {
            let from = start + line.find(word).unwrap_or(0);
            from..from + word.len()
        };
        let floats = |min: usize, max: usize, what: &str| -> Option<(Range<usize>, String)> {
            if args.len() < min || args.len() > max {
                return Some((
                    whole.clone(),
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
                        whole,
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
