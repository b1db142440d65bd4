//! The MUST table of `harness/conformance/README.md` is complete and true:
//! every requirement of `protocol/REQUIREMENTS.md` has a row, every test a
//! row names exists in the shipped suite, "every test" is claimed exactly
//! for the requirements the per-test rules check, an unchecked row says
//! why, and the counts stated above the table add up.

use std::collections::BTreeSet;

use penlab_harness::scenario::{load_suites, shipped_suite_dir};
use penlab_harness::transcript::rules::EVERY_TEST;

fn read(rel: &str) -> String {
    let path = format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The identifiers of `REQUIREMENTS.md`, in order.
fn requirement_ids() -> Vec<String> {
    read("protocol/REQUIREMENTS.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| R-"))
        .map(|rest| format!("R-{}", rest.split(' ').next().unwrap_or_default()))
        .collect()
}

/// The table's rows: identifier, "checked by" cell, note.
fn rows() -> Vec<(String, String, String)> {
    read("harness/conformance/README.md")
        .lines()
        .filter(|l| l.starts_with("| R-"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            assert!(cells.len() >= 7, "a row of five cells: {l}");
            (
                cells[1].to_owned(),
                cells[4].to_owned(),
                cells[5].to_owned(),
            )
        })
        .collect()
}

/// The `suite::test` names in a cell.
fn named_tests(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_requirement_has_one_row() {
    let ids = requirement_ids();
    assert_eq!(ids.len(), 104, "REQUIREMENTS.md lists 104");
    let table: Vec<String> = rows().into_iter().map(|(id, _, _)| id).collect();
    for id in &ids {
        let n = table.iter().filter(|t| *t == id).count();
        assert_eq!(n, 1, "{id} appears {n} times in the MUST table");
    }
    for id in &table {
        assert!(
            ids.contains(id),
            "{id} is in the table but not a requirement"
        );
    }
}

#[test]
fn every_named_test_exists() {
    let suites = load_suites(&[shipped_suite_dir()]).expect("the shipped suite loads");
    let known: BTreeSet<String> = suites
        .iter()
        .flat_map(|s| s.tests.iter().map(move |t| format!("{}::{}", s.name, t.id)))
        .collect();
    for (id, by, _) in rows() {
        for test in named_tests(&by) {
            assert!(known.contains(&test), "{id}: no test {test}");
        }
    }
}

#[test]
fn every_test_is_claimed_exactly_where_the_rules_check() {
    for (id, by, _) in rows() {
        let claimed = by.contains("every test");
        let checked = EVERY_TEST.contains(&id.as_str());
        assert_eq!(
            claimed, checked,
            "{id}: the table says every test {claimed}, the rules {checked}"
        );
    }
}

#[test]
fn an_unchecked_row_says_why_and_the_counts_add_up() {
    let rows = rows();
    let mut unchecked = 0;
    for (id, by, note) in &rows {
        if named_tests(by).is_empty() && !by.contains("every test") {
            assert!(
                by.starts_with("unchecked: "),
                "{id}: checked by nothing: {by}"
            );
            assert!(note.len() > 10, "{id}: unchecked without a reason");
            unchecked += 1;
        } else {
            assert!(!by.starts_with("unchecked"), "{id}: {by}");
        }
    }
    let readme = read("harness/conformance/README.md");
    let stated = format!(
        "**{} requirements: {} checked, {unchecked} unchecked**",
        rows.len(),
        rows.len() - unchecked
    );
    assert!(readme.contains(&stated), "the README should say {stated}");
}
