//! Reading a rubric file; every mistake is shown at its place in the file
//! (penlab-diagnostics: file:line:column, the source line and a caret).

use std::ops::Range;
use std::path::{Path, PathBuf};

use penlab_diagnostics::{SourceError, toml_value_span};

use sha2::{Digest, Sha256};

use super::{MAX_CONSECUTIVE_PASSES, Rubric};

/// A rubric that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RubricError {
    /// The file could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// The file is malformed at a known place.
    #[error("{0}")]
    Source(Box<SourceError>),
}

impl Rubric {
    /// Reads a rubric file.
    pub fn load(path: &Path) -> Result<Rubric, RubricError> {
        let text = std::fs::read_to_string(path).map_err(|error| RubricError::Io {
            path: path.to_owned(),
            error,
        })?;
        Rubric::parse(path, &text)
    }

    /// Parses rubric text; `path` names it in errors.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Rubric, RubricError> {
        let path = path.into();
        let mut rubric: Rubric = toml::from_str(text)
            .map_err(|e| RubricError::Source(Box::new(SourceError::from_toml(&path, text, &e))))?;
        rubric.source = path.clone();
        rubric.sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        rubric.check(&path, text)?;
        Ok(rubric)
    }

    fn check(&self, path: &Path, text: &str) -> Result<(), RubricError> {
        let at = |keys: &[&str], message: String| {
            let span: Range<usize> = toml_value_span(text, keys).unwrap_or(0..0);
            Err(RubricError::Source(Box::new(SourceError::new(
                path, text, span, message,
            ))))
        };
        if !(0.0..=100.0).contains(&self.pass_mark) {
            return at(&["pass_mark"], "pass_mark must be within 0 to 100".into());
        }
        if !(0.0..=100.0).contains(&self.edge_score) {
            return at(&["edge_score"], "edge_score must be within 0 to 100".into());
        }
        let n = self.certification.consecutive_passes;
        if !(1..=MAX_CONSECUTIVE_PASSES).contains(&n) {
            return at(
                &["certification", "consecutive_passes"],
                format!("consecutive_passes must be within 1 to {MAX_CONSECUTIVE_PASSES}"),
            );
        }
        if self.skills.is_empty() {
            return at(
                &["skills"],
                "a rubric scores at least one skill ([skills.coverage] …)".into(),
            );
        }
        for (skill, t) in &self.skills {
            let name = skill.name();
            let [lo, hi] = t.range;
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return at(
                    &["skills", name, "range"],
                    format!("{name}: range must be [low, high] with low ≤ high"),
                );
            }
            if !(t.target.is_finite() && lo <= t.target && t.target <= hi) {
                return at(
                    &["skills", name, "target"],
                    format!(
                        "{name}: target {} is outside its range [{lo}, {hi}]",
                        t.target
                    ),
                );
            }
            if !(t.weight.is_finite() && (0.0..=1000.0).contains(&t.weight)) {
                return at(
                    &["skills", name, "weight"],
                    format!("{name}: weight must be within 0 to 1000"),
                );
            }
            let bound = if skill.unit() == "%" { 100.0 } else { 10.0 };
            if lo < 0.0 || hi > bound {
                return at(
                    &["skills", name, "range"],
                    format!(
                        "{name}: range must lie within 0 to {bound} {}",
                        skill.unit()
                    ),
                );
            }
        }
        if self.skills.values().all(|t| t.weight == 0.0) {
            return at(
                &["skills"],
                "at least one skill needs a weight above 0".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::Skill;

    const GOOD: &str = "name = \"t\"\npass_mark = 70\n\n[skills.coverage]\ntarget = 90\nrange = [60, 100]\nweight = 2\n";

    #[test]
    fn mistakes_show_their_line_and_a_caret() {
        assert!(Rubric::parse("r.toml", GOOD).is_ok());
        let cases = [
            (GOOD.replace("[60, 100]", "[100, 60]"), 6, "range"),
            (GOOD.replace("target = 90", "target = 50"), 5, "target 50"),
            (GOOD.replace("coverage", "covrage"), 4, "covrage"),
            (
                GOOD.replace("pass_mark = 70", "pass_mark = 170"),
                2,
                "pass_mark",
            ),
            (GOOD.replace("weight = 2", "weight = -1"), 7, "weight"),
            (GOOD.replace("weight = 2", "wieght = 2"), 7, "wieght"),
            (
                format!("{GOOD}[certification]\nconsecutive_passes = 0\n"),
                9,
                "consecutive_passes must be within 1 to 100",
            ),
            (
                format!("{GOOD}[certification]\nconsecutve_passes = 3\n"),
                9,
                "consecutve_passes",
            ),
        ];
        for (text, line, says) in cases {
            let err = Rubric::parse("r.toml", &text).unwrap_err();
            let RubricError::Source(e) = &err else {
                panic!("{err}")
            };
            assert_eq!(e.location().line, line, "{err}");
            let shown = err.to_string();
            assert!(shown.starts_with(&format!("r.toml:{line}:")), "{shown}");
            assert!(shown.contains(says), "{shown}");
            assert!(shown.contains('^'), "a caret: {shown}");
            let source_line = text.lines().nth(line - 1).unwrap();
            assert!(shown.contains(source_line), "{shown}");
        }
    }

    #[test]
    fn the_certification_rule_defaults_to_two_and_the_hash_follows_the_text() {
        let plain = Rubric::parse("r.toml", GOOD).unwrap();
        assert_eq!(plain.certification.consecutive_passes, 2);
        let three = format!("{GOOD}[certification]\nconsecutive_passes = 3\n");
        let three = Rubric::parse("r.toml", &three).unwrap();
        assert_eq!(three.certification.consecutive_passes, 3);
        assert_ne!(plain.sha256, three.sha256);
        // SHA-256 of the text, as `sha256sum` gives it for GOOD's bytes.
        assert_eq!(
            plain.sha256,
            "4a6041203d6db4fc7a578127ea29fa1674fb04fb10543ee9be7fab622d33a381"
        );
        assert_eq!(
            Rubric::parse("other.toml", GOOD).unwrap().sha256,
            plain.sha256,
            "the path is not hashed"
        );
    }

    #[test]
    fn every_skill_has_a_name_a_rubric_file_accepts() {
        for skill in Skill::ALL {
            let text = format!(
                "name = \"t\"\npass_mark = 50\n[skills.{}]\ntarget = 0\nrange = [0, 1]\n",
                skill.name()
            );
            let r = Rubric::parse("r.toml", &text).unwrap();
            assert!(r.skills.contains_key(&skill));
        }
    }
}
