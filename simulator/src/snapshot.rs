//! A 3D snapshot of the surface for the trainee's report, drawn on the CPU:
//! the mesh projected orthographically from the side that was worked,
//! z-buffered, Lambert-shaded, each pixel coloured by the density class of
//! its texel (the 2D heatmap's colours) where needles went, and skin
//! elsewhere.

use glam::{Vec2, Vec3};

use crate::heatmap::class_colour;
use crate::metrics::Analysis;
use crate::session::Event;
use crate::surface::{Mesh, Surface};

/// Size of the snapshot, pixels.
pub const SIZE: (u32, u32) = (640, 480);
/// Untreated skin (RGB, before shading).
pub const SKIN: [u8; 3] = [236, 198, 172];
/// Behind the surface.
pub const BACKGROUND: [u8; 3] = [250, 250, 250];
const MARGIN_PX: f32 = 16.0;
const AMBIENT: f32 = 0.35;

/// Where a viewer first looks from, unit, in the engine's frame. An open
/// surface (a pad) is seen from the side its skin faces: the area-weighted
/// mean of its normals. A closed one has no such side: when the work is
/// known (`work`: the tool's mean axis where it touched, see
/// [`work_direction`]) it is seen from the side being worked, across its
/// long axis (an arm worked on its underside from below, a head worked
/// anywhere from in front or behind, never from the crown). Else, lying
/// down (an arm, longer than it is tall) it is seen from above, +z; upright
/// (a head, taller than wide or deep) from the front, which is the
/// engine's +y by convention (the built-in face and its build script: x to
/// the subject's right, y forward, z up). The view's first camera and the
/// report's snapshot both start here.
pub fn viewing_direction(mesh: &Mesh, work: Option<Vec3>) -> Vec3 {
    let (sum, area) = mesh
        .triangles
        .iter()
        .fold((Vec3::ZERO, 0.0f32), |(sum, area), t| {
            let [a, b, c] = t.map(|k| mesh.positions[k as usize]);
            let n = (b - a).cross(c - a);
            (sum + n, area + n.length())
        });
    // A watertight mesh's normals cancel; a head open at the neck nearly so.
    if area > 0.0 && sum.length() > 0.3 * area {
        return sum.normalize();
    }
    let (lo, hi) = bounds(mesh.positions.iter().copied());
    let size = hi - lo;
    let long_axis = if size.x >= size.y && size.x >= size.z {
        Vec3::X
    } else if size.y >= size.z {
        Vec3::Y
    } else {
        Vec3::Z
    };
    if let Some(across) = work.map(|w| w - w.dot(long_axis) * long_axis)
        && across.length() > 0.2
    {
        return across.normalize();
    }
    if long_axis == Vec3::Z {
        Vec3::Y
    } else {
        Vec3::Z
    }
}

/// The mean axis of the tool wherever it touches in `events` (skin
/// towards tool), when it touches at all.
pub fn work_direction(events: &[Event]) -> Option<Vec3> {
    let sum: Vec3 = events
        .iter()
        .filter_map(|e| match e {
            Event::Pose(p) if p.force_n > 0.0 => Some(p.axis()),
            _ => None,
        })
        .sum();
    sum.try_normalize()
}

fn bounds(points: impl Iterator<Item = Vec3>) -> (Vec3, Vec3) {
    points.fold(
        (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
        |(lo, hi), p| (lo.min(p), hi.max(p)),
    )
}

/// An orthographic camera looking along −`view`, fitted to a mesh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Towards the viewer, unit.
    pub view: Vec3,
    /// Screen right, unit.
    pub right: Vec3,
    /// Screen up, unit.
    pub up: Vec3,
    centre: Vec3,
    px_per_mm: f32,
}

impl Camera {
    /// The camera that shows all of `mesh` from `view` in [`SIZE`]; z is up
    /// on screen unless the view is along z (then y is).
    pub fn fit(mesh: &Mesh, view: Vec3) -> Camera {
        let view = view.normalize_or(Vec3::Z);
        let up0 = if view.z.abs() > 0.9 { Vec3::Y } else { Vec3::Z };
        let right = up0.cross(view).normalize();
        let up = view.cross(right);
        let flat = |p: &Vec3| Vec3::new(p.dot(right), p.dot(up), 0.0);
        let (lo, hi) = bounds(mesh.positions.iter().map(flat));
        let (w, h) = (
            SIZE.0 as f32 - 2.0 * MARGIN_PX,
            SIZE.1 as f32 - 2.0 * MARGIN_PX,
        );
        let span = (hi - lo).max(Vec3::splat(1e-3));
        let mid = (lo + hi) / 2.0;
        Camera {
            view,
            right,
            up,
            centre: right * mid.x + up * mid.y,
            px_per_mm: (w / span.x).min(h / span.y),
        }
    }

    /// Where `p` lands: pixel x, pixel y (down) and depth (larger is nearer).
    pub fn project(&self, p: Vec3) -> Vec3 {
        let d = p - self.centre;
        Vec3::new(
            SIZE.0 as f32 / 2.0 + d.dot(self.right) * self.px_per_mm,
            SIZE.1 as f32 / 2.0 - d.dot(self.up) * self.px_per_mm,
            p.dot(self.view),
        )
    }
}

fn edge(a: Vec2, b: Vec2, p: Vec2) -> f32 {
    (b - a).perp_dot(p - a)
}

/// The colour of the skin at `uv`: its density class where the analysis
/// counted punctures, skin elsewhere.
fn colour_at(surface: &Surface, analysis: &Analysis, uv: Vec2) -> [u8; 3] {
    let i = surface.area.texel_of(uv) as usize;
    match (analysis.density.get(i), analysis.class.get(i)) {
        (Some(&d), Some(&class)) if d > 0.0 => class_colour(class),
        _ => SKIN,
    }
}

/// Draws `surface` from `camera`, coloured by `analysis`.
pub fn render(surface: &Surface, analysis: &Analysis, camera: &Camera) -> image::RgbImage {
    let (w, h) = SIZE;
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb(BACKGROUND));
    let mut depth = vec![f32::NEG_INFINITY; (w * h) as usize];
    let mesh = &surface.mesh;
    let normals = surface.vertex_normals();
    let light = (camera.view + 0.5 * camera.up - 0.3 * camera.right).normalize();
    let screen: Vec<Vec3> = mesh.positions.iter().map(|&p| camera.project(p)).collect();
    for tri in &mesh.triangles {
        let [ia, ib, ic] = tri.map(|k| k as usize);
        let (a, b, c) = (screen[ia], screen[ib], screen[ic]);
        let area = edge(a.truncate(), b.truncate(), c.truncate());
        if area.abs() < 1e-9 {
            continue;
        }
        let lo = a.min(b).min(c);
        let hi = a.max(b).max(c);
        let (x0, x1) = (
            lo.x.floor().max(0.0) as u32,
            hi.x.ceil().min(w as f32) as u32,
        );
        let (y0, y1) = (
            lo.y.floor().max(0.0) as u32,
            hi.y.ceil().min(h as f32) as u32,
        );
        for y in y0..y1 {
            for x in x0..x1 {
                let p = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
                let wa = edge(b.truncate(), c.truncate(), p) / area;
                let wb = edge(c.truncate(), a.truncate(), p) / area;
                let wc = 1.0 - wa - wb;
                if wa < -1e-5 || wb < -1e-5 || wc < -1e-5 {
                    continue;
                }
                let z = a.z * wa + b.z * wb + c.z * wc;
                let k = (y * w + x) as usize;
                if z <= depth[k] {
                    continue;
                }
                depth[k] = z;
                let uv = mesh.uvs[ia] * wa + mesh.uvs[ib] * wb + mesh.uvs[ic] * wc;
                let mut n = (normals[ia] * wa + normals[ib] * wb + normals[ic] * wc)
                    .normalize_or(camera.view);
                if n.dot(camera.view) < 0.0 {
                    // The inside of an open surface is lit as its outside.
                    n = -n;
                }
                let shade = AMBIENT + (1.0 - AMBIENT) * n.dot(light).max(0.0);
                let base = colour_at(surface, analysis, uv.clamp(Vec2::ZERO, Vec2::ONE));
                let lit = base.map(|c| (f32::from(c) * shade).round().min(255.0) as u8);
                img.put_pixel(x, y, image::Rgb(lit));
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use glam::Quat;

    use super::*;
    use crate::metrics::{Class, MetricsConfig, analyse};
    use crate::pose::Pose;
    use crate::session::{Session, StrikeSource};
    use crate::surfaces::{ZoneLimits, builtin};
    use crate::tool::ToolProfiles;

    /// The candidate colour whose hue `p` has (shading only scales it).
    fn nearest(p: [u8; 3]) -> [u8; 3] {
        let unit = |c: [u8; 3]| Vec3::from(c.map(f32::from)).normalize_or_zero();
        let mut candidates = vec![SKIN];
        candidates.extend(
            [
                Class::Gap,
                Class::Under,
                Class::InBand,
                Class::Over,
                Class::Hot,
            ]
            .map(class_colour),
        );
        candidates
            .into_iter()
            .max_by(|a, b| unit(*a).dot(unit(p)).total_cmp(&unit(*b).dot(unit(p))))
            .unwrap()
    }

    #[test]
    fn a_pad_snapshot_shows_heat_where_the_strikes_went_and_skin_elsewhere() {
        let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 128).unwrap());
        let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("stamp-35").unwrap());
        let mut session = Session::new(pad.clone(), tool, StrikeSource::Events, 4);
        let at = pad.point_at_uv(Vec2::new(0.3, 0.6)).unwrap().position;
        session.push_pose(Pose {
            t: 0.0,
            position: at,
            orientation: Quat::IDENTITY,
            force_n: 5.0,
            depth_mm: 0.5,
        });
        for k in 0..20 {
            session.push_strike(f64::from(k) * 0.1);
        }
        let analysis = analyse(&session, &MetricsConfig::default()).unwrap();
        let view = viewing_direction(&pad.mesh, None);
        assert!(view.dot(Vec3::Z) > 0.99, "a pad is seen from its skin side");
        let camera = Camera::fit(&pad.mesh, view);
        let img = render(&pad, &analysis, &camera);
        assert_eq!(img.dimensions(), SIZE);
        let pixel = |p: Vec3| {
            let s = camera.project(p);
            img.get_pixel(s.x as u32, s.y as u32).0
        };
        let struck = pixel(at);
        assert_ne!(nearest(struck), SKIN, "heat under the strikes: {struck:?}");
        let far = pad.point_at_uv(Vec2::new(0.8, 0.2)).unwrap().position;
        assert_eq!(nearest(pixel(far)), SKIN, "skin where nothing struck");
        assert_eq!(
            img.get_pixel(2, 2).0,
            BACKGROUND,
            "the margin is background"
        );
    }

    #[test]
    fn a_face_snapshot_shows_the_heads_silhouette_from_the_front() {
        let face = builtin("face", &ZoneLimits::shipped().unwrap(), 64).unwrap();
        let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("stamp-35").unwrap());
        let face = Arc::new(face);
        let session = Session::new(face.clone(), tool, StrikeSource::Events, 4);
        let analysis = analyse(&session, &MetricsConfig::default()).unwrap();
        let view = viewing_direction(&face.mesh, None);
        let img = render(&face, &analysis, &Camera::fit(&face.mesh, view));
        let covered: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 != BACKGROUND)
            .map(|(x, y, _)| (x, y))
            .collect();
        let (w, h) = SIZE;
        let share = covered.len() as f64 / f64::from(w * h);
        assert!((0.1..0.9).contains(&share), "{share}");
        let (x0, x1) = covered
            .iter()
            .fold((w, 0), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (y0, y1) = covered
            .iter()
            .fold((h, 0), |(a, b), p| (a.min(p.1), b.max(p.1)));
        // Taller than wide, and rounded: not a filled box.
        assert!(y1 - y0 > x1 - x0, "{x0}..{x1} × {y0}..{y1}");
        let fill = covered.len() as f64 / f64::from((x1 - x0 + 1) * (y1 - y0 + 1));
        assert!((0.4..0.95).contains(&fill), "{fill}");
        // Lit from the viewer: the skin is shaded, not flat.
        let tones: std::collections::BTreeSet<[u8; 3]> = covered
            .iter()
            .map(|&(x, y)| img.get_pixel(x, y).0)
            .collect();
        assert!(tones.len() > 20, "{}", tones.len());
        assert!(
            covered
                .iter()
                .all(|&(x, y)| nearest(img.get_pixel(x, y).0) == SKIN)
        );
    }
}
