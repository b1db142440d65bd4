//! Technique cues on scripted passes: each cue fires when its fault is
//! scripted and stays silent on a good crosshatch at the right speed.

mod common;

use std::path::Path;
use std::sync::Arc;

use glam::{Quat, Vec3};
use penlab_simulator::cues::{CueConfig, CueKind, CueReport, CueSet, Cues, Observed};
use penlab_simulator::headless::simulate;
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::pose::Pose;
use penlab_simulator::script::Script;
use penlab_simulator::session::{Event, EventSink, Session, StrikeSource};
use penlab_simulator::surfaces::{ZoneLimits, builtin};
use penlab_simulator::tool::ToolProfiles;

use common::pad_crosshatch as pad_script;

fn cues_of(script: &Script, config: &CueConfig) -> CueReport {
    simulate(script, config)
        .unwrap()
        .analysis
        .report
        .cues
        .unwrap()
}

fn fired(report: &CueReport) -> Vec<(CueKind, u32)> {
    report
        .counts
        .iter()
        .filter(|(_, c)| c.fired > 0)
        .map(|(k, c)| (*k, c.fired))
        .collect()
}

#[test]
fn a_good_crosshatch_at_the_right_speed_fires_no_cue() {
    let report = cues_of(&pad_script(400.0, ""), &CueConfig::default());
    assert_eq!(fired(&report), vec![], "{report:?}");
    assert_eq!(report.enabled.len(), CueKind::ALL.len());
    // 2 passes × 117 Hz × 14 needles / (3 mm × 250–300 /cm²), ±10 %.
    let [lo, hi] = report.speed_band_mm_s.unwrap();
    assert!(
        (lo - 327.6).abs() < 1.0 && (hi - 480.5).abs() < 1.0,
        "{lo}–{hi}"
    );
}

#[test]
fn too_slow_and_too_fast_fire_the_speed_cues() {
    let slow = cues_of(&pad_script(200.0, ""), &CueConfig::default());
    assert!(slow.fired(CueKind::SpeedLow) > 0, "{slow:?}");
    assert_eq!(slow.fired(CueKind::SpeedHigh), 0);
    let fast = cues_of(&pad_script(800.0, ""), &CueConfig::default());
    assert!(fast.fired(CueKind::SpeedHigh) > 0, "{fast:?}");
    assert_eq!(fast.fired(CueKind::SpeedLow), 0);
    // About one episode per line (27 lines each way): the lift between lines ends it.
    for n in [
        slow.fired(CueKind::SpeedLow),
        fast.fired(CueKind::SpeedHigh),
    ] {
        assert!((40..=60).contains(&n), "{n} episodes: {slow:?} {fast:?}");
    }
}

#[test]
fn a_cue_switched_off_never_fires() {
    let config = CueConfig {
        enabled: CueSet::ALL.without(CueSet::named("speed").unwrap()),
        ..CueConfig::default()
    };
    let report = cues_of(&pad_script(200.0, ""), &config);
    assert_eq!(report.fired(CueKind::SpeedLow), 0);
    assert!(!report.enabled.contains(&CueKind::SpeedLow));
    assert!(report.enabled.contains(&CueKind::Dwell));
}

#[test]
fn tilt_beyond_the_limit_fires_and_within_it_does_not() {
    let leaning = cues_of(&pad_script(400.0, "tilt_deg = 25"), &CueConfig::default());
    assert!(leaning.fired(CueKind::Tilt) > 0, "{leaning:?}");
    let slight = cues_of(&pad_script(400.0, "tilt_deg = 10"), &CueConfig::default());
    assert_eq!(slight.fired(CueKind::Tilt), 0, "{slight:?}");
    let config = CueConfig {
        tilt_limit_deg: 5.0,
        ..CueConfig::default()
    };
    assert!(cues_of(&pad_script(400.0, "tilt_deg = 10"), &config).fired(CueKind::Tilt) > 0);
}

#[test]
fn depth_beyond_the_zone_limit_and_a_no_go_zone_fire() {
    let deep = cues_of(
        &pad_script(400.0, "[zones.pad]\nmax_depth_mm = 0.3"),
        &CueConfig::default(),
    );
    assert!(deep.fired(CueKind::Depth) > 0, "{deep:?}");
    assert_eq!(deep.fired(CueKind::NoGo), 0);
    let no_go = cues_of(
        &pad_script(400.0, "[zones.pad]\nmax_depth_mm = 0.0"),
        &CueConfig::default(),
    );
    assert!(no_go.fired(CueKind::NoGo) > 0, "{no_go:?}");
    assert_eq!(no_go.fired(CueKind::Depth), 0);
}

#[test]
fn passes_beyond_the_plan_fire_overlap() {
    // The trainer plans one crosshatch (2 passes); the trainee does it twice.
    let text = "[surface]\nbuiltin = \"flat-pad\"\ngrid = 256\n[tool]\nprofile = \"pen-14\"\n\
                [settings]\nrate_hz = 117\n[[pattern]]\nkind = \"crosshatch\"\n\
                area = { u = [0.1, 0.9], v = [0.1, 0.9] }\nspeed_mm_s = 400\nspacing_mm = 3.0\npasses = 2\n";
    let script = Script::parse(Path::new("twice.toml"), text).unwrap();
    let config = CueConfig {
        passes: Some(2),
        ..CueConfig::default()
    };
    let sim = simulate(&script, &config).unwrap();
    let report = sim.analysis.report.cues.unwrap();
    assert!(report.fired(CueKind::Overlap) > 20, "{report:?}");
    assert_eq!(
        report.fired(CueKind::SpeedLow) + report.fired(CueKind::SpeedHigh),
        0
    );
    // Only the second crosshatch re-treats: the first starts after half the run.
    let first = sim
        .cue_events
        .iter()
        .find(|e| e.cue == CueKind::Overlap && e.on)
        .unwrap();
    let end = sim.analysis.report.duration_s;
    assert!(
        first.t > end * 0.45,
        "first overlap at {} of {end} s",
        first.t
    );
    assert!(
        first.value >= first.limit && first.limit == 250.0,
        "{first:?}"
    );
}

#[test]
fn resting_the_pen_fires_dwell_not_speed() {
    let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 256).unwrap());
    let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("pen-14").unwrap());
    let mut session = Session::new(pad.clone(), tool.clone(), StrikeSource::Rate(117.0), 4);
    let mut cues = Cues::new(pad, tool, &MetricsConfig::default(), CueConfig::default());
    cues.set_nominal_rate_hz(117.0);
    let mut sink = Observed {
        session: &mut session,
        cues: &mut cues,
        events: Vec::new(),
    };
    let at = |t: f64, x: f32, force_n: f32| Pose {
        t,
        position: Vec3::new(x, 50.0, 0.0),
        orientation: Quat::IDENTITY,
        force_n,
        depth_mm: 0.5,
    };
    // A tenth of a second at 400 mm/s (in the band), then a second at rest, then lift.
    for k in 0..=20 {
        let t = f64::from(k) * 0.005;
        sink.push(&Event::Pose(at(t, 20.0 + 400.0 * t as f32, 2.0)));
    }
    for k in 1..=300 {
        sink.push(&Event::Pose(at(0.1 + f64::from(k) * 0.005, 60.0, 2.0)));
    }
    sink.push(&Event::Pose(at(1.6, 40.0, 0.0)));
    let events = sink.events.clone();
    let report = cues.report();
    assert_eq!(report.fired(CueKind::Dwell), 1, "{events:?}");
    let dwell = events.iter().find(|e| e.cue == CueKind::Dwell).unwrap();
    assert!(
        dwell.t > 0.1 && dwell.t < 0.6 && dwell.value > 450.0,
        "{dwell:?}"
    );
    assert!(dwell.message().contains("dwelling"), "{}", dwell.message());
    // Ended by the lift.
    assert!(
        events
            .iter()
            .any(|e| e.cue == CueKind::Dwell && !e.on && e.t == 1.6)
    );
    assert_eq!(report.fired(CueKind::SpeedHigh), 0, "{events:?}");
    // Resting is dwell, not "too slow".
    let slow_at_rest = events
        .iter()
        .any(|e| e.cue == CueKind::SpeedLow && e.on && e.t > 0.3);
    assert!(!slow_at_rest, "{events:?}");
}

#[test]
fn recorded_strikes_give_the_rate_the_band_is_judged_at() {
    let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 64).unwrap());
    let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("pen-14").unwrap());
    let mut session = Session::new(pad.clone(), tool.clone(), StrikeSource::Events, 4);
    let mut cues = Cues::new(pad, tool, &MetricsConfig::default(), CueConfig::default());
    let nominal = cues.speed_band().unwrap();
    let mut out = Vec::new();
    // Strikes at 58.5 Hz: half the tool's 117 Hz.
    for k in 0..20 {
        let e = Event::Strike {
            t: f64::from(k) / 58.5,
            depth_mm: None,
        };
        session.push(&e);
        cues.observe(&e, &session, &mut out);
    }
    let measured = cues.speed_band().unwrap();
    assert!((cues.rate_hz().unwrap() - 58.5).abs() < 0.01);
    assert!((measured.high_mm_s * 2.0 - nominal.high_mm_s).abs() < 1e-6);
}
