//! Hardware in the loop without a window: the built-in mock pen's strikes,
//! mapped through its clock, land on the coverage where the tool was, at
//! the depth the pen measured; strikes while the tool is lifted land nowhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::{Quat, Vec2, Vec3};
use penlab_firmware_mock::profile::Profile;
use penlab_live::coverage::LiveCoverage;
use penlab_live::link::{LinkCommand, PenLink, mock_pen};
use penlab_live::session::{Connection, LiveSession};
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::pose::Pose;
use penlab_simulator::session::StrikeSource;
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::ToolProfiles;

fn session() -> LiveSession {
    let surface = surfaces::builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 256).unwrap();
    let tool = ToolProfiles::shipped().unwrap().tool("pen-14").unwrap();
    let coverage = LiveCoverage::new(
        Arc::new(surface),
        Arc::new(tool),
        StrikeSource::Events,
        MetricsConfig::default(),
        4,
    )
    .unwrap();
    let pen = PenLink::start(mock_pen(Profile::builtin("skinpen-like").unwrap(), 7));
    LiveSession::new(coverage, Some(pen), Instant::now())
}

fn wait_for(live: &mut LiveSession, what: &str, mut done: impl FnMut(&LiveSession) -> bool) {
    let start = Instant::now();
    while !done(live) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        live.poll();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pose_at(live: &LiveSession, t: f64, u: f32, force_n: f32) -> Pose {
    let p = live
        .coverage
        .session()
        .surface()
        .point_at_uv(Vec2::new(u, 0.5))
        .unwrap();
    Pose {
        t,
        position: p.position,
        orientation: Quat::from_rotation_arc(Vec3::Z, p.normal),
        force_n,
        depth_mm: 0.0,
    }
}

/// Moves the tool from u0 to u1 over `secs` in real time, polling as a view would.
fn glide(live: &mut LiveSession, u0: f32, u1: f32, secs: f64, force_n: f32) {
    let start = live.now();
    loop {
        let t = live.now();
        let s = ((t - start) / secs).min(1.0) as f32;
        let pose = pose_at(live, t, u0 + (u1 - u0) * s, force_n);
        live.push_pose(pose);
        live.set_contact_force(force_n);
        live.poll();
        if s >= 1.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(8));
    }
}

#[test]
fn the_pens_strikes_land_along_the_stroke_at_the_measured_depth() {
    let mut live = session();
    wait_for(&mut live, "the handshake", |l| {
        l.pen().connection == Connection::Connected
    });
    live.command(LinkCommand::SetDepth { depth_um: 1000 });
    wait_for(&mut live, "the new depth", |l| {
        l.pen()
            .status
            .as_ref()
            .is_some_and(|s| s.depth_set_um == 1000)
    });
    // Hover first so the pose history covers the strikes to come.
    glide(&mut live, 0.2, 0.2, 0.1, 0.0);
    live.command(LinkCommand::Start);
    wait_for(&mut live, "the motor", |l| l.pen().running());
    glide(&mut live, 0.2, 0.2, 0.3, 0.0);
    let in_air = live.pen().strikes;
    assert!(
        in_air > 10,
        "the running pen strikes the air too ({in_air})"
    );
    assert_eq!(
        live.coverage.session().grid().total(),
        0,
        "lifted: nothing lands"
    );

    glide(&mut live, 0.2, 0.8, 1.5, 2.0);
    live.command(LinkCommand::Stop);
    wait_for(&mut live, "the stop", |l| !l.pen().running());
    // Late batches of the stroke.
    glide(&mut live, 0.8, 0.8, 0.2, 0.0);

    let grid = live.coverage.session().grid();
    let punctures = grid.total();
    // SkinPen-like: 14 needles at ~117 Hz for 1.5 s ≈ 2,450 punctures.
    assert!(
        (1_500..=3_500).contains(&punctures),
        "{punctures} punctures from a 1.5 s stroke"
    );
    // Every puncture is on the stroke's line (v = 0.5, u from 0.2 to 0.8).
    let (w, h) = (grid.width(), grid.height());
    for (i, t) in grid.texels().iter().enumerate() {
        if t.count == 0 {
            continue;
        }
        let (x, y) = (i as u32 % w, i as u32 / w);
        let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        assert!((v - 0.5).abs() < 0.03, "puncture off the line at v = {v}");
        assert!(
            (0.17..=0.83).contains(&u),
            "puncture beyond the stroke at u = {u}"
        );
    }
    // Spread along the whole stroke, not piled where the batches arrived.
    let thirds = [0.2..0.4, 0.4..0.6, 0.6..0.8].map(|r| {
        grid.texels()
            .iter()
            .enumerate()
            .filter(|(i, t)| t.count > 0 && r.contains(&((*i as u32 % w) as f32 / w as f32)))
            .map(|(_, t)| u64::from(t.count))
            .sum::<u64>()
    });
    for (k, n) in thirds.iter().enumerate() {
        assert!(
            *n as f64 > punctures as f64 * 0.2,
            "third {k} of the stroke has {n} of {punctures} punctures: {thirds:?}"
        );
    }
    // The pen's measured depth, not a set point of the view's.
    let depth = live.coverage.session().depth();
    let mean = depth.sum_mm / punctures as f64;
    assert!((mean - 1.0).abs() < 0.06, "mean depth {mean} mm");
    // The panel's depth-over-time series has every strike, in the air too.
    let mut series: Vec<f32> = live.depth_series().iter().map(|(_, d)| *d).collect();
    assert_eq!(series.len() as u64, live.pen().strikes);
    series.sort_by(f32::total_cmp);
    let median = series[series.len() / 2];
    assert!(
        (median - 1.0).abs() < 0.05,
        "median strike depth {median} mm"
    );
}
