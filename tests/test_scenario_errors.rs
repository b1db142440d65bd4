//! A mistake in a scenario file, as `penlab test` shows it: the
//! `file:line:column: message` line, then the source line and a caret
//! under the step, and exit code 2 before anything runs.

mod common;

use common::{penlab, scratch};

#[test]
fn a_scenario_mistake_shows_its_line_and_a_caret() {
    let dir = scratch("scenario-caret");
    let bad = dir.join("typo.toml");
    std::fs::write(
        &bad,
        "[suite]\ntitle = \"x\"\n\n[[test]]\nid = \"a\"\ntitle = \"a\"\nsteps = [\n  { send = \"start\", within_ms = 5 },\n]\n",
    )
    .unwrap();
    let (code, out, err) = penlab(&["test", "--mock", "skinpen-like", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    let lines: Vec<&str> = err.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("typo.toml:8:3: unknown key `within_ms` in a `send` step; it takes send, expect, allow_out_of_limits"))
        .unwrap_or_else(|| panic!("{err}"));
    let source = lines[first + 1..]
        .iter()
        .find(|l| l.contains("8 |"))
        .unwrap_or_else(|| panic!("no source line: {err}"));
    assert!(
        source.ends_with("{ send = \"start\", within_ms = 5 },"),
        "{err}"
    );
    let caret = lines[first + 1..]
        .iter()
        .find(|l| l.contains('^'))
        .unwrap_or_else(|| panic!("no caret: {err}"));
    assert_eq!(caret.find('^'), source.find('{'), "{err}");
}

#[test]
fn a_where_filter_naming_no_field_is_refused_at_load() {
    // `stat` for `state`: before, it loaded, never matched, and was
    // reported as a failure of the pen's firmware.
    let dir = scratch("where-typo");
    let bad = dir.join("typo.toml");
    std::fs::write(
        &bad,
        "[suite]\ntitle = \"x\"\n\n[[test]]\nid = \"a\"\ntitle = \"a\"\nsteps = [\n  { await = \"status\", where = { stat = \"running\" } },\n]\n",
    )
    .unwrap();
    let (code, out, err) = penlab(&["test", "--mock", "skinpen-like", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    let source = "  { await = \"status\", where = { stat = \"running\" } },";
    let column = source.find("stat =").unwrap() + 1;
    assert!(
        err.contains(&format!(
            "typo.toml:8:{column}: `where` names `stat`, which Status does not have; it has the fields"
        )),
        "{err}"
    );
    assert!(err.contains("state"), "{err}");
}
