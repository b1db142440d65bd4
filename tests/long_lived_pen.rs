//! The whole shipped suite, in real time, against ONE long-lived pen per
//! shipped profile: a `penlab mock --pty` process that keeps its state from
//! one test to the next, as a real pen does (issue 15). A test that leans
//! on what an earlier one left behind, or on the mock starting fresh, fails
//! here. The timing rules of §8 are checked in real time on this machine,
//! as the mock meets them.

mod common;

use common::{MockPen, penlab};

/// Every profile shipped in `firmware-mock/profiles/`, by path.
fn shipped_profiles() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/firmware-mock/profiles");
    let mut paths: Vec<String> = std::fs::read_dir(dir)
        .expect("the profiles directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn the_suite_passes_against_one_long_lived_pen_per_profile() {
    let profiles = shipped_profiles();
    assert!(profiles.len() >= 4, "{profiles:?}");
    for profile in &profiles {
        let mut pen = MockPen::start(profile);
        // One retry: a real-time run on a shared 2-core machine can lose a
        // deadline to the scheduler; a retry that passes shows as FLAKY.
        let (code, out, err) = penlab(&["test", "--port", &pen.port, "--retries", "1"]);
        for flaky in out.lines().filter(|l| l.starts_with("FLAKY ")) {
            eprintln!("{profile}: {flaky}");
        }
        pen.terminate();
        assert_eq!(code, 0, "{profile}:\n{out}{err}");
        let summary = out
            .lines()
            .find(|l| l.contains(" passed, "))
            .unwrap_or_else(|| panic!("{profile}: no summary in\n{out}"));
        assert!(
            summary.contains(" 0 failed, "),
            "{profile}: {summary}\n{out}"
        );
        assert!(summary.contains(" 0 error(s)"), "{profile}: {summary}");
        let passed: usize = summary
            .split(" passed")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{profile}: {summary}"));
        assert!(passed >= 35, "{profile}: {summary}");
        // A pen behind a port has no environment channel: only the tests
        // that need one, or a feature the pen lacks, are skipped.
        for skip in out.lines().filter(|l| l.starts_with("SKIP ")) {
            assert!(
                skip.contains("environment channel") || skip.contains("does not declare"),
                "{profile}: {skip}"
            );
        }
    }
}
