//! Property tests for the area correction: whatever the shape and UV
//! stretch, the texels' real areas add up to the mesh's real area.

use glam::{Vec2, Vec3};
use penlab_simulator::surface::{AreaTable, Mesh};
use proptest::prelude::*;

/// A parallelogram `o + a·s + b·t`, `s, t ∈ [0, 1]`, split into strips at
/// `breaks` along s, whose UV u runs through `u_at` (monotone, 0 → 1):
/// each strip has its own stretch.
fn patch(o: Vec3, a: Vec3, b: Vec3, breaks: &[f32], u_at: &[f32]) -> Mesh {
    let mut mesh = Mesh::default();
    let s: Vec<f32> = std::iter::once(0.0)
        .chain(breaks.iter().copied())
        .chain([1.0])
        .collect();
    let u: Vec<f32> = std::iter::once(0.0)
        .chain(u_at.iter().copied())
        .chain([1.0])
        .collect();
    for (si, ui) in s.iter().zip(&u) {
        for t in [0.0f32, 1.0] {
            mesh.positions.push(o + a * *si + b * t);
            mesh.uvs.push(Vec2::new(*ui, t));
        }
    }
    for k in 0..s.len() as u32 - 1 {
        let (p, q) = (2 * k, 2 * k + 2);
        mesh.triangles.push([p, q, q + 1]);
        mesh.triangles.push([p, q + 1, p + 1]);
        mesh.triangle_zones.extend([0, 0]);
    }
    mesh
}

fn vec3(range: f32) -> impl Strategy<Value = Vec3> {
    (-range..range, -range..range, -range..range).prop_map(|(x, y, z)| Vec3::new(x, y, z))
}

/// Sorted distinct values in (0.05, 0.95), at least 0.02 apart.
fn cuts(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(0.05f32..0.95, n).prop_map(|mut v| {
        v.sort_by(f32::total_cmp);
        let mut out: Vec<f32> = Vec::new();
        for x in v {
            if out.last().is_none_or(|&l| x - l > 0.02) {
                out.push(x);
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// One affine patch: every texel stands for the same real area, and they
    /// add up to |a × b|.
    #[test]
    fn affine_patch_texels_share_its_area_evenly(
        o in vec3(100.0),
        a in vec3(150.0),
        b in vec3(150.0),
        grid in 8u32..160,
    ) {
        let area_mm2 = a.cross(b).length();
        prop_assume!(area_mm2 > 0.05 * a.length() * b.length() && a.length() > 2.0 && b.length() > 2.0);
        let mesh = patch(o, a, b, &[], &[]);
        let table = AreaTable::build(&mesh, grid, grid);
        let total = table.total_area_cm2();
        let expected = f64::from(area_mm2) / 100.0;
        prop_assert!((total / expected - 1.0).abs() < 1e-4, "{total} vs {expected}");
        let per_texel = expected / f64::from(grid * grid);
        for &t in &table.area_cm2 {
            prop_assert!((f64::from(t) / per_texel - 1.0).abs() < 1e-3);
        }
    }

    /// Strips with different UV stretch: the total still matches, within the
    /// error of sampling stretch at texel centres — at most one texel column
    /// per break, weighted by the stretch jump there.
    #[test]
    fn stretched_uv_strips_keep_the_total_area(
        o in vec3(100.0),
        a in vec3(150.0),
        b in vec3(150.0),
        breaks in cuts(4),
        grid in 32u32..256,
        seed in any::<u64>(),
    ) {
        let area_mm2 = a.cross(b).length();
        prop_assume!(area_mm2 > 0.05 * a.length() * b.length() && a.length() > 2.0 && b.length() > 2.0);
        // A different monotone set of u cuts, one per break.
        let mut u_at: Vec<f32> = breaks
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let jitter = (((seed >> (8 * (i % 8))) & 0xff) as f32 / 255.0 - 0.5) * 0.04;
                (s + jitter).clamp(0.03, 0.97)
            })
            .collect();
        u_at.sort_by(f32::total_cmp);
        prop_assume!(u_at.windows(2).all(|w| w[1] - w[0] > 0.005));
        let mesh = patch(o, a, b, &breaks, &u_at);
        let table = AreaTable::build(&mesh, grid, grid);
        let expected = f64::from(area_mm2) / 100.0;
        // Stretch of each strip: real share / UV share.
        let s: Vec<f64> = std::iter::once(0.0).chain(breaks.iter().map(|&x| f64::from(x))).chain([1.0]).collect();
        let u: Vec<f64> = std::iter::once(0.0).chain(u_at.iter().map(|&x| f64::from(x))).chain([1.0]).collect();
        let stretch: Vec<f64> = (0..s.len() - 1).map(|k| (s[k + 1] - s[k]) / (u[k + 1] - u[k])).collect();
        let bound: f64 = stretch.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / f64::from(grid) * expected;
        let total = table.total_area_cm2();
        prop_assert!((total - expected).abs() <= bound + 1e-4 * expected, "{total} vs {expected} ± {bound}");
    }
}

mod density {
    use std::sync::Arc;

    use glam::{Vec2, Vec3};
    use penlab_simulator::pose::{Pose, orientation_facing};
    use penlab_simulator::session::{Session, StrikeSource};
    use penlab_simulator::surface::{Surface, Zone};
    use penlab_simulator::tool::ToolProfiles;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Punctures spread evenly over real skin read as the same density in
        /// every strip, however differently each strip is stretched in UV.
        #[test]
        fn even_punctures_read_as_even_density_whatever_the_uv_stretch(
            a_len in 20.0f32..150.0,
            b_len in 20.0f32..150.0,
            s_breaks in super::cuts(3),
            u_breaks in super::cuts(3),
        ) {
            prop_assume!(s_breaks.len() == u_breaks.len() && !s_breaks.is_empty());
            const GRID: u32 = 128;
            // Strip edges on texel edges, so each texel belongs to one strip.
            let u_at: Vec<f32> = u_breaks.iter().map(|u| (u * GRID as f32).round() / GRID as f32).collect();
            prop_assume!(u_at.windows(2).all(|w| w[1] > w[0]) && u_at[0] > 0.0 && *u_at.last().unwrap() < 1.0);
            let (a, b) = (Vec3::new(a_len, 0.0, 0.0), Vec3::new(0.0, b_len, 0.0));
            let mesh = super::patch(Vec3::ZERO, a, b, &s_breaks, &u_at);
            let zone = Zone { name: "patch".into(), max_depth_mm: None };
            let surface = Arc::new(Surface::new("patch", mesh, vec![zone], GRID).unwrap());
            let profiles = ToolProfiles::parse("t.toml", "[[tool_profile]]\nname = \"one\"\nkind = \"pen\"\ncenter = true\n").unwrap();
            let tool = Arc::new(profiles.tool("one").unwrap());
            let mut session = Session::new(surface.clone(), tool, StrikeSource::Events, 4);
            const M: u32 = 300;
            for i in 0..M {
                for j in 0..M {
                    let st = Vec2::new((i as f32 + 0.5) / M as f32, (j as f32 + 0.5) / M as f32);
                    session.strike_at(&Pose {
                        t: 0.0,
                        position: a * st.x + b * st.y,
                        orientation: orientation_facing(Vec3::Z, Vec3::Y),
                        force_n: 2.0,
                        depth_mm: 0.5,
                    });
                }
            }
            prop_assert_eq!(session.grid().total(), u64::from(M * M));
            let expected = f64::from(M * M) / (f64::from(a_len * b_len) / 100.0);
            let s: Vec<f64> = std::iter::once(0.0).chain(s_breaks.iter().map(|&x| f64::from(x))).chain([1.0]).collect();
            let u: Vec<f32> = std::iter::once(0.0).chain(u_at.iter().copied()).chain([1.0]).collect();
            for k in 0..u.len() - 1 {
                let (x0, x1) = ((u[k] * GRID as f32).round() as usize, (u[k + 1] * GRID as f32).round() as usize);
                let (mut n, mut area) = (0u64, 0.0f64);
                for y in 0..GRID as usize {
                    for x in x0..x1 {
                        let i = y * GRID as usize + x;
                        n += u64::from(session.grid().texels()[i].count);
                        area += f64::from(surface.area.area_cm2[i]);
                    }
                }
                // A strip edge can split one column of sample points: ±1/(M·Δs).
                let tolerance = 1.0 / (f64::from(M) * (s[k + 1] - s[k])) + 1e-3;
                let density = n as f64 / area;
                prop_assert!((density / expected - 1.0).abs() <= tolerance,
                    "strip {k}: {density} vs {expected} ± {tolerance}");
            }
        }
    }
}
