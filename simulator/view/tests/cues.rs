//! The view's technique cues are the engine's, fed by the view's own
//! session: a slow stroke turns the speed-low cue on in the view's cue
//! resource and counts it; a cue switched off there stops firing and keeps
//! its count; switched on again it fires again. The session runs in a Bevy
//! app without rendering (`MinimalPlugins`); poses go in the way input's
//! do, through `PendingPoses`, with the session's times.

use std::sync::Arc;

use bevy::prelude::*;
use penlab_simulator::cues::{CueConfig, CueKind};
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::pose::{Pose, orientation_facing};
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::ToolProfiles;
use penlab_view::ViewOptions;
use penlab_view::cues::{CuesPlugin, LiveCues};
use penlab_view::pen::{Live, PenPlugin, PendingPoses};

fn options() -> ViewOptions {
    let surface = surfaces::builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 256).unwrap();
    let tool = ToolProfiles::shipped().unwrap().tool("pen-14").unwrap();
    ViewOptions {
        force_n: tool.profile.full_contact_force_n,
        surface: Arc::new(surface),
        tool: Arc::new(tool),
        metrics: MetricsConfig::default(),
        pass_cells: 4,
        // No pen: the tool strikes at its own rate (117 Hz).
        pen: None,
        reattach: None,
        depth_mm: 0.5,
        rate_hz: None,
        demo: None,
        record: None,
        screenshot: None,
        quit_after_s: None,
        export_dir: std::env::temp_dir(),
        cues: CueConfig::default(),
        rubric: None,
    }
}

fn app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(PenPlugin { options: options() })
        .add_plugins(CuesPlugin);
    app.finish();
    app.cleanup();
    app
}

/// Plays strokes into the view's session ten poses (0.1 s) a frame.
struct Hand {
    t: f64,
}

impl Hand {
    /// One stroke along v = `v` from u = 0.3 at `speed_mm_s` for
    /// `seconds`, then a lift; `each_frame` runs after every frame.
    fn stroke(
        &mut self,
        app: &mut App,
        v: f32,
        speed_mm_s: f32,
        seconds: f64,
        mut each_frame: impl FnMut(&mut App, f64),
    ) {
        let surface = app
            .world()
            .resource::<Live>()
            .0
            .coverage
            .session()
            .surface()
            .clone();
        let start = surface.point_at_uv(Vec2::new(0.3, v)).unwrap();
        let travel = Vec3::X;
        let orientation = orientation_facing(start.normal, travel);
        let force_n = 2.0;
        let steps = (seconds / 0.01).round() as usize;
        let t0 = self.t;
        for k in 0..=steps {
            let dt = k as f64 * 0.01;
            let pose = Pose {
                t: t0 + dt,
                position: start.position + travel * speed_mm_s * dt as f32,
                orientation,
                force_n: if k == steps { 0.0 } else { force_n },
                depth_mm: 0.5,
            };
            app.world_mut().resource_mut::<PendingPoses>().0.push(pose);
            if k % 10 == 9 || k == steps {
                app.update();
                each_frame(app, dt);
            }
        }
        self.t = t0 + seconds + 0.5;
    }
}

fn cues(app: &App) -> &LiveCues {
    app.world().resource::<LiveCues>()
}

#[test]
fn a_slow_stroke_turns_the_speed_low_cue_on_and_counts_it() {
    let mut app = app();
    let band = cues(&app)
        .engine
        .speed_band()
        .expect("a pen at a known rate has a band");
    assert!(band.low_mm_s > 60.0, "pen-14 at 117 Hz: {band:?}");
    let mut seen_on = false;
    // 30 mm/s: far below the band.
    Hand { t: 1.0 }.stroke(&mut app, 0.5, 30.0, 1.5, |app, _| {
        seen_on |= cues(app).is_on(CueKind::SpeedLow);
    });
    assert!(seen_on, "the speed-low cue came on during the slow stroke");
    let c = cues(&app);
    assert!(!c.is_on(CueKind::SpeedLow), "the lift ends it");
    assert_eq!(
        c.engine.count(CueKind::SpeedLow).fired,
        1,
        "one stroke, one cue"
    );
    assert!(c.engine.count(CueKind::SpeedLow).seconds > 0.5);
    assert_eq!(c.engine.count(CueKind::SpeedHigh).fired, 0);
    let started = c
        .recent
        .iter()
        .find(|e| e.cue == CueKind::SpeedLow && e.on)
        .expect("its start is among the latest events");
    assert!(
        (started.value - 30.0).abs() < 3.0,
        "it measured the hand at {} mm/s",
        started.value
    );
    assert!((started.limit - band.low_mm_s).abs() < 1e-6);
}

#[test]
fn a_cue_switched_off_stops_firing_and_keeps_its_count() {
    let mut app = app();
    let mut hand = Hand { t: 1.0 };
    // Switched off once it is on, mid-stroke: it ends within a frame or two.
    let mut switched_at = None;
    let mut on_after_switch = 0;
    hand.stroke(&mut app, 0.4, 30.0, 1.5, |app, dt| {
        if switched_at.is_some() && cues(app).is_on(CueKind::SpeedLow) {
            on_after_switch += 1;
        }
        if switched_at.is_none() && cues(app).is_on(CueKind::SpeedLow) {
            app.world_mut()
                .resource_mut::<LiveCues>()
                .set_enabled(CueKind::SpeedLow, false);
            switched_at = Some(dt);
        }
    });
    assert!(
        switched_at.is_some_and(|t| t < 1.0),
        "it came on: {switched_at:?}"
    );
    assert!(
        on_after_switch <= 1,
        "on for {on_after_switch} frames after switching off"
    );
    assert_eq!(cues(&app).engine.count(CueKind::SpeedLow).fired, 1);
    // A second slow stroke with it off: not fired, count kept.
    let mut seen_on = false;
    hand.stroke(&mut app, 0.5, 30.0, 1.0, |app, _| {
        seen_on |= cues(app).is_on(CueKind::SpeedLow);
    });
    assert!(!seen_on);
    assert_eq!(cues(&app).engine.count(CueKind::SpeedLow).fired, 1);
    assert!(
        !cues(&app)
            .engine
            .config()
            .enabled
            .contains(CueKind::SpeedLow)
    );
    // Switched on again, the next slow stroke fires it again.
    app.world_mut()
        .resource_mut::<LiveCues>()
        .set_enabled(CueKind::SpeedLow, true);
    hand.stroke(&mut app, 0.6, 30.0, 1.0, |_, _| {});
    assert_eq!(cues(&app).engine.count(CueKind::SpeedLow).fired, 2);
}

#[test]
fn a_stroke_in_the_band_raises_no_speed_cue_and_a_reset_starts_the_cues_afresh() {
    let mut app = app();
    let band = cues(&app).engine.speed_band().unwrap();
    let mid = ((band.low_mm_s + band.high_mm_s) / 2.0) as f32;
    let mut hand = Hand { t: 1.0 };
    // 0.3 s at the band's middle stays on the pad.
    hand.stroke(&mut app, 0.5, mid, 0.3, |_, _| {});
    let c = cues(&app);
    assert_eq!(c.engine.count(CueKind::SpeedLow).fired, 0);
    assert_eq!(c.engine.count(CueKind::SpeedHigh).fired, 0);
    hand.stroke(&mut app, 0.4, 30.0, 1.0, |_, _| {});
    assert_eq!(cues(&app).engine.count(CueKind::SpeedLow).fired, 1);
    // The panel's reset starts the coverage afresh: so do the cues.
    app.world_mut()
        .resource_mut::<Live>()
        .0
        .reset_coverage()
        .unwrap();
    app.update();
    assert_eq!(cues(&app).engine.count(CueKind::SpeedLow).fired, 0);
    assert!(cues(&app).recent.is_empty());
}

#[test]
fn the_panels_series_follows_the_hand_and_carries_the_cues_bands() {
    let mut app = app();
    assert!(
        cues(&app).series().points.is_empty(),
        "nothing before a touch"
    );
    let mut hand = Hand { t: 1.0 };
    // Two strokes, slow then at twice the speed, with a lift between.
    hand.stroke(&mut app, 0.4, 30.0, 1.5, |_, _| {});
    hand.stroke(&mut app, 0.6, 60.0, 1.0, |_, _| {});
    let series = cues(&app).series();
    let band = cues(&app).engine.speed_band().unwrap();
    assert_eq!(
        series.speed_band_mm_s,
        Some([band.low_mm_s, band.high_mm_s])
    );
    assert_eq!(
        series.density_band_per_cm2,
        MetricsConfig::default().band_per_cm2
    );
    let speeds_in = |from: f64, to: f64| -> Vec<f64> {
        series
            .points
            .iter()
            .filter(|p| p.t > from && p.t < to)
            .filter_map(|p| p.speed_mm_s)
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Well inside each stroke, once the speed window has filled.
    let (slow, fast) = (speeds_in(1.8, 2.4), speeds_in(3.3, 3.9));
    assert!(!slow.is_empty() && !fast.is_empty(), "{series:?}");
    assert!((mean(&slow) - 30.0).abs() < 3.0, "slow: {slow:?}");
    assert!((mean(&fast) - 60.0).abs() < 6.0, "fast: {fast:?}");
    // The lift between them leaves no point.
    assert!(series.points.iter().all(|p| !(2.55..2.95).contains(&p.t)));
    assert!(series.points.iter().all(|p| p.depth_mm > 0.0));
}
