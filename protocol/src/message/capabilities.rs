//! `Capabilities`: what the pen can do and the limits it declares.

use crate::wire::wire_struct;

/// Feature bit: the pen reports [`Pose`](super::Pose) from a tracker.
pub const FEATURE_POSE: u8 = 1 << 0;
/// Feature bit: the pen measures contact force.
pub const FEATURE_FORCE: u8 = 1 << 1;
/// Feature bit: cartridges carry an identity and a reuse lockout.
pub const FEATURE_LOCKOUT: u8 = 1 << 2;

wire_struct! {
    /// What the pen can do and the limits it declares: sent after
    /// [`Identity`](super::Identity). A host refuses to command anything
    /// outside these.
    pub struct Capabilities {
        /// Smallest settable depth, micrometres.
        pub depth_min_um: u16,
        /// Largest settable depth, micrometres.
        pub depth_max_um: u16,
        /// Depth step, micrometres; settable depths are `min + k * step`.
        pub depth_step_um: u16,
        /// Largest depth the labelling declares safe, micrometres
        /// (21 CFR 878.4430(b)(2)(iii)); may be below `depth_max_um`.
        pub labelled_max_depth_um: u16,
        /// Lowest rate, centihertz.
        pub rate_min_chz: u16,
        /// Highest rate, centihertz; equal to the lowest for a fixed-rate pen.
        pub rate_max_chz: u16,
        /// Rate step, centihertz; 0 for a fixed-rate pen.
        pub rate_step_chz: u16,
        /// Needles in the fitted cartridge type.
        pub needle_count: u8,
        /// Motor current limit, milliamperes.
        pub max_current_ma: u16,
        /// Watchdog timeout, milliseconds: the motor stops when the host
        /// has been silent this long.
        pub watchdog_timeout_ms: u16,
        /// Period of [`Telemetry`](super::Telemetry) frames while running,
        /// milliseconds.
        pub telemetry_period_ms: u16,
        /// Feature bits (`FEATURE_*`).
        pub features: u8,
    }
}

impl Capabilities {
    /// Whether `depth_um` is a depth this pen can be set to.
    pub fn accepts_depth(&self, depth_um: u16) -> bool {
        on_grid(
            depth_um,
            self.depth_min_um,
            self.depth_max_um,
            self.depth_step_um,
        )
    }

    /// Whether `rate_chz` is a rate this pen can be set to.
    pub fn accepts_rate(&self, rate_chz: u16) -> bool {
        on_grid(
            rate_chz,
            self.rate_min_chz,
            self.rate_max_chz,
            self.rate_step_chz,
        )
    }

    /// Whether the pen declares a feature bit.
    pub fn has(&self, feature: u8) -> bool {
        self.features & feature == feature
    }
}

/// `value` in `min..=max` and a whole number of steps above `min`; a zero
/// step admits `min` alone.
fn on_grid(value: u16, min: u16, max: u16, step: u16) -> bool {
    if !(min..=max).contains(&value) {
        return false;
    }
    match step {
        0 => value == min,
        step => (value - min).is_multiple_of(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(min: u16, max: u16, step: u16) -> Capabilities {
        Capabilities {
            depth_min_um: min,
            depth_max_um: max,
            depth_step_um: step,
            labelled_max_depth_um: max,
            rate_min_chz: 11_700,
            rate_max_chz: 11_700,
            rate_step_chz: 0,
            needle_count: 14,
            max_current_ma: 800,
            watchdog_timeout_ms: 1_000,
            telemetry_period_ms: 50,
            features: FEATURE_LOCKOUT,
        }
    }

    #[test]
    fn depth_grid() {
        let c = caps(200, 3_000, 100);
        assert!(c.accepts_depth(200));
        assert!(c.accepts_depth(1_500));
        assert!(c.accepts_depth(3_000));
        assert!(!c.accepts_depth(100));
        assert!(!c.accepts_depth(1_550));
        assert!(!c.accepts_depth(3_100));
    }

    #[test]
    fn fixed_rate_accepts_only_its_rate() {
        let c = caps(0, 2_500, 250);
        assert!(c.accepts_rate(11_700));
        assert!(!c.accepts_rate(11_800));
        assert!(!c.accepts_rate(0));
    }

    #[test]
    fn feature_bits() {
        let c = caps(0, 2_500, 250);
        assert!(c.has(FEATURE_LOCKOUT));
        assert!(!c.has(FEATURE_POSE));
    }
}
