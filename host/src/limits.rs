//! The pen's declared limits, checked once, at the handshake.
//!
//! A pen that declares nonsense (a minimum above its maximum, a step that
//! does not divide its range, a watchdog too short for heartbeats) is
//! refused there with the field named, so nothing downstream (sweeps,
//! sliders, the view's clamps) has to guard against it: they hold a
//! [`PenLimits`] and may rely on its ranges.

use std::ops::{Deref, RangeInclusive};
use std::time::Duration;

use penlab_protocol::message::Capabilities;
use penlab_protocol::timing;

/// Longest watchdog a pen may declare: the field's range (`u16` ms) allows
/// 65.5 s; anything is allowed there, but it must at least leave room for
/// heartbeats.
const MIN_WATCHDOG: Duration = Duration::from_millis(1_000);

/// A declared limit that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pen declares nonsense limits: Capabilities.{field} = {value}: {problem}")]
pub struct LimitsError {
    /// The field of `Capabilities` at fault.
    pub field: &'static str,
    /// Its declared value.
    pub value: u32,
    /// What is wrong with it.
    pub problem: String,
}

/// `Capabilities` that passed every check of [`PenLimits::validate`].
///
/// It reads like `Capabilities` (it derefs to it) and adds what a host
/// needs of the ranges, computed without overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PenLimits(Capabilities);

impl Deref for PenLimits {
    type Target = Capabilities;

    fn deref(&self) -> &Capabilities {
        &self.0
    }
}

impl PenLimits {
    /// Checks what a pen declared:
    /// * each range is ordered (`min ≤ max`), and its step divides it (a zero
    ///   step only for a fixed value, `min = max`);
    /// * the rate's minimum is above zero (a pen cannot run at 0 Hz);
    /// * the labelled maximum depth lies within the settable range;
    /// * a cartridge has needles;
    /// * the watchdog is at least 1 s and leaves room for
    ///   [`timing::MIN_HEARTBEATS_PER_WATCHDOG`] heartbeats;
    /// * telemetry has a period.
    pub fn validate(c: Capabilities) -> Result<Self, LimitsError> {
        grid(
            "depth",
            u32::from(c.depth_min_um),
            u32::from(c.depth_max_um),
            u32::from(c.depth_step_um),
        )?;
        grid(
            "rate",
            u32::from(c.rate_min_chz),
            u32::from(c.rate_max_chz),
            u32::from(c.rate_step_chz),
        )?;
        if c.rate_min_chz == 0 {
            return Err(problem("rate_min_chz", 0, "a pen cannot strike at 0 Hz"));
        }
        if !(c.depth_min_um..=c.depth_max_um).contains(&c.labelled_max_depth_um) {
            return Err(problem(
                "labelled_max_depth_um",
                c.labelled_max_depth_um.into(),
                format!(
                    "must lie within the settable depths {}..={} µm",
                    c.depth_min_um, c.depth_max_um
                ),
            ));
        }
        if c.needle_count == 0 {
            return Err(problem("needle_count", 0, "a cartridge has needles"));
        }
        let watchdog = Duration::from_millis(c.watchdog_timeout_ms.into());
        if watchdog < MIN_WATCHDOG || !timing::watchdog_is_sane(watchdog) {
            return Err(problem(
                "watchdog_timeout_ms",
                c.watchdog_timeout_ms.into(),
                format!(
                    "must be at least {} ms and {} heartbeat periods (PROTOCOL.md §8)",
                    MIN_WATCHDOG.as_millis(),
                    timing::MIN_HEARTBEATS_PER_WATCHDOG
                ),
            ));
        }
        if c.telemetry_period_ms == 0 {
            return Err(problem(
                "telemetry_period_ms",
                0,
                "telemetry needs a period above 0 ms",
            ));
        }
        Ok(PenLimits(c))
    }

    /// The declared capabilities.
    pub fn capabilities(&self) -> &Capabilities {
        &self.0
    }

    /// Settable depths, µm.
    pub fn depth_range(&self) -> RangeInclusive<u16> {
        self.0.depth_min_um..=self.0.depth_max_um
    }

    /// Settable rates, cHz.
    pub fn rate_range(&self) -> RangeInclusive<u16> {
        self.0.rate_min_chz..=self.0.rate_max_chz
    }

    /// How many depth settings there are (at least 1).
    pub fn depth_settings(&self) -> u32 {
        settings(
            self.0.depth_min_um,
            self.0.depth_max_um,
            self.0.depth_step_um,
        )
    }

    /// How many rate settings there are (at least 1).
    pub fn rate_settings(&self) -> u32 {
        settings(
            self.0.rate_min_chz,
            self.0.rate_max_chz,
            self.0.rate_step_chz,
        )
    }

    /// The `k`-th depth setting (0-based), µm; the last one for `k` past
    /// the end.
    pub fn depth_setting(&self, k: u32) -> u16 {
        setting(
            self.0.depth_min_um,
            self.0.depth_step_um,
            k.min(self.depth_settings() - 1),
        )
    }

    /// The `k`-th rate setting (0-based), cHz; the last one for `k` past
    /// the end.
    pub fn rate_setting(&self, k: u32) -> u16 {
        setting(
            self.0.rate_min_chz,
            self.0.rate_step_chz,
            k.min(self.rate_settings() - 1),
        )
    }

    /// The depth setting nearest to `depth_um` (any value, NaN gives the
    /// smallest).
    pub fn nearest_depth(&self, depth_um: f64) -> u16 {
        nearest(
            depth_um,
            self.0.depth_min_um,
            self.0.depth_step_um,
            self.depth_settings(),
        )
    }

    /// The rate setting nearest to `rate_chz` (any value, NaN gives the
    /// lowest).
    pub fn nearest_rate(&self, rate_chz: f64) -> u16 {
        nearest(
            rate_chz,
            self.0.rate_min_chz,
            self.0.rate_step_chz,
            self.rate_settings(),
        )
    }

    /// The watchdog the pen declared.
    pub fn watchdog(&self) -> Duration {
        Duration::from_millis(self.0.watchdog_timeout_ms.into())
    }

    /// The telemetry period the pen declared.
    pub fn telemetry_period(&self) -> Duration {
        Duration::from_millis(self.0.telemetry_period_ms.into())
    }
}

fn problem(field: &'static str, value: u32, text: impl Into<String>) -> LimitsError {
    LimitsError {
        field,
        value,
        problem: text.into(),
    }
}

/// Checks `min..=max` in steps of `step` for the fields `{name}_*`.
fn grid(name: &'static str, min: u32, max: u32, step: u32) -> Result<(), LimitsError> {
    let (min_f, step_f): (&'static str, &'static str) = match name {
        "depth" => ("depth_min_um", "depth_step_um"),
        _ => ("rate_min_chz", "rate_step_chz"),
    };
    if min > max {
        return Err(problem(
            min_f,
            min,
            format!("the minimum is above the maximum ({max})"),
        ));
    }
    match step {
        0 if min != max => Err(problem(
            step_f,
            0,
            format!("a zero step means a fixed {name}, but the range is {min}..={max}"),
        )),
        0 => Ok(()),
        step if !(max - min).is_multiple_of(step) => Err(problem(
            step_f,
            step,
            format!(
                "does not divide the range {min}..={max} (the maximum is not a whole number of steps above the minimum)"
            ),
        )),
        _ => Ok(()),
    }
}

fn settings(min: u16, max: u16, step: u16) -> u32 {
    match step {
        0 => 1,
        step => u32::from(max - min) / u32::from(step) + 1,
    }
}

fn setting(min: u16, step: u16, k: u32) -> u16 {
    // In range by construction: k < settings, so min + k·step ≤ max.
    (u32::from(min) + k * u32::from(step)) as u16
}

fn nearest(value: f64, min: u16, step: u16, count: u32) -> u16 {
    if step == 0 {
        return min;
    }
    let k = ((value - f64::from(min)) / f64::from(step)).round();
    let k = if k.is_nan() {
        0
    } else {
        k.clamp(0.0, f64::from(count - 1)) as u32
    };
    setting(min, step, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::samples;

    fn skinpen() -> Capabilities {
        samples::every_message()
            .into_iter()
            .find_map(|m| match m {
                penlab_protocol::message::Message::Capabilities(c) => Some(c),
                _ => None,
            })
            .expect("the samples include Capabilities")
    }

    #[test]
    fn a_sound_declaration_passes() {
        let limits = PenLimits::validate(skinpen()).unwrap();
        assert_eq!(limits.depth_settings(), 11);
        assert_eq!(limits.rate_settings(), 1);
        assert_eq!(limits.depth_setting(10), 2_500);
        assert_eq!(limits.depth_setting(99), 2_500);
        assert_eq!(limits.nearest_depth(1_120.0), 1_000);
        assert_eq!(limits.nearest_depth(1_130.0 + 100.0), 1_250);
        assert_eq!(limits.nearest_depth(f64::NAN), 0);
        assert_eq!(limits.nearest_depth(1e9), 2_500);
        assert_eq!(limits.nearest_rate(5.0), 11_700);
    }

    fn refused(edit: impl FnOnce(&mut Capabilities)) -> LimitsError {
        let mut c = skinpen();
        edit(&mut c);
        PenLimits::validate(c).unwrap_err()
    }

    #[test]
    fn depth_min_above_max_names_the_field() {
        let e = refused(|c| {
            c.depth_min_um = 3_000;
            c.depth_max_um = 500;
        });
        assert_eq!(e.field, "depth_min_um");
        assert!(e.to_string().contains("Capabilities.depth_min_um = 3000"));
    }

    #[test]
    fn a_step_that_does_not_divide_the_range() {
        let e = refused(|c| c.depth_step_um = 300);
        assert_eq!(e.field, "depth_step_um");
        let e = refused(|c| {
            c.rate_max_chz = 15_000;
            c.rate_step_chz = 0;
        });
        assert_eq!(e.field, "rate_step_chz");
    }

    #[test]
    fn zero_rate_labelled_depth_needles_watchdog_and_period() {
        assert_eq!(
            refused(|c| {
                c.rate_min_chz = 0;
                c.rate_max_chz = 0;
            })
            .field,
            "rate_min_chz"
        );
        assert_eq!(
            refused(|c| c.labelled_max_depth_um = 2_600).field,
            "labelled_max_depth_um"
        );
        assert_eq!(refused(|c| c.needle_count = 0).field, "needle_count");
        assert_eq!(
            refused(|c| c.watchdog_timeout_ms = 999).field,
            "watchdog_timeout_ms"
        );
        assert_eq!(
            refused(|c| c.telemetry_period_ms = 0).field,
            "telemetry_period_ms"
        );
    }

    #[test]
    fn settings_at_the_top_of_u16_do_not_overflow() {
        let mut c = skinpen();
        c.depth_min_um = 65_000;
        c.depth_max_um = 65_535;
        c.depth_step_um = 535;
        c.labelled_max_depth_um = 65_535;
        let limits = PenLimits::validate(c).unwrap();
        assert_eq!(limits.depth_settings(), 2);
        assert_eq!(limits.depth_setting(1), 65_535);
        assert_eq!(limits.nearest_depth(70_000.0), 65_535);
    }
}
