//! The JUnit files of real `penlab test` runs are valid against the
//! Jenkins/Surefire schema `junit-10.xsd` (harness/tests/schema/), checked
//! with `xmllint --schema`: a passing run, a run with failures (a planted
//! bug) and a run with a skip. Requirement IDs and measurements stay where
//! consumers show them: the case's `<system-out>` and the suite's
//! properties.

mod common;

use common::{penlab, scratch};

use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/harness/tests/schema/junit-10.xsd"
);

/// Whether xmllint and the schema are here (`harness/tests/schema/fetch.sh`
/// downloads the schema; CI runs it and installs xmllint, so there a missing
/// one fails instead of skipping).
fn can_validate() -> bool {
    let xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    let schema = Path::new(SCHEMA).is_file();
    if !(xmllint && schema) {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint or {SCHEMA} missing on CI"
        );
        eprintln!(
            "not validated: xmllint {xmllint}, schema {schema} (run harness/tests/schema/fetch.sh)"
        );
    }
    xmllint && schema
}

/// `xmllint --schema`: Ok, or its complaints.
fn validate(file: &Path) -> Result<(), String> {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", SCHEMA])
        .arg(file)
        .output()
        .expect("xmllint runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `penlab test --mock PROFILE [ARGS] --junit FILE`: the file, and the
/// exit code.
fn run(dir: &Path, name: &str, profile: &str, args: &[&str]) -> (PathBuf, i32, String) {
    let junit = dir.join(format!("{name}.xml"));
    let mut all = vec![
        "test",
        "--mock",
        profile,
        "--junit",
        junit.to_str().unwrap(),
    ];
    all.extend(args);
    let (code, out, err) = penlab(&all);
    assert!(junit.is_file(), "no JUnit file: {out}{err}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    (junit, code, xml)
}

#[test]
fn the_schema_refuses_what_the_old_report_wrote() {
    if !can_validate() {
        return;
    }
    let dir = scratch("junit-old");
    let old = dir.join("old.xml");
    std::fs::write(
        &old,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="penlab" tests="1" skipped="0" failures="0" errors="0">
    <testsuite name="s" tests="1" skipped="0" errors="0" failures="0">
        <testcase name="c" classname="s" time="0.001">
            <properties><property name="requirement" value="R-1"/></properties>
        </testcase>
    </testsuite>
</testsuites>
"#,
    )
    .unwrap();
    let err = validate(&old).unwrap_err();
    assert!(err.contains("'skipped' is not allowed"), "{err}");
    assert!(
        err.contains("'properties': This element is not expected"),
        "{err}"
    );
}

#[test]
fn a_passing_run_is_valid_and_keeps_requirements_and_measurements() {
    if !can_validate() {
        return;
    }
    let dir = scratch("junit-pass");
    let (file, code, xml) = run(&dir, "pass", "dermapen4-like", &[]);
    assert_eq!(code, 0, "{xml}");
    validate(&file).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(!xml.contains("<failure"), "{xml}");
    // In the case's output, where CI front ends show it, and in the suite's
    // properties, named after the case.
    assert!(
        xml.contains(
            "<system-out>simulated_duration_s: 1.800\nrequirement: 21 CFR 878.4430(b)(2)(i)\n"
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<property name="depth-accuracy[depth=200].requirement" value="PENLAB-ACC-DEPTH"/>"#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<property name="depth-accuracy[depth=200].measurement.depth" value="depth = "#
        ),
        "{xml}"
    );
    assert!(xml.contains("\nmeasurement.depth: depth = "), "{xml}");
    assert!(
        xml.contains(r#"<property name="device.serial" value="PL16-004017"/>"#),
        "{xml}"
    );
}

#[test]
fn a_run_with_failures_and_a_skip_is_valid() {
    if !can_validate() {
        return;
    }
    let dir = scratch("junit-fail");
    let (file, code, xml) = run(
        &dir,
        "bug",
        "exceed-like",
        &["--bug", "depth-off-by-one-step"],
    );
    assert_eq!(code, 1, "the planted bug fails the run\n{xml}");
    validate(&file).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(xml.contains(r#"<failure message=""#), "{xml}");
    assert!(xml.contains("<skipped message="), "{xml}");
    let root = &xml[xml.find("<testsuites").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    assert!(!root.contains("skipped="), "{root}");
    assert!(root.contains(r#"failures="3""#), "{root}");
}

#[test]
fn a_run_with_a_skip_is_valid() {
    if !can_validate() {
        return;
    }
    let dir = scratch("junit-skip");
    let (file, code, xml) = run(&dir, "skip", "exceed-like", &[]);
    assert_eq!(code, 0, "{xml}");
    validate(&file).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(
        xml.contains(r#"skipped="1""#) && xml.contains("<skipped message="),
        "{xml}"
    );
}
