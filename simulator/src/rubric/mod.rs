//! A rubric the trainer owns: per-skill targets, acceptable ranges and
//! weights, and a pass mark (TOML; `rubrics/` ships a beginner and a
//! certification rubric). [`Rubric::score`] turns a [`Report`] into
//! [`Scores`]: 0–100 per skill, the weighted total, pass or fail.
//!
//! A skill scores 100 at its target and `edge_score` (default 60) at the
//! edge of its range on that side, linearly in between; beyond the edge it
//! falls on to 0 over the same distance again. The session passes when the
//! weighted total reaches `pass_mark` and, if `every_skill_in_range`, each
//! scored skill is inside its range.
//!
//! A rubric's `[certification]` section says how many passes in a row, on
//! this rubric, certify a trainee (`consecutive_passes`, default 2: the
//! surgical simulators' "proficiency on two consecutive attempts");
//! `penlab trainee NAME` applies it to the sessions in the history.

mod load;
mod skill;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::RubricError;
pub use skill::Skill;

use crate::report::Report;

/// The shipped rubrics by name, with their files' text.
pub const SHIPPED: [(&str, &str); 2] = [
    ("beginner", include_str!("../../rubrics/beginner.toml")),
    (
        "certification",
        include_str!("../../rubrics/certification.toml"),
    ),
];

/// The target of one skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillTarget {
    /// The ideal value (scores 100).
    pub target: f64,
    /// Acceptable values, inclusive.
    pub range: [f64; 2],
    /// Weight in the total (relative to the others).
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

fn edge_default() -> f64 {
    60.0
}

/// The passes in a row that certify, when a rubric does not say.
pub const DEFAULT_CONSECUTIVE_PASSES: u32 = 2;

/// The most passes in a row a rubric may ask for.
pub const MAX_CONSECUTIVE_PASSES: u32 = 100;

/// How a trainee is certified on a rubric (`[certification]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    /// Passes in a row, on this rubric, that certify (1 to 100).
    #[serde(default = "consecutive_default")]
    pub consecutive_passes: u32,
}

fn consecutive_default() -> u32 {
    DEFAULT_CONSECUTIVE_PASSES
}

impl Default for Certification {
    fn default() -> Certification {
        Certification {
            consecutive_passes: DEFAULT_CONSECUTIVE_PASSES,
        }
    }
}

/// A rubric file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Weighted total needed to pass, 0–100.
    pub pass_mark: f64,
    /// Score at the edge of a skill's range, 0–100.
    #[serde(default = "edge_default")]
    pub edge_score: f64,
    /// Also needs every scored skill inside its range to pass.
    #[serde(default)]
    pub every_skill_in_range: bool,
    /// How a trainee is certified on it.
    #[serde(default)]
    pub certification: Certification,
    /// The skills scored; those left out are not scored.
    pub skills: BTreeMap<Skill, SkillTarget>,
    /// Where it came from (not in the file).
    #[serde(skip)]
    pub source: PathBuf,
    /// SHA-256 of the file's text, lower-case hex (not in the file): two
    /// sessions were scored by the same rubric when name and hash match.
    #[serde(skip)]
    pub sha256: String,
}

/// One skill's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillScore {
    /// The skill.
    pub skill: Skill,
    /// Its measure in the session.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The rubric's target.
    pub target: f64,
    /// The rubric's acceptable range.
    pub range: [f64; 2],
    /// The rubric's weight.
    pub weight: f64,
    /// 0–100.
    pub score: f64,
    /// Inside the range.
    pub in_range: bool,
}

/// A session scored against a rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// The rubric's name.
    pub rubric: String,
    /// Its pass mark.
    pub pass_mark: f64,
    /// Weighted total, 0–100.
    pub total: f64,
    /// Passed.
    pub passed: bool,
    /// Per skill, in report order.
    pub skills: Vec<SkillScore>,
    /// Skills outside their range.
    pub out_of_range: Vec<Skill>,
}

impl Scores {
    /// The score of one skill, if the rubric scores it.
    pub fn skill(&self, skill: Skill) -> Option<&SkillScore> {
        self.skills.iter().find(|s| s.skill == skill)
    }
}

/// 100 at `target`, `edge` at the range's edge, 0 as far again beyond it.
pub fn skill_score(value: f64, target: f64, range: [f64; 2], edge: f64) -> f64 {
    let d = (value - target).abs();
    let width = if value < target {
        target - range[0]
    } else {
        range[1] - target
    };
    if d == 0.0 {
        return 100.0;
    }
    if width <= 0.0 || !d.is_finite() {
        return 0.0;
    }
    let s = if d <= width {
        100.0 - (100.0 - edge) * d / width
    } else {
        edge * (1.0 - (d - width) / width)
    };
    s.clamp(0.0, 100.0)
}

impl Rubric {
    /// A shipped rubric by name (`beginner`, `certification`).
    pub fn shipped(name: &str) -> Option<Result<Rubric, RubricError>> {
        SHIPPED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Rubric::parse(format!("rubrics/{n}.toml"), text))
    }

    /// A shipped rubric by name, else the rubric file at `spec`.
    pub fn find(spec: &str) -> Result<Rubric, RubricError> {
        match Rubric::shipped(spec) {
            Some(r) => r,
            None => Rubric::load(std::path::Path::new(spec)),
        }
    }

    /// Scores a finished session's report.
    pub fn score(&self, report: &Report) -> Scores {
        let skills: Vec<SkillScore> = self
            .skills
            .iter()
            .map(|(&skill, t)| {
                let value = skill.value(report);
                SkillScore {
                    skill,
                    value,
                    unit: skill.unit().into(),
                    target: t.target,
                    range: t.range,
                    weight: t.weight,
                    score: skill_score(value, t.target, t.range, self.edge_score),
                    // A hair of slack: values are sums of f32 texel areas.
                    in_range: value >= t.range[0] - 1e-9 && value <= t.range[1] + 1e-9,
                }
            })
            .collect();
        let weights: f64 = skills.iter().map(|s| s.weight).sum();
        let total = if weights > 0.0 {
            skills.iter().map(|s| s.score * s.weight).sum::<f64>() / weights
        } else {
            0.0
        };
        let out_of_range: Vec<Skill> = skills
            .iter()
            .filter(|s| !s.in_range)
            .map(|s| s.skill)
            .collect();
        Scores {
            rubric: self.name.clone(),
            pass_mark: self.pass_mark,
            total,
            passed: total + 1e-9 >= self.pass_mark
                && (!self.every_skill_in_range || out_of_range.is_empty()),
            skills,
            out_of_range,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skill_scores_100_at_target_the_edge_score_at_the_range_edge() {
        let r = [60.0, 100.0];
        assert_eq!(skill_score(90.0, 90.0, r, 60.0), 100.0);
        assert!((skill_score(60.0, 90.0, r, 60.0) - 60.0).abs() < 1e-9);
        assert!((skill_score(75.0, 90.0, r, 60.0) - 80.0).abs() < 1e-9);
        assert!((skill_score(100.0, 90.0, r, 60.0) - 60.0).abs() < 1e-9);
        // Beyond the low edge it falls to 0 over another 30.
        assert!((skill_score(45.0, 90.0, r, 60.0) - 30.0).abs() < 1e-9);
        assert_eq!(skill_score(10.0, 90.0, r, 60.0), 0.0);
        // Lower is better: target at the range's low end.
        assert!((skill_score(0.15, 0.0, [0.0, 0.3], 60.0) - 80.0).abs() < 1e-9);
    }

    #[test]
    fn the_shipped_rubrics_load() {
        for (name, _) in SHIPPED {
            let r = Rubric::shipped(name).unwrap().unwrap();
            assert_eq!(
                r.skills.len(),
                Skill::ALL.len(),
                "{name} scores every skill"
            );
        }
        assert!(Rubric::shipped("nope").is_none());
        let cert = Rubric::shipped("certification").unwrap().unwrap();
        assert_eq!(cert.certification.consecutive_passes, 2, "declared");
        assert_eq!(cert.sha256.len(), 64);
        let beginner = Rubric::shipped("beginner").unwrap().unwrap();
        assert_ne!(beginner.sha256, cert.sha256);
    }
}
