//! Where each needle of a strike meets the surface, and how deep it goes.

use glam::Vec2;

use crate::pose::Pose;
use crate::surface::Surface;
use crate::tool::Tool;

/// How far behind the needle plane a needle's ray starts, mm: a tilted or
/// pressed tool has part of its face below the undeformed skin, and those
/// needles must still find it.
pub const RAY_BACKOFF_MM: f32 = 5.0;

/// One needle entering the skin.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Puncture {
    /// Density-grid texel the needle landed in.
    pub texel: u32,
    /// UV of the entry point.
    pub uv: Vec2,
    /// Penetration depth, mm (> 0).
    pub depth_mm: f32,
    /// Zone of the triangle hit.
    pub zone: u16,
}

/// Casts every needle of `pattern` (tool-frame x, y in mm) along the tool
/// axis for `pose` and calls `emit` for each needle that enters the skin.
/// Returns the number of punctures.
///
/// Penetration = (reach − gap) × min(1, force / full-contact force), where
/// reach is the set depth (fixed needle length for stamps and rollers) and
/// gap the distance from the needle's base on the tool face to the skin
/// along the axis, clamped at 0 where the face presses into the skin. A
/// needle whose gap is at least its reach stays short of the skin.
#[inline]
pub fn strike(
    surface: &Surface,
    tool: &Tool,
    pattern: &[Vec2],
    pose: &Pose,
    mut emit: impl FnMut(Puncture),
) -> usize {
    if pose.force_n.is_nan() || pose.force_n <= 0.0 {
        return 0;
    }
    let scale = (pose.force_n / tool.profile.full_contact_force_n).min(1.0);
    let reach = tool.reach_mm(pose.depth_mm);
    if reach.is_nan() || reach <= 0.0 {
        return 0;
    }
    let x = pose.orientation * glam::Vec3::X;
    let y = pose.orientation * glam::Vec3::Y;
    let axis = pose.orientation * glam::Vec3::Z;
    let dir = -axis;
    let mut n = 0;
    for needle in pattern {
        let origin = pose.position + x * needle.x + y * needle.y + axis * RAY_BACKOFF_MM;
        let Some(hit) = surface.raycast(origin, dir, RAY_BACKOFF_MM + reach) else {
            continue;
        };
        let gap = (hit.t - RAY_BACKOFF_MM).max(0.0);
        let depth = (reach - gap) * scale;
        if depth > 0.0 {
            let texel = surface.area.texel_of(hit.uv);
            let zone = surface.mesh.triangle_zones[hit.triangle as usize];
            emit(Puncture {
                texel,
                uv: hit.uv,
                depth_mm: depth,
                zone,
            });
            n += 1;
        }
    }
    n
}
