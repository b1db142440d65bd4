//! What the cues read from the surface and the density grid: where the
//! tool touches, how it leans, the zone there, and the density under and
//! just ahead of it.

use std::sync::Arc;

use glam::{Vec2, Vec3};

use crate::accumulate::DensityGrid;
use crate::contact::RAY_BACKOFF_MM;
use crate::pose::Pose;
use crate::surface::{NO_ZONE, Surface};
use crate::tool::Tool;

/// The tool on the skin.
#[derive(Debug, Clone)]
pub(super) struct Contact {
    pub uv: Vec2,
    pub position: Vec3,
    pub tilt_deg: f64,
    pub zone: Option<String>,
    pub zone_limit_mm: Option<f32>,
}

#[derive(Debug, Clone)]
pub(super) struct Probe {
    surface: Arc<Surface>,
    /// Track width of the tool, mm.
    pub footprint_mm: f32,
    /// Half the density window, mm.
    half_window_mm: f32,
    /// Texel size in u and v, mm.
    texel_mm: Vec2,
}

impl Probe {
    pub fn new(surface: Arc<Surface>, tool: &Tool, window_mm: f64) -> Self {
        let size = Vec2::new(surface.area.width as f32, surface.area.height as f32);
        Self {
            texel_mm: (surface.mm_per_uv / size).max(Vec2::splat(1e-6)),
            footprint_mm: tool.footprint_mm.max(0.1),
            half_window_mm: (window_mm as f32 / 2.0).max(tool.footprint_mm / 2.0),
            surface,
        }
    }

    /// Where a pose in contact touches the skin (as the session's pass
    /// tracking finds it); `None` when lifted or off the surface.
    pub fn contact(&self, pose: &Pose) -> Option<Contact> {
        if pose.force_n.is_nan() || pose.force_n <= 0.0 {
            return None;
        }
        let axis = pose.axis();
        let hit = self.surface.raycast(
            pose.position + axis * RAY_BACKOFF_MM,
            -axis,
            2.0 * RAY_BACKOFF_MM,
        )?;
        let position = pose.position + axis * (RAY_BACKOFF_MM - hit.t);
        let normal = self.surface.point_at_uv(hit.uv).map_or(axis, |p| p.normal);
        let tilt_deg = f64::from(axis.dot(normal).clamp(-1.0, 1.0).acos().to_degrees());
        let table = &self.surface.area;
        let zone = table.zone[table.texel_of(hit.uv) as usize];
        let zone = (zone != NO_ZONE)
            .then(|| self.surface.zones.get(usize::from(zone)))
            .flatten();
        Some(Contact {
            uv: hit.uv,
            position,
            tilt_deg,
            zone: zone.map(|z| z.name.clone()),
            zone_limit_mm: zone.and_then(|z| z.max_depth_mm),
        })
    }

    /// Punctures per cm² in the density window around `uv`.
    pub fn density_under(&self, grid: &DensityGrid, uv: Vec2) -> f64 {
        let r = Vec2::splat(self.half_window_mm) / self.texel_mm;
        let (count, area_cm2) = self.sums(grid, uv, r, false);
        if area_cm2 > 0.0 {
            count / area_cm2
        } else {
            0.0
        }
    }

    /// Punctures per cm² over a disc of the tool's size one track width
    /// ahead of `uv` along `dir` (UV): skin the current stroke has not
    /// reached yet.
    pub fn density_ahead(&self, grid: &DensityGrid, uv: Vec2, dir: Vec2) -> f64 {
        let mm_dir = dir * self.surface.mm_per_uv;
        let Some(mm_dir) = mm_dir.try_normalize() else {
            return 0.0;
        };
        let centre =
            uv + mm_dir * self.footprint_mm / self.surface.mm_per_uv.max(Vec2::splat(1e-6));
        let r = Vec2::splat(self.footprint_mm / 2.0) / self.texel_mm;
        let (count, area_cm2) = self.sums(grid, centre, r, true);
        // Past the surface's edge the disc holds too little skin to judge.
        let disc_cm2 = std::f64::consts::PI * f64::from(self.footprint_mm / 2.0).powi(2) / 100.0;
        if area_cm2 < 0.5 * disc_cm2 {
            return 0.0;
        }
        count / area_cm2
    }

    /// Punctures and real area, cm², in the box (or inscribed ellipse) of
    /// half-size `r` texels around `uv`.
    fn sums(&self, grid: &DensityGrid, uv: Vec2, r: Vec2, ellipse: bool) -> (f64, f64) {
        let table = &self.surface.area;
        let (w, h) = (table.width as i64, table.height as i64);
        let c = uv * Vec2::new(w as f32, h as f32);
        let (x0, x1) = ((c.x - r.x).floor() as i64, (c.x + r.x).ceil() as i64);
        let (y0, y1) = ((c.y - r.y).floor() as i64, (c.y + r.y).ceil() as i64);
        let texels = grid.texels();
        let (mut count, mut area) = (0.0f64, 0.0f64);
        for y in y0.max(0)..y1.min(h) {
            for x in x0.max(0)..x1.min(w) {
                if ellipse {
                    let d =
                        (Vec2::new(x as f32 + 0.5, y as f32 + 0.5) - c) / r.max(Vec2::splat(0.5));
                    if d.length_squared() > 1.0 {
                        continue;
                    }
                }
                let i = (y * w + x) as usize;
                let a = table.area_cm2[i];
                if a > 0.0 {
                    area += f64::from(a);
                    count += f64::from(texels[i].count);
                }
            }
        }
        (count, area)
    }
}
