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

/// Whether `text` matches `glob`: `*` any run of characters, `?` any one,
/// everything else itself. A glob without `::` matches the test id alone
/// (`depth-*` finds `accuracy::depth-accuracy[depth=0]`).
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    fn matches(g: &[char], t: &[char]) -> bool {
        match (g.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&g[1..], t) || (!t.is_empty() && matches(g, &t[1..])),
            (Some('?'), Some(_)) => matches(&g[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => matches(&g[1..], &t[1..]),
            _ => false,
        }
    }
    let text = if glob.contains("::") {
        text
    } else {
        text.split_once("::").map_or(text, |(_, id)| id)
    };
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // A glob names a test with or without its sweep point.
    let base: Vec<char> = text.split('[').next().unwrap_or(text).chars().collect();
    matches(&g, &t) || matches(&g, &base)
}

/// The tests to run, swept and filtered, in suite order. Without the pen's
/// `vars` (it could not be reached) sweeps are not expanded.
pub(crate) fn plan<'a>(
    suites: &'a [Suite],
    vars: Option<&Vars>,
    tags: &[String],
    filters: &[String],
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
                if !filters.is_empty() && !filters.iter().any(|g| glob_matches(g, &id)) {
                    continue;
                }
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

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn globs_match_ids_with_or_without_the_suite_and_sweep() {
        assert!(glob_matches("depth-*", "accuracy::depth-accuracy[depth=0]"));
        assert!(glob_matches("accuracy::*", "accuracy::ack-latency"));
        assert!(glob_matches(
            "commands::set-depth",
            "commands::set-depth[depth=250]"
        ));
        assert!(glob_matches(
            "*::hello-?hile-running",
            "handshake::hello-while-running"
        ));
        assert!(!glob_matches("watchdog::*", "accuracy::ack-latency"));
        assert!(!glob_matches("set-depth", "commands::set-depth-x"));
    }
}
