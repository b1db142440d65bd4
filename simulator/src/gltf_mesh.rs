//! User meshes from glTF 2.0 files (`.gltf` JSON or `.glb` binary, read by
//! the `gltf` crate). Mesh names become zones.
//!
//! A mistake the JSON shows is reported at its place: for `.gltf`,
//! `file:line:column`, the line and a caret (through `penlab-diagnostics`);
//! for `.glb`, whose JSON chunk sits in a binary file, the byte offset in the
//! file. Nodes must form trees: a node hierarchy with a cycle (or a node with
//! two parents) is refused before it is walked.

use std::ops::Range;
use std::path::Path;

use glam::{Mat4, Vec2, Vec3};
use penlab_diagnostics::SourceError;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::surface::Mesh;

/// Reads a glTF or GLB file, its external buffers relative to it.
pub fn load(path: &Path) -> Result<(Mesh, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(path, &bytes, |uri| {
        let p = dir.join(uri);
        std::fs::read(&p).map_err(|e| Error::io(p, e))
    })
}

/// Parses glTF or GLB `bytes` into a mesh and its zone names; `path` names
/// the file in errors and `external` reads a buffer given by URI.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    external: impl Fn(&str) -> Result<Vec<u8>>,
) -> Result<(Mesh, Vec<String>)> {
    let json = JsonText::of(path, bytes);
    check_glb_header(path, bytes)?;
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| json.gltf_error(&e))?;
    let roots = node_roots(&gltf, &json)?;
    let mut buffers = Vec::new();
    for buffer in gltf.buffers() {
        let at = format!("buffers[{}]", buffer.index());
        let data = match buffer.source() {
            gltf::buffer::Source::Bin => gltf.blob.clone().ok_or_else(|| {
                json.at_path(
                    &at,
                    "glTF buffer refers to a GLB binary chunk that is missing".into(),
                )
            })?,
            gltf::buffer::Source::Uri(uri) if uri.starts_with("data:") => {
                return Err(json.at_path(
                    &format!("{at}.uri"),
                    format!(
                        "glTF buffer {} is an embedded data: URI, which is not supported; export as .glb or with a separate .bin file",
                        buffer.index()
                    ),
                ));
            }
            gltf::buffer::Source::Uri(uri) => external(uri)?,
        };
        if data.len() < buffer.length() {
            return Err(json.at_path(
                &format!("{at}.byteLength"),
                format!(
                    "glTF buffer {} holds {} bytes but declares {}",
                    buffer.index(),
                    data.len(),
                    buffer.length()
                ),
            ));
        }
        buffers.push(data);
    }
    let mut mesh = Mesh::default();
    let mut names: Vec<String> = Vec::new();
    let mut stack: Vec<(gltf::Node, Mat4)> =
        roots.into_iter().map(|n| (n, Mat4::IDENTITY)).collect();
    // The hierarchy is a forest (checked above), so this ends.
    while let Some((node, parent)) = stack.pop() {
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        stack.extend(node.children().map(|c| (c, world)));
        let Some(gmesh) = node.mesh() else { continue };
        let at = format!("meshes[{}]", gmesh.index());
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
            let at = format!("{at}.primitives[{}]", prim.index());
            let reader = prim.reader(|b| buffers.get(b.index()).map(Vec::as_slice));
            let positions: Vec<Vec3> = reader
                .read_positions()
                .ok_or_else(|| {
                    json.at_path(
                        &at,
                        format!("mesh {name:?} has a primitive without positions"),
                    )
                })?
                .map(|p| world.transform_point3(Vec3::from(p)))
                .collect();
            let uvs: Vec<Vec2> = reader
                .read_tex_coords(0)
                .ok_or_else(|| {
                    json.at_path(
                        &format!("{at}.attributes"),
                        format!("mesh {name:?} has no TEXCOORD_0; the density map needs UVs"),
                    )
                })?
                .into_f32()
                .map(Vec2::from)
                .collect();
            if uvs.len() != positions.len() {
                return Err(json.at_path(
                    &format!("{at}.attributes"),
                    format!(
                        "mesh {name:?} has {} positions but {} TEXCOORD_0 values",
                        positions.len(),
                        uvs.len()
                    ),
                ));
            }
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
                    return Err(json.at_path(
                        &format!("{at}.indices"),
                        format!("mesh {name:?}: index out of range"),
                    ));
                }
                mesh.triangles
                    .push([base + tri[0], base + tri[1], base + tri[2]]);
                mesh.triangle_zones.push(zone);
            }
        }
    }
    Ok((mesh, names))
}

/// Refuses a GLB header whose total length is shorter than the header
/// itself, which `gltf` 1.4 subtracts from without checking (a panic in
/// builds with overflow checks).
fn check_glb_header(path: &Path, bytes: &[u8]) -> Result<()> {
    let Some(length) = bytes
        .strip_prefix(b"glTF")
        .and_then(|rest| rest.get(4..8))
        .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]))
    else {
        return Ok(());
    };
    if (length as usize) < GLB_JSON_START {
        return Err(Error::File {
            path: path.to_owned(),
            message: format!(
                "byte 8: the GLB header declares a length of {length} bytes, less than its own header and JSON chunk header ({GLB_JSON_START} bytes)"
            ),
        });
    }
    Ok(())
}

/// The nodes to walk from (the default scene's, else those without a
/// parent), after checking that the nodes form trees: each node has at most
/// one parent and no chain of parents comes back to where it started.
fn node_roots<'a>(gltf: &'a gltf::Gltf, json: &JsonText<'_>) -> Result<Vec<gltf::Node<'a>>> {
    let count = gltf.nodes().len();
    let mut parent: Vec<Option<usize>> = vec![None; count];
    for node in gltf.nodes() {
        for child in node.children() {
            let (p, c) = (node.index(), child.index());
            let at = format!("nodes[{p}].children");
            if c == p {
                return Err(json.at_path(
                    &at,
                    format!("node {p} lists itself as a child; glTF nodes must form trees"),
                ));
            }
            if let Some(other) = parent[c] {
                return Err(json.at_path(
                    &at,
                    format!(
                        "node {c} is a child of both node {other} and node {p}; glTF nodes must form trees"
                    ),
                ));
            }
            parent[c] = Some(p);
        }
    }
    // Follow each node's parents once: `walk[n]` is the walk that first
    // reached `n`. Coming back to a node of the current walk is a cycle;
    // reaching an earlier walk's node, a chain already known to end.
    let mut walk = vec![usize::MAX; count];
    for start in 0..count {
        let mut n = start;
        loop {
            if walk[n] == start {
                return Err(json.at_path(
                    &format!("nodes[{n}].children"),
                    format!("nodes form a cycle through node {n}; glTF nodes must form trees"),
                ));
            }
            if walk[n] != usize::MAX {
                break;
            }
            walk[n] = start;
            match parent[n] {
                Some(p) => n = p,
                None => break,
            }
        }
    }
    Ok(
        match gltf.default_scene().or_else(|| gltf.scenes().next()) {
            Some(scene) => scene.nodes().collect(),
            None => gltf
                .nodes()
                .filter(|n| parent[n.index()].is_none())
                .collect(),
        },
    )
}

/// The JSON of a glTF file, to say where a mistake is.
struct JsonText<'a> {
    path: &'a Path,
    /// The JSON text, when it is UTF-8.
    text: Option<&'a str>,
    /// Whether the file is a GLB (binary), whose JSON starts at byte 20.
    binary: bool,
}

/// Where a GLB's JSON chunk starts: the 12-byte header, then the chunk's
/// length and type.
const GLB_JSON_START: usize = 20;

impl<'a> JsonText<'a> {
    fn of(path: &'a Path, bytes: &'a [u8]) -> Self {
        if bytes.starts_with(b"glTF") {
            let text = bytes
                .get(12..GLB_JSON_START)
                .filter(|chunk| &chunk[4..8] == b"JSON")
                .and_then(|chunk| {
                    let len = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                    bytes.get(GLB_JSON_START..GLB_JSON_START.checked_add(len as usize)?)
                })
                .and_then(|json| std::str::from_utf8(json).ok());
            JsonText {
                path,
                text,
                binary: true,
            }
        } else {
            JsonText {
                path,
                text: std::str::from_utf8(bytes).ok(),
                binary: false,
            }
        }
    }

    /// A mistake at the JSON bytes `span`, or in the file as a whole.
    fn at(&self, span: Option<Range<usize>>, message: String) -> Error {
        match (self.text, span) {
            (Some(text), Some(span)) if !self.binary => Error::at(self.path, text, span, message),
            (Some(_), Some(span)) => Error::File {
                path: self.path.to_owned(),
                message: format!(
                    "byte {} (in the JSON chunk): {message}",
                    GLB_JSON_START + span.start
                ),
            },
            _ => Error::File {
                path: self.path.to_owned(),
                message,
            },
        }
    }

    /// A mistake at the JSON value at `path` (`meshes[0].primitives[1]`,
    /// as `gltf` names places), or at the nearest enclosing value found.
    fn at_path(&self, path: &str, message: String) -> Error {
        self.at(self.text.and_then(|t| json_span(t, path)), message)
    }

    fn gltf_error(&self, error: &gltf::Error) -> Error {
        match error {
            gltf::Error::Deserialize(e) if e.line() > 0 => {
                let span = self.text.map(|text| {
                    SourceError::at_line_column(self.path, text, e.line(), e.column(), "").span()
                });
                self.at(span, format!("glTF: {e}"))
            }
            gltf::Error::Validation(errors) if !errors.is_empty() => {
                let (place, problem) = &errors[0];
                self.at_path(place.as_str(), format!("glTF: {place}: {problem}"))
            }
            other => self.at(None, format!("glTF: {other}")),
        }
    }
}

/// The bytes of the value at `path` (`gltf`'s names: `nodes[2].children`,
/// `attributes["POSITION"]`, maybe followed by ` = value`) in JSON `text`;
/// the nearest enclosing value when part of the path is missing. The spans
/// come from `serde_json`'s raw values, which borrow the text.
fn json_span(text: &str, path: &str) -> Option<Range<usize>> {
    let path = path.split(" = ").next().unwrap_or(path);
    let mut value: &RawValue = serde_json::from_str(text).ok()?;
    for segment in path_segments(path) {
        let next = match segment {
            Segment::Key(key) => {
                serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(value.get())
                    .ok()
                    .and_then(|map| map.get(key).copied())
            }
            Segment::Index(i) => serde_json::from_str::<Vec<&RawValue>>(value.get())
                .ok()
                .and_then(|items| items.get(i).copied()),
        };
        match next {
            Some(next) => value = next,
            None => break,
        }
    }
    // `RawValue` slices point into `text`.
    let start = (value.get().as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    Some(start..start + value.get().len())
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[3]["c"]` → `a`, `b`, 3, `c`.
fn path_segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").unwrap_or(r.len());
            out.push(Segment::Key(&r[..end]));
            rest = r.get(end + 2..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            match r[..end].parse() {
                Ok(i) => out.push(Segment::Index(i)),
                Err(_) => break,
            }
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Key(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glb_shorter_than_its_header_is_refused_not_a_panic() {
        // Found by the sim_gltf fuzz target.
        let bytes = b"glTF\x04i\x0c\0\0\0\0\0\0\0\0\0\x0c";
        let err = parse(Path::new("x.glb"), bytes, |_| unreachable!()).unwrap_err();
        assert!(
            err.to_string().starts_with("x.glb: byte 8: the GLB header"),
            "{err}"
        );
    }

    #[test]
    fn json_paths_find_their_values() {
        let text = "{\"nodes\": [{\"mesh\": 0}, {\"children\": [0, 1]}],\n \"a\": {\"b c\": 7}}";
        let at = |p: &str| &text[json_span(text, p).unwrap()];
        assert_eq!(at("nodes[1].children"), "[0, 1]");
        assert_eq!(at("a[\"b c\"]"), "7");
        assert_eq!(at("nodes[0].mesh = 3"), "0");
        // A missing part: the nearest value that is there.
        assert_eq!(
            at("nodes[7].mesh"),
            "[{\"mesh\": 0}, {\"children\": [0, 1]}]"
        );
    }
}
