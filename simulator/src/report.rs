//! The end-of-session (or live) report, serialised as JSON.

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::cues::CueReport;
use crate::metrics::MetricsConfig;
use crate::rubric::Scores;
use crate::series::Series;

/// Format tag of the report.
pub const REPORT_FORMAT: &str = "penlab-coverage-report";

/// Everything measured in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Report format version, 1.
    pub version: u32,
    /// Surface name.
    pub surface: String,
    /// Tool profile name.
    pub tool: String,
    /// Density grid resolution (texels per side).
    pub grid: u32,
    /// Metric settings used.
    pub settings: MetricsConfig,
    /// Time covered by the pose stream, s.
    pub duration_s: f64,
    /// Poses fed.
    pub poses: u64,
    /// Strikes (including those that missed the skin).
    pub strikes: u64,
    /// Punctures made anywhere on the surface.
    pub punctures: u64,
    /// Punctures inside the treatment area.
    pub punctures_in_treatment_area: u64,
    /// Areas by density class, cm².
    pub area: AreaSummary,
    /// Share of the treatment area whose density is inside the target band, 0 to 1.
    pub coverage: f64,
    /// Punctures in the treatment area per cm² of it.
    pub mean_density_per_cm2: f64,
    /// Coefficient of variation of (window) density over the treated area
    /// (area-weighted standard deviation / mean); 0 is perfectly even.
    pub evenness_cv: f64,
    /// Untreated or badly under-treated places.
    pub gaps: RegionSet,
    /// Over-treated places.
    pub hot_spots: RegionSet,
    /// Strokes and passes.
    pub passes: PassReport,
    /// Penetration depths.
    pub depth: DepthReport,
    /// How often each technique cue fired, when cues were watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cues: Option<CueReport>,
    /// Speed, density under the tool and depth along the session, with
    /// their bands, when a headless run recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
    /// The scores against a trainer's rubric, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<Scores>,
}

/// Areas by density class, cm².
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaSummary {
    /// The treatment area (covered texels of the selected zones).
    pub treatment_cm2: f64,
    /// Where the density is above zero.
    pub treated_cm2: f64,
    /// Below the gap threshold.
    pub gap_cm2: f64,
    /// Between the gap threshold and the band.
    pub under_cm2: f64,
    /// Inside the band.
    pub in_band_cm2: f64,
    /// Above the band, below the hot-spot threshold.
    pub over_cm2: f64,
    /// Above the hot-spot threshold.
    pub hot_cm2: f64,
}

/// Connected places of one class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionSet {
    /// How many (at least `min_region_cm2` each).
    pub count: usize,
    /// Their total area, cm².
    pub total_area_cm2: f64,
    /// The largest, biggest first (at most `max_regions`).
    pub largest: Vec<Region>,
}

/// One connected place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Area, cm².
    pub area_cm2: f64,
    /// Area-weighted centroid in UV.
    pub centroid_uv: Vec2,
    /// Area-weighted centroid of its texels in 3D, mm (may lie off the
    /// surface for curved or ring-shaped regions).
    pub centroid_mm: Vec3,
    /// UV bounding box, min corner.
    pub uv_min: Vec2,
    /// UV bounding box, max corner.
    pub uv_max: Vec2,
    /// Zone holding most of it, if any.
    pub zone: Option<String>,
    /// Mean density inside, per cm².
    pub mean_density_per_cm2: f64,
}

/// Strokes and per-region passes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PassReport {
    /// Strokes (continuous contact without a sharp turn).
    pub strokes: u32,
    /// Total stroke length, mm.
    pub length_mm: f64,
    /// Mean stroke speed, mm/s.
    pub mean_speed_mm_s: f64,
    /// Coefficient of variation of stroke speeds.
    pub speed_cv: f64,
    /// Per region: UV cells, then zones; regions never visited are left out.
    pub regions: Vec<RegionPassReport>,
}

/// Passes over one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionPassReport {
    /// `cell r{row} c{col}` or `zone {name}`.
    pub region: String,
    /// Strokes that entered it.
    pub passes: u32,
    /// Length travelled in it, mm.
    pub length_mm: f64,
    /// Dominant stroke directions, degrees in [0, 180) from the +u axis.
    pub dominant_directions_deg: Vec<f32>,
    /// Two dominant direction families roughly perpendicular (90° ± 30°).
    pub crosshatch: bool,
}

/// Penetration depths.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DepthReport {
    /// Histogram bin width, mm; bin `i` holds depths in `[i·w, (i+1)·w)`,
    /// the last also everything deeper.
    pub bin_mm: f32,
    /// Counts per bin.
    pub histogram: Vec<u64>,
    /// Mean depth, mm.
    pub mean_mm: f64,
    /// Deepest, mm.
    pub max_mm: f32,
    /// Punctures deeper than their zone's limit.
    pub violations: u64,
    /// Per zone.
    pub zones: Vec<ZoneDepthReport>,
}

/// Depth in one zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneDepthReport {
    /// Zone name.
    pub zone: String,
    /// Recommended maximum, mm, if any.
    pub limit_mm: Option<f32>,
    /// Punctures in it.
    pub punctures: u64,
    /// Deepest, mm.
    pub max_mm: f32,
    /// Punctures deeper than the limit.
    pub violations: u64,
}
