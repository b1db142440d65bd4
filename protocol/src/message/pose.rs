//! `Pose`: where the pen is.

use crate::wire::wire_struct;

wire_struct! {
    /// Where the pen is, for pens with a tracker.
    pub struct Pose {
        /// Device uptime, microseconds, wrapping.
        pub time_us: u32,
        /// Needle-tip position in the tracker's frame, micrometres (x, y, z).
        pub position_um: [i32; 3],
        /// Orientation as a unit quaternion (w, x, y, z) scaled by 32 767.
        pub orientation_q15: [i16; 4],
    }
}
