//! The built-in head and neck: closed where it should be, UVs that do not
//! overlap, every zone present with a plausible area, adult proportions, and
//! rays that find the skin.

use std::collections::HashMap;

use glam::{Vec2, Vec3};
use penlab_simulator::surface::{Mesh, Surface};
use penlab_simulator::surfaces::{self, ZoneLimits};

fn face() -> Surface {
    surfaces::builtin("face", &ZoneLimits::shipped().unwrap(), 512).unwrap()
}

/// Vertex ids welded by position (the seam and the crown repeat positions).
fn welded(mesh: &Mesh) -> Vec<usize> {
    let mut ids: HashMap<[u32; 3], usize> = HashMap::new();
    mesh.positions
        .iter()
        .map(|p| {
            let next = ids.len();
            *ids.entry(p.to_array().map(f32::to_bits)).or_insert(next)
        })
        .collect()
}

#[test]
fn closed_except_for_one_loop_at_the_base_of_the_neck() {
    let s = face();
    let id = welded(&s.mesh);
    let mut edges: HashMap<(usize, usize), u32> = HashMap::new();
    for t in &s.mesh.triangles {
        let v = t.map(|i| id[i as usize]);
        assert!(
            v[0] != v[1] && v[1] != v[2] && v[2] != v[0],
            "degenerate triangle"
        );
        for k in 0..3 {
            let (a, b) = (v[k], v[(k + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }
    assert!(
        edges.values().all(|&n| n <= 2),
        "an edge shared by more than two triangles"
    );
    let open: Vec<(usize, usize)> = edges
        .iter()
        .filter(|&(_, &n)| n == 1)
        .map(|(&e, _)| e)
        .collect();
    // Every open edge lies at the base of the neck (z = 0) and they form one loop.
    let pos: HashMap<usize, Vec3> = s
        .mesh
        .positions
        .iter()
        .zip(&id)
        .map(|(p, &i)| (i, *p))
        .collect();
    assert!(
        open.iter().all(|(a, b)| pos[a].z < 0.5 && pos[b].z < 0.5),
        "a hole above the neck base"
    );
    let mut degree: HashMap<usize, u32> = HashMap::new();
    for (a, b) in &open {
        *degree.entry(*a).or_default() += 1;
        *degree.entry(*b).or_default() += 1;
    }
    assert!(
        degree.values().all(|&d| d == 2),
        "the open boundary is not a simple loop"
    );
    assert_eq!(
        open.len(),
        degree.len(),
        "open edges do not close into one loop"
    );
    assert!(open.len() >= 64, "the neck's rim has {} edges", open.len());
}

#[test]
fn uvs_cover_the_unit_square_without_overlap() {
    let s = face();
    let m = &s.mesh;
    assert!(
        m.uvs
            .iter()
            .all(|uv| uv.min_element() >= 0.0 && uv.max_element() <= 1.0)
    );
    // Rasterise every triangle's UVs at the centres of a fine grid: no centre
    // may lie strictly inside two triangles.
    let n = 1024usize;
    let mut hits = vec![0u8; n * n];
    let mut uv_area = 0.0f64;
    for t in &m.triangles {
        let [a, b, c] = t.map(|i| m.uvs[i as usize]);
        let d = (b - a).perp_dot(c - a);
        uv_area += f64::from(d.abs()) / 2.0;
        let (lo, hi) = (a.min(b).min(c), a.max(b).max(c));
        let range = |l: f32, h: f32| {
            ((l * n as f32 - 0.5).floor().max(0.0) as usize)
                ..=((h * n as f32).ceil() as usize).min(n - 1)
        };
        for y in range(lo.y, hi.y) {
            for x in range(lo.x, hi.x) {
                let p = Vec2::new((x as f32 + 0.5) / n as f32, (y as f32 + 0.5) / n as f32);
                let w1 = (p - a).perp_dot(c - a) / d;
                let w2 = (b - a).perp_dot(p - a) / d;
                let inside = |w: f32| w > 1e-4;
                if inside(w1) && inside(w2) && inside(1.0 - w1 - w2) {
                    hits[y * n + x] += 1;
                }
            }
        }
    }
    let max = *hits.iter().max().unwrap();
    assert_eq!(max, 1, "a texel centre lies inside two triangles");
    // The triangles' UV areas add up to no more than the square: nothing overlaps.
    assert!(uv_area <= 1.0 + 1e-4, "UV area {uv_area}");
    assert!(uv_area > 0.99, "UV area {uv_area}: the map leaves gaps");
}

/// Real area per zone, cm², from the triangles.
fn zone_areas(s: &Surface) -> HashMap<String, f64> {
    let mut areas = HashMap::new();
    for (t, &z) in s.mesh.triangle_zones.iter().enumerate() {
        let name = s
            .zones
            .get(usize::from(z))
            .map_or("none", |z| z.name.as_str());
        *areas.entry(name.to_owned()).or_insert(0.0) +=
            f64::from(s.mesh.triangle_area_mm2(t)) / 100.0;
    }
    areas
}

#[test]
fn every_zone_is_present_with_a_plausible_area() {
    let s = face();
    let areas = zone_areas(&s);
    let mut names: Vec<_> = areas.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    eprintln!("zone areas (cm²): {names:?}");
    // Plausible adult areas, both sides together (cm²): a forehead of about
    // 12 × 6 cm, orbits of about 5 × 3.5 cm each, and so on; wide on purpose.
    let expected = [
        ("forehead", 35.0, 110.0),
        ("temples", 20.0, 110.0),
        ("periorbital", 8.0, 40.0),
        ("eyelids", 3.0, 15.0),
        ("nose", 12.0, 40.0),
        ("cheeks", 50.0, 200.0),
        ("perioral", 12.0, 45.0),
        ("lips", 4.0, 15.0),
        ("chin", 8.0, 35.0),
        ("jawline", 20.0, 90.0),
        ("neck", 250.0, 700.0),
        ("ears", 15.0, 80.0),
        ("scalp", 300.0, 900.0),
    ];
    for (zone, lo, hi) in expected {
        let a = areas.get(zone).copied().unwrap_or(0.0);
        assert!(
            (lo..=hi).contains(&a),
            "{zone}: {a:.1} cm², expected {lo} to {hi}"
        );
        assert!(
            s.zone_index(zone).is_some(),
            "{zone} is not a zone of the face"
        );
    }
    // Limits come from data/zones.toml: the eyelids are a no-go, the
    // periorbital zone shallow.
    let limit = |z: &str| s.zones[usize::from(s.zone_index(z).unwrap())].max_depth_mm;
    assert_eq!(limit("eyelids"), Some(0.0));
    assert!(limit("periorbital").unwrap() < limit("forehead").unwrap());
}

/// Area-weighted centroid of a zone's triangles on one side (sign of x).
fn centroid(s: &Surface, zone: &str, side: f32) -> Vec3 {
    let z = s.zone_index(zone).unwrap();
    let (mut sum, mut w) = (Vec3::ZERO, 0.0);
    for (t, tri) in s.mesh.triangles.iter().enumerate() {
        let c = tri
            .iter()
            .map(|&i| s.mesh.positions[i as usize])
            .sum::<Vec3>()
            / 3.0;
        if s.mesh.triangle_zones[t] == z && c.x * side > 0.0 {
            let a = s.mesh.triangle_area_mm2(t);
            sum += c * a;
            w += a;
        }
    }
    sum / w
}

fn zone_z_range(s: &Surface, zone: &str) -> (f32, f32) {
    let z = s.zone_index(zone).unwrap();
    let mut r = (f32::MAX, f32::MIN);
    for (t, tri) in s.mesh.triangles.iter().enumerate() {
        if s.mesh.triangle_zones[t] == z {
            for &i in tri {
                let p = s.mesh.positions[i as usize];
                r = (r.0.min(p.z), r.1.max(p.z));
            }
        }
    }
    r
}

#[test]
fn adult_proportions() {
    let s = face();
    // Inter-pupil distance: the centres of the two closed eyes. Adults
    // average about 63 mm (Dodgson 2004); 58 to 68 mm holds most.
    let ipd = (centroid(&s, "eyelids", 1.0) - centroid(&s, "eyelids", -1.0)).length();
    // Face height, chin (lowest point of the chin zone) to hairline (top of
    // the forehead zone): 180 to 200 mm in adults.
    let chin = zone_z_range(&s, "chin").0;
    let hairline = zone_z_range(&s, "forehead").1;
    // Head breadth (ear to ear above the ears) and length (brow to back).
    let (lo, hi) = s
        .mesh
        .positions
        .iter()
        .fold((Vec3::MAX, Vec3::MIN), |(l, h), p| (l.min(*p), h.max(*p)));
    let head_top = hi.z;
    let breadth = s
        .mesh
        .positions
        .iter()
        .filter(|p| (p.z - (hairline - 40.0)).abs() < 10.0)
        .fold((f32::MAX, f32::MIN), |(l, h), p| (l.min(p.x), h.max(p.x)));
    let breadth = breadth.1 - breadth.0;
    eprintln!(
        "ipd {ipd:.1} mm, face height {:.1} mm, head height {:.1} mm, breadth {breadth:.1} mm, bounds {lo} .. {hi}",
        hairline - chin,
        head_top - chin
    );
    assert!(
        (58.0..=68.0).contains(&ipd),
        "inter-pupil distance {ipd:.1} mm"
    );
    assert!(
        (180.0..=200.0).contains(&(hairline - chin)),
        "face height {:.1} mm",
        hairline - chin
    );
    assert!(
        (210.0..=250.0).contains(&(head_top - chin)),
        "head height {:.1} mm",
        head_top - chin
    );
    assert!(
        (140.0..=165.0).contains(&breadth),
        "head breadth {breadth:.1} mm"
    );
    // The eyes sit at about mid-height between chin and crown.
    let eyes = centroid(&s, "eyelids", 1.0).z;
    let t = (eyes - chin) / (head_top - chin);
    assert!(
        (0.4..=0.6).contains(&t),
        "eyes at {t:.2} of the head's height"
    );
}

#[test]
fn rays_along_the_normals_find_the_skin_where_it_is() {
    let s = face();
    let normals = s.vertex_normals();
    let centre = Vec3::new(0.0, 0.0, 250.0);
    let mut outward = 0;
    let mut checked = 0;
    for (i, (p, n)) in s.mesh.positions.iter().zip(normals).enumerate().step_by(37) {
        if p.z < 5.0 {
            continue;
        }
        checked += 1;
        if n.dot(*p - centre) > 0.0 || p.z < 150.0 {
            outward += 1;
        }
        // A needle 5 mm out along the normal, pointing in, meets the skin at the vertex.
        let hit = s.raycast(*p + *n * 5.0, -*n, 10.0);
        let hit = hit.unwrap_or_else(|| panic!("no hit at vertex {i} {p}"));
        assert!(
            (hit.t - 5.0).abs() < 0.6,
            "vertex {i} {p}: hit at {}",
            hit.t
        );
    }
    assert!(
        outward * 100 >= checked * 97,
        "normals point out at {outward} of {checked} vertices"
    );
    // A pen held in front of the face, pointing back, lands on the nose first.
    let tip = s
        .raycast(Vec3::new(0.0, 300.0, 210.0), Vec3::NEG_Y, 400.0)
        .unwrap();
    let zone = &s.zones[usize::from(s.mesh.triangle_zones[tip.triangle as usize])].name;
    assert_eq!(zone, "nose");
}
