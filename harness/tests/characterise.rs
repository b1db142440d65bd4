//! The accuracy study against the mock pen in virtual time: the grid
//! follows the pen's declared range, the numbers follow its physics, a
//! planted depth bug fails every point, the same seed gives the same
//! study, and the outputs (CSV, JSON, PNG and SVG plots) are written.

use std::time::Duration;

use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::profile::Profile;
use penlab_harness::characterise::{self, Characterisation, StudyPlan};
use penlab_harness::measure::Verdict;
use penlab_harness::runner::{Interrupt, Target};

fn study(profile: &str, bugs: &[PlantedBug], plan: &StudyPlan) -> Characterisation {
    let target = Target::mock(
        Profile::builtin(profile).expect("a shipped profile"),
        profile,
        bugs.iter().copied().collect::<BugSet>(),
        7,
        true,
    );
    characterise::run(&target, plan, &[], &Interrupt::never(), None).expect("the study starts")
}

fn small_plan() -> StudyPlan {
    StudyPlan {
        depths: Some(vec![200, 1_500, 3_000]),
        rates_hz: Some(vec![60.0, 120.0]),
        strokes: 30,
        settle: Duration::from_millis(800),
        ..StudyPlan::default()
    }
}

#[test]
fn a_sound_pen_passes_every_point_with_real_numbers() {
    let s = study("dermapen4-like", &[], &small_plan());
    assert_eq!(s.error, None);
    assert_eq!(s.points.len(), 6);
    assert_eq!(s.declared.as_ref().unwrap().depth_um, [200, 3_000, 100]);
    assert_eq!(s.device.as_ref().unwrap().serial, "PL16-004017");
    for p in &s.points {
        assert_eq!(p.strokes, 30, "{p:?}");
        let d = p.depth.unwrap();
        let r = p.rate.unwrap();
        // The mock lands within ~10 µm and strokes vary by ~4 µm.
        assert!((d.mean - f64::from(p.set.depth_um)).abs() < 30.0, "{p:?}");
        assert!(d.sd > 0.0 && d.sd < 15.0, "{p:?}");
        assert!(
            d.max_error.abs() >= (d.mean - f64::from(p.set.depth_um)).abs(),
            "{p:?}"
        );
        assert!(
            (r.mean - p.set.rate_hz()).abs() / p.set.rate_hz() < 0.02,
            "{p:?}"
        );
        assert_ne!(p.verdict, Verdict::Fail, "{p:?}");
    }
    assert_eq!(s.exit_code(), 0);
    assert!(
        s.teardown.starts_with("Stop answered: Ack"),
        "{}",
        s.teardown
    );
}

#[test]
fn the_default_grid_is_every_declared_depth_at_three_rates() {
    let plan = StudyPlan {
        strokes: 5,
        settle: Duration::from_millis(300),
        ..StudyPlan::default()
    };
    let s = study("dermapen4-like", &[], &plan);
    assert_eq!(s.error, None);
    // 200..=3000 µm in 100 µm steps; 60, 90 and 120 Hz.
    assert_eq!(s.points.len(), 29 * 3);
    let rates: Vec<f64> = s.points[..3].iter().map(|p| p.set.rate_hz()).collect();
    assert_eq!(rates, [60.0, 90.0, 120.0]);
}

#[test]
fn a_depth_one_step_deep_fails_every_point() {
    let s = study(
        "dermapen4-like",
        &[PlantedBug::DepthOffByOneStep],
        &small_plan(),
    );
    assert_eq!(s.error, None);
    for p in &s.points {
        assert_eq!(p.depth_verdict, Verdict::Fail, "{p:?}");
        assert!(p.depth.unwrap().max_error > 50.0, "{p:?}");
    }
    assert_eq!(s.verdict, Verdict::Fail);
    assert_eq!(s.exit_code(), 1);
}

#[test]
fn tight_limits_make_points_marginal_not_failed() {
    let mut plan = small_plan();
    plan.limits.depth_abs_um = 50.0;
    plan.limits.depth_marginal_um = Some(0.5);
    let s = study("dermapen4-like", &[], &plan);
    assert!(
        s.points
            .iter()
            .all(|p| p.depth_verdict == Verdict::Marginal)
    );
    assert_eq!(s.verdict, Verdict::Marginal);
    assert_eq!(s.exit_code(), 0);
    assert_eq!(s.counts(), (0, 6, 0));
}

#[test]
fn the_same_seed_gives_the_same_study_and_its_outputs() {
    let a = study("dermapen4-busy", &[], &small_plan());
    let b = study("dermapen4-busy", &[], &small_plan());
    assert_eq!(
        a.error, None,
        "a busy drive is asked again until it takes the depth"
    );
    assert_eq!(a.points, b.points);
    let dir = std::env::temp_dir().join(format!("penlab-characterise-{}", std::process::id()));
    let files = a.write(&dir).unwrap();
    assert_eq!(
        files,
        [
            "characterisation.csv",
            "characterisation.json",
            "depth-error.png",
            "depth-error.svg",
            "rate-error.png",
            "rate-error.svg"
        ]
    );
    let csv = std::fs::read_to_string(dir.join("characterisation.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(
        csv.lines().nth(1).unwrap().starts_with("200,60,30,"),
        "{csv}"
    );
    let text = std::fs::read_to_string(dir.join("characterisation.json")).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&a).unwrap());
    let back: Characterisation = serde_json::from_str(&text).unwrap();
    assert_eq!((back.points.len(), back.device), (6, a.device.clone()));
    let png = std::fs::read(dir.join("depth-error.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let svg = std::fs::read_to_string(dir.join("rate-error.svg")).unwrap();
    assert!(
        svg.contains("Rate error against set rate") && svg.contains("limit ±3"),
        "{svg:.300}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
