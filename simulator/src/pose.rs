//! Timestamped tool poses.

use glam::{Mat3, Quat, Vec3};
use serde::{Deserialize, Serialize};

/// Where the tool is at an instant.
///
/// The tool frame: needles point along local −z, so local +z (`axis`) points
/// away from the skin; local +y is the direction of travel (a roller's
/// rolling direction); `position` is the centre of the needle plane (the
/// cartridge face, the stamp plate, the drum's contact line), mm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// Time, s.
    pub t: f64,
    /// Centre of the needle plane, mm.
    pub position: Vec3,
    /// Tool orientation (local → world).
    pub orientation: Quat,
    /// Contact force, N; 0 means lifted.
    pub force_n: f32,
    /// Set needle depth, mm (pens; stamps and rollers have fixed needles).
    pub depth_mm: f32,
}

impl Pose {
    /// Unit vector from the skin towards the tool (local +z).
    pub fn axis(&self) -> Vec3 {
        self.orientation * Vec3::Z
    }

    /// The pose at time `t` between `self` and `next`: position and
    /// orientation interpolate; force and depth hold `self`'s values, so a
    /// lift or a depth change takes effect at the pose that reports it.
    pub fn interpolate(&self, next: &Pose, t: f64) -> Pose {
        let span = next.t - self.t;
        let s = if span > 0.0 {
            ((t - self.t) / span).clamp(0.0, 1.0) as f32
        } else {
            1.0
        };
        Pose {
            t,
            position: self.position.lerp(next.position, s),
            orientation: self.orientation.slerp(next.orientation, s),
            force_n: self.force_n,
            depth_mm: self.depth_mm,
        }
    }
}

/// The orientation whose +z is `normal` and whose +y is `travel` projected
/// onto the tangent plane (any tangent if `travel` is along the normal).
pub fn orientation_facing(normal: Vec3, travel: Vec3) -> Quat {
    let z = normal.normalize_or(Vec3::Z);
    let mut y = travel - z * travel.dot(z);
    if y.length_squared() < 1e-12 {
        y = z.any_orthonormal_vector();
    }
    let y = y.normalize();
    let x = y.cross(z);
    Quat::from_mat3(&Mat3::from_cols(x, y, z)).normalize()
}
