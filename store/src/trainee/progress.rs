//! A trainee's progress, from their recorded sessions: every session, and
//! per rubric the attempts, each skill's trend (first → latest, best) and
//! the certification rule applied.
//!
//! Sessions count as on the same rubric when its name and content hash
//! match: a rubric file a trainer edits starts a new count, so no pass
//! against an easier version counts toward a harder one. A trainee is
//! certified on a rubric at the first attempt that ends a run of
//! `consecutive_passes` passes in a row on it; a fail between passes starts
//! the count again, and sessions on other rubrics neither break nor extend
//! it. Once certified, later fails do not take it away (they show in the
//! list).

use serde::Serialize;

use super::StoredSession;

/// Where the rule applied came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// The rubric's `[certification] consecutive_passes` (2 when it says
    /// nothing), as recorded with the sessions.
    Rubric,
    /// Given for this query (`penlab trainee --consecutive-passes N`).
    Override,
}

/// The certification rule applied to a rubric's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Passes in a row that certify.
    pub consecutive_passes: u32,
    /// Where that number came from.
    pub from: RuleSource,
}

/// Whether a trainee is certified on a rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Certified by the passes on attempts `first_attempt..=attempt`.
    Certified {
        /// The attempt (1 = the first on this rubric) that certified.
        attempt: u32,
        /// The first attempt of the run of passes that certified.
        first_attempt: u32,
        /// That attempt's session id.
        session: i64,
        /// When it was run, milliseconds since the Unix epoch.
        started_unix_ms: u64,
    },
    /// Not yet.
    NotCertified {
        /// Passes in a row at the end of the attempts so far.
        passes_in_a_row: u32,
        /// Passes in a row still needed.
        more_needed: u32,
    },
}

/// One session, in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionLine {
    /// Its id in the history.
    pub id: i64,
    /// When it was run, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The rubric's name.
    pub rubric: String,
    /// The rubric's content hash.
    pub rubric_sha256: String,
    /// Which attempt on that rubric it was, from 1.
    pub attempt: u32,
    /// Weighted total, 0–100.
    pub total: f64,
    /// Passed.
    pub passed: bool,
    /// The trainer, if given.
    pub trainer: Option<String>,
    /// The device, if given.
    pub device: Option<String>,
    /// The surface.
    pub surface: String,
    /// The tool profile.
    pub tool: String,
    /// The script or recording's path.
    pub script: String,
}

/// A skill's score (and measure) in one attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The attempt, from 1.
    pub attempt: u32,
    /// Score, 0–100.
    pub score: f64,
    /// The measure, in the skill's unit.
    pub value: f64,
}

/// One skill over a rubric's attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillTrend {
    /// The skill.
    pub skill: String,
    /// Its measure's unit.
    pub unit: String,
    /// In the first attempt that scored it.
    pub first: Point,
    /// In the latest.
    pub latest: Point,
    /// The best score (the earliest attempt on a tie).
    pub best: Point,
}

/// A trainee's attempts on one rubric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RubricProgress {
    /// The rubric's name.
    pub rubric: String,
    /// Its content hash.
    pub rubric_sha256: String,
    /// Attempts on it.
    pub attempts: u32,
    /// How many passed.
    pub passes: u32,
    /// The rule applied.
    pub rule: Rule,
    /// Each skill's trend, in the rubric's order.
    pub skills: Vec<SkillTrend>,
    /// Certified or not.
    pub certification: Status,
}

/// A trainee's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// The name, as recorded.
    pub trainee: String,
    /// Every session, oldest first.
    pub sessions: Vec<SessionLine>,
    /// Per rubric (name and hash), in the order first used.
    pub rubrics: Vec<RubricProgress>,
}

impl Progress {
    /// The rubrics the trainee is certified on.
    pub fn certified(&self) -> impl Iterator<Item = &RubricProgress> {
        self.rubrics
            .iter()
            .filter(|r| matches!(r.certification, Status::Certified { .. }))
    }
}

/// The progress shown by `sessions` (one trainee's, oldest first);
/// `rule` replaces every rubric's own certification rule.
pub fn progress(trainee: &str, sessions: &[StoredSession], rule: Option<u32>) -> Progress {
    let mut groups: Vec<(&str, &str, Vec<&StoredSession>)> = Vec::new();
    let mut lines = Vec::with_capacity(sessions.len());
    for s in sessions {
        let r = &s.session.rubric;
        let at = match groups
            .iter()
            .position(|(name, sha, _)| *name == r.name && *sha == r.sha256)
        {
            Some(i) => i,
            None => {
                groups.push((&r.name, &r.sha256, Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].2.push(s);
        let t = &s.session;
        lines.push(SessionLine {
            id: s.id,
            started_unix_ms: t.started_unix_ms,
            rubric: r.name.clone(),
            rubric_sha256: r.sha256.clone(),
            attempt: groups[at].2.len() as u32,
            total: t.total,
            passed: t.passed,
            trainer: t.trainer.clone(),
            device: t.device.clone(),
            surface: t.surface.clone(),
            tool: t.tool.clone(),
            script: t.script.path.clone(),
        });
    }
    let rubrics = groups
        .into_iter()
        .map(|(name, sha, attempts)| on_rubric(name, sha, &attempts, rule))
        .collect();
    Progress {
        trainee: trainee.to_owned(),
        sessions: lines,
        rubrics,
    }
}

fn on_rubric(
    name: &str,
    sha: &str,
    attempts: &[&StoredSession],
    rule: Option<u32>,
) -> RubricProgress {
    let rule = match rule {
        Some(n) => Rule {
            consecutive_passes: n.max(1),
            from: RuleSource::Override,
        },
        None => Rule {
            // One rubric text, one rule; the latest session's if edited by hand.
            consecutive_passes: attempts
                .last()
                .map_or(2, |s| s.session.rubric.consecutive_passes.max(1)),
            from: RuleSource::Rubric,
        },
    };
    let passed: Vec<bool> = attempts.iter().map(|s| s.session.passed).collect();
    let certification = certify(&passed, rule.consecutive_passes, |i| {
        (attempts[i].id, attempts[i].session.started_unix_ms)
    });
    RubricProgress {
        rubric: name.to_owned(),
        rubric_sha256: sha.to_owned(),
        attempts: attempts.len() as u32,
        passes: passed.iter().filter(|p| **p).count() as u32,
        rule,
        skills: trends(attempts),
        certification,
    }
}

/// Applies "`needed` passes in a row" to `passed` (attempts in order);
/// `which(i)` is attempt `i`'s session id and start.
fn certify(passed: &[bool], needed: u32, which: impl Fn(usize) -> (i64, u64)) -> Status {
    let mut run = 0u32;
    for (i, &p) in passed.iter().enumerate() {
        run = if p { run + 1 } else { 0 };
        if run >= needed {
            let (session, started_unix_ms) = which(i);
            return Status::Certified {
                attempt: i as u32 + 1,
                first_attempt: i as u32 + 2 - needed,
                session,
                started_unix_ms,
            };
        }
    }
    Status::NotCertified {
        passes_in_a_row: run,
        more_needed: needed - run,
    }
}

fn trends(attempts: &[&StoredSession]) -> Vec<SkillTrend> {
    let mut out: Vec<SkillTrend> = Vec::new();
    for (i, s) in attempts.iter().enumerate() {
        for k in &s.session.skills {
            let point = Point {
                attempt: i as u32 + 1,
                score: k.score,
                value: k.value,
            };
            match out.iter_mut().find(|t| t.skill == k.skill) {
                Some(t) => {
                    if k.score > t.best.score {
                        t.best = point.clone();
                    }
                    t.latest = point;
                }
                None => out.push(SkillTrend {
                    skill: k.skill.clone(),
                    unit: k.unit.clone(),
                    first: point.clone(),
                    latest: point.clone(),
                    best: point,
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(passed: &[bool], needed: u32) -> Status {
        certify(passed, needed, |i| (100 + i as i64, 1000 * i as u64))
    }

    #[test]
    fn two_passes_in_a_row_certify_and_a_fail_between_does_not() {
        let (t, f) = (true, false);
        assert_eq!(
            status(&[t, t], 2),
            Status::Certified {
                attempt: 2,
                first_attempt: 1,
                session: 101,
                started_unix_ms: 1000
            }
        );
        assert_eq!(
            status(&[t, f, t], 2),
            Status::NotCertified {
                passes_in_a_row: 1,
                more_needed: 1
            }
        );
        assert_eq!(
            status(&[f, t, f, t, t, f], 2),
            Status::Certified {
                attempt: 5,
                first_attempt: 4,
                session: 104,
                started_unix_ms: 4000
            },
            "a later fail does not take it away"
        );
        assert_eq!(
            status(&[t, t, f, t, t], 3),
            Status::NotCertified {
                passes_in_a_row: 2,
                more_needed: 1
            }
        );
        assert_eq!(
            status(&[], 2),
            Status::NotCertified {
                passes_in_a_row: 0,
                more_needed: 2
            }
        );
        assert!(matches!(
            status(&[f, t], 1),
            Status::Certified {
                attempt: 2,
                first_attempt: 2,
                ..
            }
        ));
    }
}
