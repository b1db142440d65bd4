//! Triangle meshes with UVs, the per-texel area table (the area correction)
//! and ray casting against the mesh.
//!
//! Lengths are millimetres throughout; areas in the table are cm².

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Zone id of texels and triangles that belong to no named zone.
pub const NO_ZONE: u16 = u16::MAX;

/// A named region of a surface, with its recommended maximum needle depth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    /// Name, e.g. `forehead`.
    pub name: String,
    /// Recommended maximum penetration depth in mm, if any.
    pub max_depth_mm: Option<f32>,
}

/// A triangle mesh in millimetres with one UV per vertex.
///
/// UVs must lie in `[0, 1]²` and not overlap (like a lightmap chart): each
/// point of real skin owns exactly one texel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mesh {
    /// Vertex positions, mm.
    pub positions: Vec<Vec3>,
    /// Vertex texture coordinates.
    pub uvs: Vec<Vec2>,
    /// Triangles as vertex indices.
    pub triangles: Vec<[u32; 3]>,
    /// Zone index of each triangle (into the surface's zones), or [`NO_ZONE`].
    pub triangle_zones: Vec<u16>,
}

impl Mesh {
    /// Checks indices, UV range and finiteness; `source` names the mesh in errors.
    pub fn validate(&self, source: &str) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(format!("mesh {source}: {m}")));
        if self.positions.len() != self.uvs.len() {
            return bad(format!(
                "{} positions but {} UVs: every vertex needs a UV",
                self.positions.len(),
                self.uvs.len()
            ));
        }
        if self.triangles.is_empty() {
            return bad("no triangles".into());
        }
        if self.triangle_zones.len() != self.triangles.len() {
            return bad("one zone id per triangle is required".into());
        }
        if let Some(i) = self.positions.iter().position(|p| !p.is_finite()) {
            return bad(format!("vertex {i} has a non-finite position"));
        }
        if let Some(i) = self.uvs.iter().position(|uv| {
            !uv.is_finite() || uv.min_element() < -1e-4 || uv.max_element() > 1.0 + 1e-4
        }) {
            return bad(format!(
                "vertex {i} has UV {:?} outside [0, 1]; the density map needs UVs in the unit square",
                self.uvs[i]
            ));
        }
        let n = self.positions.len() as u32;
        if let Some(t) = self
            .triangles
            .iter()
            .position(|t| t.iter().any(|&i| i >= n))
        {
            return bad(format!(
                "triangle {t} refers to a vertex that does not exist"
            ));
        }
        Ok(())
    }

    /// The real (3D) area of triangle `t` in mm².
    pub fn triangle_area_mm2(&self, t: usize) -> f32 {
        let [a, b, c] = self.corners(t);
        0.5 * (b - a).cross(c - a).length()
    }

    fn corners(&self, t: usize) -> [Vec3; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.positions[a as usize],
            self.positions[b as usize],
            self.positions[c as usize],
        ]
    }

    fn uv_corners(&self, t: usize) -> [Vec2; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.uvs[a as usize],
            self.uvs[b as usize],
            self.uvs[c as usize],
        ]
    }

    /// Area-weighted vertex normals. Vertices at the same position (a UV
    /// seam, an OBJ group border) share one normal, so the skin shades
    /// smoothly across seams.
    fn vertex_normals(&self) -> Vec<Vec3> {
        let mut welded: std::collections::HashMap<[u32; 3], usize> =
            std::collections::HashMap::with_capacity(self.positions.len());
        let slot: Vec<usize> = self
            .positions
            .iter()
            .map(|p| {
                let key = p.to_array().map(|c| (c + 0.0).to_bits());
                let next = welded.len();
                *welded.entry(key).or_insert(next)
            })
            .collect();
        let mut sums = vec![Vec3::ZERO; welded.len()];
        for (t, tri) in self.triangles.iter().enumerate() {
            let [a, b, c] = self.corners(t);
            let n = (b - a).cross(c - a);
            for &i in tri {
                sums[slot[i as usize]] += n;
            }
        }
        slot.iter()
            .map(|&s| sums[s].normalize_or(Vec3::Z))
            .collect()
    }
}

/// The density grid's view of the surface: for each texel of a `width` ×
/// `height` grid over UV space, the real skin area it stands for, its zone
/// and the triangle under its centre.
///
/// Texel `(x, y)` covers `u ∈ [x/w, (x+1)/w)`, `v ∈ [y/h, (y+1)/h)`; its
/// index is `y * width + x`. The real area of a texel is its UV area times
/// the stretch (3D area / UV area) of the triangle covering its centre, so
/// densities are per cm² of skin however the UV map is stretched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaTable {
    /// Texels across (u).
    pub width: u32,
    /// Texels down (v).
    pub height: u32,
    /// Real area per texel, cm²; 0 where no triangle covers the texel centre.
    pub area_cm2: Vec<f32>,
    /// Zone per texel, [`NO_ZONE`] where uncovered or zoneless.
    pub zone: Vec<u16>,
    /// Triangle under each texel centre, `u32::MAX` where uncovered.
    pub triangle: Vec<u32>,
}

impl AreaTable {
    /// Rasterises the mesh's UV triangles at texel centres.
    pub fn build(mesh: &Mesh, width: u32, height: u32) -> Self {
        let n = width as usize * height as usize;
        let mut table = Self {
            width,
            height,
            area_cm2: vec![0.0; n],
            zone: vec![NO_ZONE; n],
            triangle: vec![u32::MAX; n],
        };
        let texel_uv_area = 1.0 / (f64::from(width) * f64::from(height));
        for t in 0..mesh.triangles.len() {
            let [a, b, c] = mesh.uv_corners(t);
            let uv_area = f64::from((b - a).perp_dot(c - a)).abs() * 0.5;
            if uv_area < 1e-14 {
                continue;
            }
            let stretch = f64::from(mesh.triangle_area_mm2(t)) / uv_area;
            // mm² → cm².
            let texel_area = (texel_uv_area * stretch / 100.0) as f32;
            let lo = a.min(b).min(c);
            let hi = a.max(b).max(c);
            let x0 = ((lo.x * width as f32 - 0.5).floor().max(0.0)) as u32;
            let x1 = ((hi.x * width as f32 - 0.5).ceil().max(0.0) as u32).min(width - 1);
            let y0 = ((lo.y * height as f32 - 0.5).floor().max(0.0)) as u32;
            let y1 = ((hi.y * height as f32 - 0.5).ceil().max(0.0) as u32).min(height - 1);
            for y in y0..=y1 {
                let cy = (y as f32 + 0.5) / height as f32;
                for x in x0..=x1 {
                    let cx = (x as f32 + 0.5) / width as f32;
                    if barycentric_2d(Vec2::new(cx, cy), a, b, c).is_some() {
                        let i = (y * width + x) as usize;
                        // First triangle wins on shared edges: a texel is counted once.
                        if table.triangle[i] == u32::MAX {
                            table.area_cm2[i] = texel_area;
                            table.zone[i] = mesh.triangle_zones[t];
                            table.triangle[i] = t as u32;
                        }
                    }
                }
            }
        }
        table
    }

    /// The texel index for a UV, clamped to the grid.
    #[inline]
    pub fn texel_of(&self, uv: Vec2) -> u32 {
        let x = ((uv.x * self.width as f32) as i64).clamp(0, i64::from(self.width) - 1) as u32;
        let y = ((uv.y * self.height as f32) as i64).clamp(0, i64::from(self.height) - 1) as u32;
        y * self.width + x
    }

    /// Total real area of all covered texels, cm².
    pub fn total_area_cm2(&self) -> f64 {
        self.area_cm2.iter().map(|&a| f64::from(a)).sum()
    }
}

/// Barycentric weights of `p` in triangle `abc` if inside (edges included).
fn barycentric_2d(p: Vec2, a: Vec2, b: Vec2, c: Vec2) -> Option<Vec3> {
    let d = (b - a).perp_dot(c - a);
    if d.abs() < 1e-20 {
        return None;
    }
    let w1 = (p - a).perp_dot(c - a) / d;
    let w2 = (b - a).perp_dot(p - a) / d;
    let w0 = 1.0 - w1 - w2;
    const EPS: f32 = -1e-6;
    (w0 >= EPS && w1 >= EPS && w2 >= EPS).then_some(Vec3::new(w0, w1, w2))
}

/// Where a ray met the surface.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Distance along the (unit) ray direction, mm.
    pub t: f32,
    /// Triangle index.
    pub triangle: u32,
    /// Interpolated UV at the hit.
    pub uv: Vec2,
}

/// A point of the surface found from its UV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurfacePoint {
    /// Position, mm.
    pub position: Vec3,
    /// Unit outward normal (interpolated vertex normal).
    pub normal: Vec3,
}

/// A mesh ready for simulation: zones, ray casting, UV lookup and the area table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Surface {
    /// Display name (built-in name or file path).
    pub name: String,
    /// The mesh.
    pub mesh: Mesh,
    /// Named zones; triangles refer to them by index.
    pub zones: Vec<Zone>,
    /// Per-texel real area, zone and triangle.
    pub area: AreaTable,
    /// Mean length in mm of a unit step in u and in v (area-weighted over
    /// triangles): converts pattern spacings from mm to UV.
    pub mm_per_uv: Vec2,
    normals: Vec<Vec3>,
    bvh: Bvh,
}

impl Surface {
    /// Builds a surface from a validated mesh with a `grid` × `grid` area table.
    pub fn new(name: impl Into<String>, mesh: Mesh, zones: Vec<Zone>, grid: u32) -> Result<Self> {
        let name = name.into();
        mesh.validate(&name)?;
        if !(8..=4096).contains(&grid) {
            return Err(Error::Invalid(format!(
                "grid resolution {grid} is out of range 8..=4096"
            )));
        }
        if let Some(z) = mesh
            .triangle_zones
            .iter()
            .find(|&&z| z != NO_ZONE && usize::from(z) >= zones.len())
        {
            return Err(Error::Invalid(format!(
                "mesh {name}: zone index {z} but only {} zones",
                zones.len()
            )));
        }
        let area = AreaTable::build(&mesh, grid, grid);
        let normals = mesh.vertex_normals();
        let bvh = Bvh::build(&mesh);
        let mm_per_uv = mean_uv_scale(&mesh);
        Ok(Self {
            name,
            mesh,
            zones,
            area,
            mm_per_uv,
            normals,
            bvh,
        })
    }

    /// The zone index with this name.
    pub fn zone_index(&self, name: &str) -> Option<u16> {
        self.zones
            .iter()
            .position(|z| z.name == name)
            .map(|i| i as u16)
    }

    /// Nearest hit of the ray `origin + t·dir` (`dir` unit) with `t ∈ [0, t_max]`.
    pub fn raycast(&self, origin: Vec3, dir: Vec3, t_max: f32) -> Option<Hit> {
        self.bvh.raycast(&self.mesh, origin, dir, t_max)
    }

    /// Unit vertex normals, one per mesh vertex (for drawing the mesh).
    pub fn vertex_normals(&self) -> &[Vec3] {
        &self.normals
    }

    /// The surface point at a UV, if a triangle at its texel or a neighbour covers it.
    pub fn point_at_uv(&self, uv: Vec2) -> Option<SurfacePoint> {
        // The triangle under this texel's centre or a neighbour's usually
        // holds the UV; a sliver triangle may not own a nearby centre, so a
        // covered neighbourhood falls back to a search of the mesh. An
        // uncovered one is off the mesh: no search.
        let texel = self.area.texel_of(uv);
        let (w, h) = (self.area.width as i64, self.area.height as i64);
        let (x, y) = (i64::from(texel) % w, i64::from(texel) / w);
        let near: Vec<u32> = [
            (0, 0),
            (-1, 0),
            (1, 0),
            (0, -1),
            (0, 1),
            (-1, -1),
            (1, -1),
            (-1, 1),
            (1, 1),
        ]
        .into_iter()
        .filter_map(|(dx, dy)| {
            let (nx, ny) = (x + dx, y + dy);
            ((0..w).contains(&nx) && (0..h).contains(&ny))
                .then(|| self.area.triangle[(ny * w + nx) as usize])
                .filter(|&t| t != u32::MAX)
        })
        .collect();
        let fallback = if near.is_empty() {
            0
        } else {
            self.mesh.triangles.len()
        };
        let found = near
            .iter()
            .map(|&t| t as usize)
            .chain(0..fallback)
            .find_map(|t| {
                let [a, b, c] = self.mesh.uv_corners(t);
                barycentric_2d(uv, a, b, c).map(|bary| (t, bary))
            });
        let (t, w) = found?;
        let [ia, ib, ic] = self.mesh.triangles[t];
        let [pa, pb, pc] = self.mesh.corners(t);
        let position = pa * w.x + pb * w.y + pc * w.z;
        let normal = (self.normals[ia as usize] * w.x
            + self.normals[ib as usize] * w.y
            + self.normals[ic as usize] * w.z)
            .normalize_or(Vec3::Z);
        Some(SurfacePoint { position, normal })
    }

    /// The 3D position of a texel's centre, if covered.
    pub fn texel_position(&self, texel: u32) -> Option<Vec3> {
        let w = self.area.width;
        let uv = Vec2::new(
            ((texel % w) as f32 + 0.5) / w as f32,
            ((texel / w) as f32 + 0.5) / self.area.height as f32,
        );
        self.point_at_uv(uv).map(|p| p.position)
    }
}

/// Area-weighted mean |∂P/∂u| and |∂P/∂v| over the mesh.
fn mean_uv_scale(mesh: &Mesh) -> Vec2 {
    let mut sum = glam::DVec2::ZERO;
    let mut weight = 0.0f64;
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.corners(t);
        let [ua, ub, uc] = mesh.uv_corners(t);
        let (d1, d2) = (ub - ua, uc - ua);
        let det = d1.perp_dot(d2);
        if det.abs() < 1e-12 {
            continue;
        }
        let (e1, e2) = (b - a, c - a);
        // J = E · D⁻¹, columns are ∂P/∂u and ∂P/∂v.
        let dpdu = (e1 * d2.y - e2 * d1.y) / det;
        let dpdv = (e2 * d1.x - e1 * d2.x) / det;
        let area = f64::from(mesh.triangle_area_mm2(t));
        sum += glam::DVec2::new(f64::from(dpdu.length()), f64::from(dpdv.length())) * area;
        weight += area;
    }
    if weight > 0.0 {
        (sum / weight).as_vec2()
    } else {
        Vec2::ONE
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct BvhNode {
    min: Vec3,
    max: Vec3,
    /// Leaf: first index into `order`; inner: index of the left child.
    first: u32,
    /// Leaf: triangle count; inner: 0.
    count: u32,
}

/// A bounding volume hierarchy over the triangles, for needle rays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bvh {
    nodes: Vec<BvhNode>,
    order: Vec<u32>,
    /// Per triangle in `order`: first corner and the two edges from it,
    /// contiguous so a leaf's triangles share cache lines.
    tris: Vec<[Vec3; 3]>,
}

impl Bvh {
    fn build(mesh: &Mesh) -> Self {
        let n = mesh.triangles.len();
        let centroids: Vec<Vec3> = (0..n)
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                (a + b + c) / 3.0
            })
            .collect();
        let boxes: Vec<(Vec3, Vec3)> = (0..n)
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                (a.min(b).min(c), a.max(b).max(c))
            })
            .collect();
        let mut bvh = Self {
            nodes: Vec::with_capacity(n / 2 + 1),
            order: (0..n as u32).collect(),
            tris: Vec::new(),
        };
        bvh.nodes.push(BvhNode {
            min: Vec3::ZERO,
            max: Vec3::ZERO,
            first: 0,
            count: n as u32,
        });
        let mut stack = vec![0usize];
        while let Some(ni) = stack.pop() {
            let (first, count) = (bvh.nodes[ni].first as usize, bvh.nodes[ni].count as usize);
            let tris = &mut bvh.order[first..first + count];
            let (mut lo, mut hi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
            let (mut clo, mut chi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
            for &t in tris.iter() {
                for p in mesh.corners(t as usize) {
                    lo = lo.min(p);
                    hi = hi.max(p);
                }
                clo = clo.min(centroids[t as usize]);
                chi = chi.max(centroids[t as usize]);
            }
            bvh.nodes[ni].min = lo;
            bvh.nodes[ni].max = hi;
            if count <= 4 {
                continue;
            }
            let mid = match sah_split(tris, &centroids, &boxes, clo, chi) {
                Some(mid) => mid,
                None => {
                    // No useful split (all centroids in one bin): halve by count.
                    let extent = chi - clo;
                    let axis = extent.max_position();
                    let mid = count / 2;
                    tris.select_nth_unstable_by(mid, |&a, &b| {
                        centroids[a as usize][axis].total_cmp(&centroids[b as usize][axis])
                    });
                    mid
                }
            };
            let left = bvh.nodes.len();
            bvh.nodes.push(BvhNode {
                min: Vec3::ZERO,
                max: Vec3::ZERO,
                first: first as u32,
                count: mid as u32,
            });
            bvh.nodes.push(BvhNode {
                min: Vec3::ZERO,
                max: Vec3::ZERO,
                first: (first + mid) as u32,
                count: (count - mid) as u32,
            });
            bvh.nodes[ni].first = left as u32;
            bvh.nodes[ni].count = 0;
            stack.push(left);
            stack.push(left + 1);
        }
        bvh.tris = bvh
            .order
            .iter()
            .map(|&t| {
                let [a, b, c] = mesh.corners(t as usize);
                [a, b - a, c - a]
            })
            .collect();
        bvh
    }

    fn raycast(&self, mesh: &Mesh, origin: Vec3, dir: Vec3, t_max: f32) -> Option<Hit> {
        let inv = dir.recip();
        let mut limit = t_max;
        let mut best: Option<(f32, usize, f32, f32)> = None;
        // (node, where the ray enters its box): children are visited nearer
        // first, so the first hits shrink `limit` and cull the farther boxes.
        let mut stack = [(0u32, 0.0f32); 64];
        let mut sp = 0;
        if let Some(root) = self.nodes.first()
            && let Some(entry) = slab(origin, inv, root.min, root.max, limit)
        {
            stack[0] = (0, entry);
            sp = 1;
        }
        while sp > 0 {
            sp -= 1;
            let (index, entry) = stack[sp];
            if entry > limit {
                continue;
            }
            let node = &self.nodes[index as usize];
            if node.count > 0 {
                let range = node.first as usize..(node.first + node.count) as usize;
                for (k, tri) in self.tris[range.clone()].iter().enumerate() {
                    if let Some((d, w1, w2)) = intersect(origin, dir, tri[0], tri[1], tri[2])
                        && d >= 0.0
                        && d <= limit
                    {
                        limit = d;
                        best = Some((d, range.start + k, w1, w2));
                    }
                }
                continue;
            }
            let hit = |i: u32| {
                let n = &self.nodes[i as usize];
                slab(origin, inv, n.min, n.max, limit).map(|t| (i, t))
            };
            let (left, right) = (hit(node.first), hit(node.first + 1));
            let (near, far) = match (left, right) {
                (Some(l), Some(r)) if r.1 < l.1 => (Some(r), Some(l)),
                (Some(l), r) => (Some(l), r),
                (None, r) => (r, None),
            };
            for child in [far, near].into_iter().flatten() {
                if sp < stack.len() {
                    stack[sp] = child;
                    sp += 1;
                }
            }
        }
        let (t, slot, w1, w2) = best?;
        let triangle = self.order[slot];
        let [ua, ub, uc] = mesh.uv_corners(triangle as usize);
        Some(Hit {
            t,
            triangle,
            uv: ua * (1.0 - w1 - w2) + ub * w1 + uc * w2,
        })
    }
}

/// Half the surface area of a box (the SAH's measure of how often a ray meets it).
fn half_area(lo: Vec3, hi: Vec3) -> f32 {
    let e = (hi - lo).max(Vec3::ZERO);
    e.x * e.y + e.y * e.z + e.z * e.x
}

/// Splits `tris` by the surface area heuristic over 12 centroid bins per
/// axis, partitioning the slice in place; returns the size of the first part,
/// or `None` if no bin boundary separates any triangles.
fn sah_split(
    tris: &mut [u32],
    centroids: &[Vec3],
    boxes: &[(Vec3, Vec3)],
    clo: Vec3,
    chi: Vec3,
) -> Option<usize> {
    const BINS: usize = 12;
    let bin_of = |t: u32, axis: usize| {
        let (lo, hi) = (clo[axis], chi[axis]);
        (((centroids[t as usize][axis] - lo) / (hi - lo) * BINS as f32) as usize).min(BINS - 1)
    };
    let mut best: Option<(f32, usize, usize)> = None;
    for axis in 0..3 {
        if chi[axis] - clo[axis] < 1e-6 {
            continue;
        }
        let mut bins = [(Vec3::splat(f32::MAX), Vec3::splat(f32::MIN), 0u32); BINS];
        for &t in tris.iter() {
            let b = &mut bins[bin_of(t, axis)];
            let (lo, hi) = boxes[t as usize];
            *b = (b.0.min(lo), b.1.max(hi), b.2 + 1);
        }
        // Left parts' cost for each boundary, then sweep from the right.
        let mut left = [0.0f32; BINS];
        let (mut lo, mut hi, mut count) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN), 0u32);
        for i in 0..BINS - 1 {
            (lo, hi, count) = (lo.min(bins[i].0), hi.max(bins[i].1), count + bins[i].2);
            left[i + 1] = if count > 0 {
                half_area(lo, hi) * count as f32
            } else {
                0.0
            };
        }
        let (mut lo, mut hi, mut count) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN), 0u32);
        for i in (1..BINS).rev() {
            (lo, hi, count) = (lo.min(bins[i].0), hi.max(bins[i].1), count + bins[i].2);
            let left_count: u32 = bins[..i].iter().map(|b| b.2).sum();
            if count == 0 || left_count == 0 {
                continue;
            }
            let cost = left[i] + half_area(lo, hi) * count as f32;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, axis, i));
            }
        }
    }
    let (_, axis, boundary) = best?;
    // Partition in place: triangles in bins below the boundary first.
    let mut mid = 0;
    for k in 0..tris.len() {
        if bin_of(tris[k], axis) < boundary {
            tris.swap(k, mid);
            mid += 1;
        }
    }
    Some(mid)
}

/// Entry distance of the ray into the box, if it meets it before `t_max`.
#[inline]
fn slab(origin: Vec3, inv: Vec3, min: Vec3, max: Vec3, t_max: f32) -> Option<f32> {
    let t1 = (min - origin) * inv;
    let t2 = (max - origin) * inv;
    let tmin = t1.min(t2).max_element().max(0.0);
    let tmax = t1.max(t2).min_element().min(t_max);
    // NaN (a zero direction component on the slab plane) compares false: keep the node.
    if tmin <= tmax {
        Some(tmin)
    } else if tmin.is_nan() || tmax.is_nan() {
        Some(0.0)
    } else {
        None
    }
}

/// Möller–Trumbore, two-sided: (t, w1, w2).
#[inline]
fn intersect(origin: Vec3, dir: Vec3, a: Vec3, e1: Vec3, e2: Vec3) -> Option<(f32, f32, f32)> {
    let p = dir.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = origin - a;
    let w1 = s.dot(p) * inv;
    if !(-1e-6..=1.0 + 1e-6).contains(&w1) {
        return None;
    }
    let q = s.cross(e1);
    let w2 = dir.dot(q) * inv;
    if w2 < -1e-6 || w1 + w2 > 1.0 + 1e-6 {
        return None;
    }
    Some((e2.dot(q) * inv, w1, w2))
}
