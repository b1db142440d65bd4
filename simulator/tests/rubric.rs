//! The shipped rubrics against scripted sessions: the crosshatch
//! demonstration passes both, a raster with gaps between its lines fails
//! with the skills at fault named.

use std::path::Path;

use penlab_simulator::cues::CueConfig;
use penlab_simulator::headless::simulate;
use penlab_simulator::rubric::{Rubric, Skill};
use penlab_simulator::script::Script;

fn report(script: &Script) -> penlab_simulator::report::Report {
    simulate(script, &CueConfig::default())
        .unwrap()
        .analysis
        .report
}

#[test]
fn the_crosshatch_demonstration_passes_both_shipped_rubrics() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/crosshatch-pad.toml");
    let mut script = Script::load(&path).unwrap();
    script.spec.surface.grid = 256;
    let r = report(&script);
    for name in ["beginner", "certification"] {
        let scores = Rubric::shipped(name).unwrap().unwrap().score(&r);
        assert!(scores.passed, "{name}: {scores:?}");
        assert!(scores.out_of_range.is_empty(), "{name}: {scores:?}");
        let crosshatch = scores.skill(Skill::Crosshatch).unwrap();
        assert_eq!((crosshatch.value, crosshatch.score), (100.0, 100.0));
    }
}

#[test]
fn a_raster_with_gaps_fails_naming_coverage_gaps_and_crosshatch() {
    let text = "[surface]\nbuiltin = \"flat-pad\"\ngrid = 256\n[tool]\nprofile = \"pen-14\"\n\
                [settings]\nrate_hz = 117\n[[pattern]]\nkind = \"raster\"\nspeed_mm_s = 250\nspacing_mm = 6.0\n";
    let script = Script::parse(Path::new("poor.toml"), text).unwrap();
    let r = report(&script);
    let scores = Rubric::shipped("beginner").unwrap().unwrap().score(&r);
    assert!(!scores.passed, "{scores:?}");
    assert!(scores.total < scores.pass_mark);
    for skill in [Skill::Coverage, Skill::Gaps, Skill::Crosshatch] {
        assert!(scores.out_of_range.contains(&skill), "{skill}: {scores:?}");
    }
    // Nothing went too deep: that skill is full marks.
    assert_eq!(scores.skill(Skill::DepthCompliance).unwrap().score, 100.0);
}

#[test]
fn every_skill_in_range_can_fail_a_session_whose_total_passes() {
    let text = "name = \"strict\"\npass_mark = 10\nevery_skill_in_range = true\n\
                [skills.coverage]\ntarget = 100\nrange = [99, 100]\nweight = 1\n\
                [skills.depth_compliance]\ntarget = 100\nrange = [90, 100]\nweight = 9\n";
    let strict = Rubric::parse("strict.toml", text).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/crosshatch-pad.toml");
    let mut script = Script::load(&path).unwrap();
    script.spec.surface.grid = 128;
    let scores = strict.score(&report(&script));
    assert!(scores.total > 10.0);
    assert!(!scores.passed);
    assert_eq!(scores.out_of_range, vec![Skill::Coverage]);
}
