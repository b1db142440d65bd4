//! A demonstration's timeline in the view: a recording streams from its
//! file and lands as the engine scores it headless, at any playback
//! speed; a pause holds the playhead and the coverage; a change of speed
//! moves the playhead faster; a seek forward or back leaves the coverage
//! the engine gives for the events up to that time. The session runs in a
//! Bevy app without rendering (`MinimalPlugins`) on a clock moved by hand,
//! so the machine's speed does not enter.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use penlab_simulator::recording::{Recorder, replay_file, time_of};
use penlab_simulator::script::Script;
use penlab_simulator::session::{Event, Session, StrikeSource};
use penlab_view::pen::{Live, PenPlugin};
use penlab_view::playback::{DemoEnded, DemoEvents, DemoPlayer};
use penlab_view::{Demo, DemoStrikes, ViewOptions};

const SCRIPT: &str = r#"
[surface]
builtin = "flat-pad"
grid = 256

[tool]
profile = "pen-14"

[settings]
depth_mm = 0.5
rate_hz = 117

[[pattern]]
kind = "raster"
speed_mm_s = 10
spacing_mm = 2.0
area = { u = [0.3, 0.6], v = [0.3, 0.6] }
"#;

/// Session time a frame takes, s.
const FRAME_S: f64 = 0.1;

fn script() -> Script {
    Script::parse(Path::new("timeline-test.toml"), SCRIPT).unwrap()
}

/// The script's raster written as a recording: every pose, and a strike
/// with its measured depth at each pose on the skin.
fn recording(dir: &Path) -> PathBuf {
    let script = script();
    let surface = script.surface().unwrap();
    let tool = script.tool().unwrap();
    let path = dir.join("raster.jsonl");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut rec = Recorder::new(file, "pen-14", "flat-pad").unwrap();
    for event in script.events(&surface, &tool).unwrap() {
        if let Event::Pose(p) = event {
            rec.pose(&p).unwrap();
            if p.force_n > 0.0 {
                rec.strike(p.t, 0.48).unwrap();
            }
        }
    }
    rec.finish().unwrap();
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-timeline-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Punctures the engine places for the recording's events up to `until` s.
fn headless_punctures(path: &Path, until: f64) -> u64 {
    let options = ViewOptions::scripted_without_pen(&script(), 1.0).unwrap();
    let mut session = Session::new(
        options.surface.clone(),
        options.tool.clone(),
        StrikeSource::Events,
        options.pass_cells,
    );
    let mut events = Vec::new();
    replay_file(path, &mut events).unwrap();
    for e in events
        .iter()
        .filter(|e| time_of(e).is_none_or(|t| t <= until))
    {
        session.push(e);
    }
    session.grid().total()
}

fn app(events: DemoEvents, strikes: DemoStrikes, speed: f64) -> App {
    let mut options = ViewOptions::scripted_without_pen(&script(), speed).unwrap();
    options.demo = Some(Demo {
        events,
        strikes,
        speed,
        name: "timeline test".into(),
    });
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(PenPlugin { options });
    app.finish();
    app.cleanup();
    // The clock from here on moves only by hand.
    app.world_mut().resource_mut::<Live>().0.set_now(0.0);
    app
}

/// Runs frames of `FRAME_S` session time for `seconds`, from `*t`.
fn run(app: &mut App, t: &mut f64, seconds: f64) {
    let end = *t + seconds;
    while *t < end - 1e-9 {
        *t += FRAME_S;
        app.world_mut().resource_mut::<Live>().0.set_now(*t);
        app.update();
    }
}

fn punctures(app: &App) -> u64 {
    app.world()
        .resource::<Live>()
        .0
        .coverage
        .session()
        .grid()
        .total()
}

fn player(app: &mut App) -> Mut<'_, DemoPlayer> {
    app.world_mut().resource_mut::<DemoPlayer>()
}

#[test]
fn a_recording_streams_from_its_file_and_lands_as_headless_at_any_speed() {
    let dir = temp_dir("stream");
    let path = recording(&dir);
    let expected = headless_punctures(&path, f64::INFINITY);
    assert!(
        expected > 10_000,
        "the recording strikes the pad: {expected}"
    );
    for speed in [1.0, 16.0] {
        let mut app = app(DemoEvents::File(path.clone()), DemoStrikes::Recorded, speed);
        let length = app.world().resource::<DemoPlayer>().duration_s().unwrap();
        let mut t = 0.0;
        let mut frames = 0;
        while app.world().get_resource::<DemoPlayer>().is_some() {
            run(&mut app, &mut t, FRAME_S);
            frames += 1;
            assert!(frames < 10_000, "the replay ends");
        }
        // Played in its length divided by the speed, to the frame.
        assert!(
            (t - length / speed).abs() <= 2.0 * FRAME_S,
            "{speed}×: {t} s of session for {length} s of recording"
        );
        assert_eq!(punctures(&app), expected, "{speed}×");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pause_holds_the_playhead_and_a_faster_speed_moves_it_faster() {
    let script = script();
    let options = ViewOptions::scripted_without_pen(&script, 1.0).unwrap();
    let Some(demo) = options.demo else {
        panic!("the script plays as a demonstration")
    };
    let mut app = app(demo.events, demo.strikes, 1.0);
    let mut t = 0.0;
    run(&mut app, &mut t, 3.0);
    let at = player(&mut app).position_s();
    assert!((at - 3.0).abs() < 1e-3, "1× for 3 s: at {at} s");
    let before = punctures(&app);
    assert!(before > 0, "the tool struck in its first 3 s");

    player(&mut app).set_paused(true, t);
    run(&mut app, &mut t, 5.0);
    assert_eq!(
        player(&mut app).position_s(),
        at,
        "paused: the playhead holds"
    );
    assert_eq!(punctures(&app), before, "paused: no strike lands");

    player(&mut app).set_paused(false, t);
    player(&mut app).set_speed(4.0, t);
    run(&mut app, &mut t, 2.0);
    let now_at = player(&mut app).position_s();
    assert!(
        (now_at - 11.0).abs() < 1e-3,
        "then 4× for 2 s: at {now_at} s"
    );
    assert!(punctures(&app) > before, "playing again, it strikes again");
}

#[test]
fn a_seek_leaves_the_coverage_of_the_events_up_to_that_time() {
    let dir = temp_dir("seek");
    let path = recording(&dir);
    let mut app = app(DemoEvents::File(path.clone()), DemoStrikes::Recorded, 1.0);
    let length = app.world().resource::<DemoPlayer>().duration_s().unwrap();
    assert!(
        length > 40.0,
        "a recording long enough to seek in: {length} s"
    );
    let mut t = 0.0;
    player(&mut app).set_paused(true, t);
    run(&mut app, &mut t, FRAME_S);

    for target in [0.6 * length, 0.25 * length, 0.5 * length] {
        player(&mut app).seek(target);
        let mut frames = 0;
        while player(&mut app).seeking() {
            run(&mut app, &mut t, FRAME_S);
            frames += 1;
            assert!(frames < 100, "the seek to {target} s ends");
        }
        assert_eq!(player(&mut app).position_s(), target);
        assert_eq!(
            punctures(&app),
            headless_punctures(&path, target),
            "after seeking to {target:.1} s"
        );
    }
    // Paused after the seek: nothing more lands.
    let held = punctures(&app);
    run(&mut app, &mut t, 1.0);
    assert_eq!(punctures(&app), held);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_recording_with_a_bad_line_stops_the_replay_with_its_place() {
    let dir = temp_dir("bad");
    let path = recording(&dir);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let cut = text.len() / 2;
    let line_end = cut + text[cut..].find('\n').unwrap() + 1;
    text.insert_str(line_end, "{\"type\":\"pose\",\"t\":\"soon\"}\n");
    std::fs::write(&path, text).unwrap();
    let mut app = app(DemoEvents::File(path.clone()), DemoStrikes::Recorded, 64.0);
    let mut t = 0.0;
    while app.world().get_resource::<DemoPlayer>().is_some() {
        run(&mut app, &mut t, FRAME_S);
        assert!(t < 60.0, "the replay ends");
    }
    let ended = app.world().resource::<DemoEnded>();
    let error = ended.error.clone().expect("the replay says why it stopped");
    assert!(
        error.contains("\"t\":\"soon\""),
        "the line is shown: {error}"
    );
    assert!(error.contains("raster.jsonl:"), "{error}");
    // What played before the bad line stays.
    assert!(punctures(&app) > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
