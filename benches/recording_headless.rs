//! Headless scoring of an 8-hour recorded session in flat memory.
//!
//! Generates a recording of `PENLAB_BENCH_HOURS` hours (8 by default) of a
//! 14-needle pen rastering the flat pad (60 Hz poses, strikes at 117 Hz
//! with the depth the pen measured), written with the recording module's
//! writer, then scores it with the real `penlab sim --headless` (a script
//! with one `replay` pattern) under `/usr/bin/time -v`, and prints events/s
//! and peak resident memory.
//!
//! Built with the view (the default features) and with `xvfb-run` on the
//! machine, it also replays the recording in the 3D view (`penlab sim
//! --replay`, streamed from the file) beside a 10-minute recording of the
//! same session, both for the same time at the same speed: the view's
//! memory must not grow with the file.
//!
//! ```sh
//! cargo bench -p penlab --no-default-features --bench recording_headless
//! cargo bench -p penlab --bench recording_headless    # and the view's replay
//! ```

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};

use glam::{Quat, Vec3};
use penlab_simulator::pose::Pose;
use penlab_simulator::recording::Recorder;

fn main() {
    let hours: f64 = std::env::var("PENLAB_BENCH_HOURS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8.0);
    let dir = common::scratch("recording");
    let rec = dir.join("day.jsonl");
    let started = std::time::Instant::now();
    let events = generate(&rec, hours);
    let mb = common::megabytes(&rec);
    println!(
        "generated {} ({hours} h, {events} events, {mb:.0} MB) in {:.1} s",
        rec.display(),
        started.elapsed().as_secs_f64()
    );
    let script = dir.join("day.toml");
    std::fs::write(
        &script,
        "[surface]\nbuiltin = \"flat-pad\"\n[tool]\nprofile = \"pen-14\"\n\
         [[pattern]]\nkind = \"replay\"\nfile = \"day.jsonl\"\nstrikes = \"recorded\"\n",
    )
    .expect("script");
    let report = dir.join("report.json");
    let m = common::time_penlab(&[
        "sim",
        "--headless",
        "--script",
        &script.to_string_lossy(),
        "--report",
        &report.to_string_lossy(),
    ]);
    assert_eq!(m.code, Some(0), "the recording scores");
    let text = std::fs::read_to_string(&report).expect("a report");
    assert!(text.contains("punctures"), "{text}");
    println!(
        "penlab sim --headless: {events} events ({mb:.0} MB) in {:.1} s wall, {:.1} s of CPU = {:.2} M events/s a core, {:.0} MB/s a core; peak RSS {:.1} MiB",
        m.seconds,
        m.cpu_seconds,
        events as f64 / m.cpu_seconds / 1e6,
        mb / m.cpu_seconds,
        m.max_rss_kib as f64 / 1024.0
    );
    #[cfg(feature = "view")]
    view_replays(&dir, &rec, mb);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Seconds of each view replay, and its speed.
#[cfg(feature = "view")]
const VIEW_SECONDS: &str = "40";
#[cfg(feature = "view")]
const VIEW_SPEED: &str = "64";

/// The view replaying `long` and a 10-minute recording, each for
/// [`VIEW_SECONDS`] at [`VIEW_SPEED`]: peak memory of each, and the ratio.
#[cfg(feature = "view")]
fn view_replays(dir: &std::path::Path, long: &std::path::Path, long_mb: f64) {
    if std::process::Command::new("xvfb-run")
        .arg("--help")
        .output()
        .is_err()
    {
        println!("view replay: skipped (no xvfb-run; apt-get install xvfb xauth)");
        return;
    }
    let short = dir.join("ten-minutes.jsonl");
    let short_events = generate(&short, 10.0 / 60.0);
    let short_mb = common::megabytes(&short);
    let mut rss = Vec::new();
    for (name, path, mb) in [
        ("10-minute", &short, short_mb),
        ("8-hour", &long.to_path_buf(), long_mb),
    ] {
        let m = common::time_penlab_in(
            &["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"],
            &[
                "sim",
                "--replay",
                &path.to_string_lossy(),
                "--speed",
                VIEW_SPEED,
                "--quit-after",
                VIEW_SECONDS,
            ],
        );
        assert_eq!(m.code, Some(0), "the view replays the {name} recording");
        println!(
            "penlab sim --replay ({name}, {mb:.0} MB) at {VIEW_SPEED}x for {VIEW_SECONDS} s: peak RSS {:.1} MiB, {:.1} s of CPU",
            m.max_rss_kib as f64 / 1024.0,
            m.cpu_seconds
        );
        rss.push(m.max_rss_kib as f64);
    }
    println!(
        "view replay peak RSS, 8-hour / 10-minute ({short_events} events): {:.2}",
        rss[1] / rss[0]
    );
}

/// A pen rastering the 100 × 100 mm pad at 20 mm/s, lines 2 mm apart, for
/// `hours`; returns the events written.
fn generate(path: &std::path::Path, hours: f64) -> u64 {
    let out = BufWriter::with_capacity(1 << 20, File::create(path).expect("recording"));
    let mut rec = Recorder::new(out, "pen-14", "flat-pad").expect("header");
    let end = hours * 3_600.0;
    let (pose_dt, strike_dt) = (1.0 / 60.0, 1.0 / 117.0);
    let (mut t_pose, mut t_strike) = (0.0, 0.0);
    let at = |t: f64| {
        // Back and forth along u, one line every 4.5 s, over 40 lines.
        let line = (t / 4.5).floor();
        let along = (t % 4.5) / 4.5 * 90.0;
        let u = if (line as u64).is_multiple_of(2) {
            5.0 + along
        } else {
            95.0 - along
        };
        let v = 5.0 + (line % 40.0) * 2.0;
        Vec3::new(u as f32, v as f32, 0.0)
    };
    while t_pose < end {
        rec.pose(&Pose {
            t: t_pose,
            position: at(t_pose),
            orientation: Quat::IDENTITY,
            force_n: 2.0,
            depth_mm: 0.5,
        })
        .expect("write");
        t_pose += pose_dt;
        while t_strike < t_pose.min(end) {
            let depth = 0.45 + 0.1 * ((t_strike * 7.0).sin() * 0.5 + 0.5);
            rec.strike(t_strike, depth as f32).expect("write");
            t_strike += strike_dt;
        }
    }
    let events = rec.events();
    rec.finish().expect("finish").flush().expect("flush");
    events
}
