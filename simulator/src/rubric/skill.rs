//! The skills a rubric scores, and how each is read from a report.

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// One skill of the trainee's technique, measured on the finished session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    /// Share of the treatment area inside the target density band, %.
    Coverage,
    /// Coefficient of variation of density over the treated area (0 is even).
    Evenness,
    /// Share of the treatment area below the gap threshold, %.
    Gaps,
    /// Share of the treatment area above the hot-spot threshold, %.
    HotSpots,
    /// Coefficient of variation of stroke speeds (0 is steady).
    SpeedConsistency,
    /// Share of the UV cells stroked that were crosshatched, %.
    Crosshatch,
    /// Share of punctures within their zone's depth limit, %.
    DepthCompliance,
}

impl Skill {
    /// Every skill, in report order.
    pub const ALL: [Skill; 7] = [
        Skill::Coverage,
        Skill::Evenness,
        Skill::Gaps,
        Skill::HotSpots,
        Skill::SpeedConsistency,
        Skill::Crosshatch,
        Skill::DepthCompliance,
    ];

    /// The name in rubric files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Skill::Coverage => "coverage",
            Skill::Evenness => "evenness",
            Skill::Gaps => "gaps",
            Skill::HotSpots => "hot_spots",
            Skill::SpeedConsistency => "speed_consistency",
            Skill::Crosshatch => "crosshatch",
            Skill::DepthCompliance => "depth_compliance",
        }
    }

    /// A heading for people.
    pub fn title(self) -> &'static str {
        match self {
            Skill::Coverage => "Coverage in band",
            Skill::Evenness => "Evenness",
            Skill::Gaps => "Gaps",
            Skill::HotSpots => "Hot spots",
            Skill::SpeedConsistency => "Speed consistency",
            Skill::Crosshatch => "Crosshatch",
            Skill::DepthCompliance => "Depth compliance",
        }
    }

    /// The unit of [`Skill::value`].
    pub fn unit(self) -> &'static str {
        match self {
            Skill::Evenness | Skill::SpeedConsistency => "CV",
            _ => "%",
        }
    }

    /// The skill's measure in a report.
    pub fn value(self, r: &Report) -> f64 {
        let share = |part: f64, whole: f64| {
            if whole > 0.0 {
                100.0 * part / whole
            } else {
                0.0
            }
        };
        let treatment = r.area.treatment_cm2;
        match self {
            Skill::Coverage => r.coverage * 100.0,
            Skill::Evenness => r.evenness_cv,
            Skill::Gaps => share(r.area.gap_cm2, treatment),
            Skill::HotSpots => share(r.area.hot_cm2, treatment),
            Skill::SpeedConsistency => r.passes.speed_cv,
            Skill::Crosshatch => {
                let cells: Vec<_> = r
                    .passes
                    .regions
                    .iter()
                    .filter(|g| g.region.starts_with("cell"))
                    .collect();
                let crossed = cells.iter().filter(|g| g.crosshatch).count();
                share(crossed as f64, cells.len() as f64)
            }
            Skill::DepthCompliance => {
                let punctures: u64 = r.depth.zones.iter().map(|z| z.punctures).sum();
                if punctures == 0 {
                    100.0
                } else {
                    100.0 - share(r.depth.violations as f64, punctures as f64)
                }
            }
        }
    }
}

impl std::fmt::Display for Skill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
