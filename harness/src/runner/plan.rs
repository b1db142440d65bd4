//! Which tests a run runs, in which order: every test of every suite, at
//! every point of its sweep, filtered by tag and by shard.

use crate::partition::Partition;
use crate::scenario::{Suite, Sweep, TestCase, Vars};

/// One test at one sweep point.
pub(crate) struct Instance<'a> {
    pub suite: &'a Suite,
    pub test: &'a TestCase,
    /// `depth=1250`, for swept tests.
    pub point: Option<(Sweep, f64)>,
    /// `suite::test[depth=1250]`.
    pub id: String,
}

impl Instance<'_> {
    /// The id within its suite: `test[depth=1250]`.
    pub fn test_id(&self) -> String {
        self.id
            .split_once("::")
            .map_or(self.id.clone(), |(_, id)| id.to_owned())
    }
}

/// The tests to run, swept and filtered, in suite order. Without the pen's
/// `vars` (it could not be reached) sweeps are not expanded.
pub(crate) fn plan<'a>(
    suites: &'a [Suite],
    vars: Option<&Vars>,
    tags: &[String],
    partition: Option<Partition>,
) -> Vec<Instance<'a>> {
    let mut all = Vec::new();
    for suite in suites {
        for test in &suite.tests {
            if !tags.is_empty() && !test.tags.iter().any(|t| tags.contains(t)) {
                continue;
            }
            let points: Vec<Option<(Sweep, f64)>> = match (test.sweep, vars) {
                (Some(sweep), Some(vars)) => vars
                    .sweep_points(sweep)
                    .into_iter()
                    .map(|p| Some((sweep, p)))
                    .collect(),
                _ => vec![None],
            };
            for point in points {
                let id = match point {
                    Some((Sweep::Depth, p)) => format!("{}::{}[depth={p}]", suite.name, test.id),
                    Some((Sweep::Rate, p)) => {
                        format!("{}::{}[rate={}Hz]", suite.name, test.id, p / 100.0)
                    }
                    None => format!("{}::{}", suite.name, test.id),
                };
                all.push(Instance {
                    suite,
                    test,
                    point,
                    id,
                });
            }
        }
    }
    match partition {
        Some(p) => all
            .into_iter()
            .enumerate()
            .filter(|(i, t)| p.includes(&t.id, *i))
            .map(|(_, t)| t)
            .collect(),
        None => all,
    }
}
