//! The cues' settings and the speed band they judge the hand against.

use serde::{Deserialize, Serialize};

use super::CueSet;
use crate::error::{Error, Result};
use crate::script::{PatternKind, Script};
use crate::tool::Tool;

/// With no line spacing given or planned, strokes are taken to sit one
/// track width apart (a script's default, `overlap = 0`).
pub const DEFAULT_TRACK_SHARE: f32 = 1.0;
/// With no plan, a place is taken to get two passes (a crosshatch).
pub const DEFAULT_PASSES: u32 = 2;

/// How the cues judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CueConfig {
    /// Cues switched on (names; `speed` is both speed cues).
    pub enabled: CueSet,
    /// Passes each place gets; the speed band gives the target density
    /// after all of them. Default: the script's plan, else 2.
    pub passes: Option<u32>,
    /// Distance between neighbouring strokes, mm. Default: the script's
    /// plan, else the tool's track width.
    pub spacing_mm: Option<f32>,
    /// The speed band is widened by this share on each side (the density
    /// window averages short deviations out).
    pub speed_tolerance: f64,
    /// Hand speed is measured over this much of the latest contact, s.
    pub speed_window_s: f64,
    /// Below this the tool is resting, not moving, mm/s.
    pub stationary_mm_s: f64,
    /// Lean from the surface normal allowed, degrees.
    pub tilt_limit_deg: f32,
    /// Overlap fires when the skin ahead holds this share of the band's low edge.
    pub overlap_at: f64,
    /// A cue ends once its condition has been clear this long, s (a lift ends it at once).
    pub clear_s: f64,
}

impl Default for CueConfig {
    fn default() -> Self {
        Self {
            enabled: CueSet::ALL,
            passes: None,
            spacing_mm: None,
            speed_tolerance: 0.1,
            speed_window_s: 0.2,
            stationary_mm_s: 5.0,
            tilt_limit_deg: 15.0,
            overlap_at: 1.0,
            clear_s: 0.1,
        }
    }
}

impl CueConfig {
    /// Checks the settings are in range.
    pub fn validate(&self) -> Result<()> {
        let ok = self.passes.is_none_or(|p| (1..=100).contains(&p))
            && self
                .spacing_mm
                .is_none_or(|s| s.is_finite() && (0.05..=100.0).contains(&s))
            && (0.0..1.0).contains(&self.speed_tolerance)
            && self.speed_window_s.is_finite()
            && (0.01..=5.0).contains(&self.speed_window_s)
            && self.stationary_mm_s.is_finite()
            && self.stationary_mm_s >= 0.0
            && self.tilt_limit_deg.is_finite()
            && (0.0..90.0).contains(&self.tilt_limit_deg)
            && self.overlap_at.is_finite()
            && self.overlap_at > 0.0
            && self.clear_s.is_finite()
            && self.clear_s >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Invalid(
                "cues: need passes 1 to 100, spacing_mm 0.05 to 100, speed_tolerance in [0, 1), \
                 speed_window_s 0.01 to 5, tilt_limit_deg in [0, 90), overlap_at > 0, clear_s ≥ 0"
                    .into(),
            ))
        }
    }

    /// Fills passes and spacing not given from the script's patterns (taken
    /// to cover the same area): a crosshatch is two passes, a raster or
    /// circles one, each times its `passes`; the spacing is the first
    /// moving pattern's.
    pub fn plan_from(&mut self, script: &Script, tool: &Tool) {
        let moving: Vec<_> = script
            .spec
            .pattern
            .iter()
            .map(|p| p.get_ref())
            .filter(|p| {
                matches!(
                    p.kind,
                    PatternKind::Raster | PatternKind::Crosshatch | PatternKind::Circles
                )
            })
            .collect();
        if moving.is_empty() {
            return;
        }
        if self.passes.is_none() {
            let per = |p: &&crate::script::Pattern| match p.kind {
                PatternKind::Crosshatch => 2 * p.passes,
                _ => p.passes,
            };
            self.passes = Some(moving.iter().map(per).sum::<u32>().clamp(1, 100));
        }
        if self.spacing_mm.is_none() {
            let p = moving[0];
            self.spacing_mm = Some(
                p.spacing_mm
                    .unwrap_or(tool.footprint_mm * (1.0 - p.overlap))
                    .max(0.05),
            );
        }
    }

    /// Passes in use.
    pub fn passes(&self) -> u32 {
        self.passes.unwrap_or(DEFAULT_PASSES)
    }
}

/// The hand speeds that give the target density, mm/s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeedBand {
    /// Slower than this over-treats.
    pub low_mm_s: f64,
    /// Faster than this under-treats.
    pub high_mm_s: f64,
}

impl SpeedBand {
    /// A pen striking `needles` needles at `rate_hz`, in strokes `spacing_mm`
    /// apart, `passes` times over each place, leaves
    /// `passes · rate · needles / (v · spacing)` punctures per mm² at speed
    /// `v`; the band is the speeds that put that inside `band_per_cm2`,
    /// widened by `tolerance` on each side.
    pub fn for_density(
        rate_hz: f64,
        needles: usize,
        spacing_mm: f32,
        passes: u32,
        band_per_cm2: [f64; 2],
        tolerance: f64,
    ) -> Option<SpeedBand> {
        let per_mm = f64::from(passes) * rate_hz * needles as f64 / f64::from(spacing_mm);
        // /mm² → /cm²: ×100.
        let at = |density_per_cm2: f64| per_mm * 100.0 / density_per_cm2;
        let [lo, hi] = band_per_cm2;
        let band = SpeedBand {
            low_mm_s: at(hi) * (1.0 - tolerance),
            high_mm_s: at(lo) * (1.0 + tolerance),
        };
        (band.low_mm_s.is_finite() && band.high_mm_s.is_finite() && band.low_mm_s > 0.0)
            .then_some(band)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_is_the_speeds_that_give_the_target_density() {
        // The crosshatch demonstration: 14 needles at 117 Hz, lines 3 mm
        // apart, two passes: 400 mm/s gives 273 /cm².
        let b = SpeedBand::for_density(117.0, 14, 3.0, 2, [250.0, 300.0], 0.0).unwrap();
        assert!((b.low_mm_s - 364.0).abs() < 0.5, "{b:?}");
        assert!((b.high_mm_s - 436.8).abs() < 0.5, "{b:?}");
        let wide = SpeedBand::for_density(117.0, 14, 3.0, 2, [250.0, 300.0], 0.1).unwrap();
        assert!(wide.low_mm_s < b.low_mm_s && wide.high_mm_s > b.high_mm_s);
        assert!(SpeedBand::for_density(0.0, 14, 3.0, 2, [250.0, 300.0], 0.0).is_none());
    }
}
