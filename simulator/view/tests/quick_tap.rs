//! The view owns what it commanded: a quick tap with "motor follows
//! contact" (pressed and lifted before the pen's `Status` says the motor
//! runs) still ends with `Stop`. The view's session runs in a Bevy app
//! without rendering (`MinimalPlugins`) against a mock pen on a real
//! pseudo-terminal; the pen's transcript must show the `Stop` acknowledged
//! while the port is still open. Prints the time from the lift to the
//! acknowledged `Stop` (`--no-capture`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use penlab_firmware_mock::background::BackgroundPen;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::MockConfig;
use penlab_firmware_mock::transcript::Dir;
use penlab_host::transport::Transport;
use penlab_live::session::Connection;
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::{DeviceState, Message, MessageType};
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::ToolProfiles;
use penlab_view::ViewOptions;
use penlab_view::commands::PenCommands;
use penlab_view::pen::{Live, PenPlugin, ToolPose};

/// A mock pen (skinpen-like) on a pseudo-terminal, on its own thread,
/// recording every byte both ways.
fn pty_pen() -> BackgroundPen {
    let profile = Profile::builtin("skinpen-like").unwrap();
    let mut config = MockConfig::new(DeviceConfig::new(profile));
    config.record = true;
    BackgroundPen::start(config, None).unwrap()
}

fn options(port: &str) -> ViewOptions {
    let surface = surfaces::builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 128).unwrap();
    let tool = ToolProfiles::shipped().unwrap().tool("pen-14").unwrap();
    ViewOptions {
        force_n: tool.profile.full_contact_force_n,
        surface: Arc::new(surface),
        tool: Arc::new(tool),
        metrics: MetricsConfig::default(),
        pass_cells: 4,
        pen: Some(Transport::serial(port.to_owned(), 115_200)),
        reattach: None,
        depth_mm: 0.5,
        rate_hz: None,
        demo: None,
        record: None,
        screenshot: None,
        quit_after_s: None,
        export_dir: std::env::temp_dir(),
        cues: Default::default(),
        rubric: None,
    }
}

fn update_for(app: &mut App, how_long: Duration) {
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_quick_tap_ends_with_stop_acknowledged() {
    let pen = pty_pen();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(PenPlugin {
        options: options(pen.path()),
    });
    app.finish();
    app.cleanup();
    let start = Instant::now();
    while app.world().resource::<Live>().0.pen().connection != Connection::Connected {
        assert!(start.elapsed() < Duration::from_secs(5), "no handshake");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    // The start depth and rate reach the pen.
    update_for(&mut app, Duration::from_millis(300));

    // Press: the view sends Start.
    app.world_mut().resource_mut::<ToolPose>().contact = true;
    app.update();
    assert!(app.world().resource::<PenCommands>().motor_commanded());
    // Lift on the very next frame, before the pen's Status can say Running.
    app.world_mut().resource_mut::<ToolPose>().contact = false;
    let lifted = Instant::now();
    app.update();
    assert!(
        !app.world().resource::<Live>().0.pen().running(),
        "not a quick tap: the pen already said it runs"
    );
    let commands = app.world().resource::<PenCommands>();
    assert!(!commands.motor_commanded(), "the lift did not stop it");
    assert!(commands.pending().is_empty(), "{:?}", commands.pending());
    update_for(&mut app, Duration::from_millis(800));
    assert!(!app.world().resource::<Live>().0.pen().running());

    // The app (and so the port) is still open while the transcript is read.
    let lifted_t = lifted.saturating_duration_since(pen.started()).as_micros() as u64;
    let mock = pen.end();
    let (mut host, mut from_pen) = (Decoder::new(), Decoder::new());
    let mut frames = Vec::new();
    for chunk in &mock.transcript().unwrap().chunks {
        let from_host = chunk.dir == Dir::HostToPen;
        let decoder = if from_host { &mut host } else { &mut from_pen };
        decoder.feed(&chunk.bytes, |r| {
            if let Ok(p) = r {
                frames.push((chunk.t_us, from_host, p.message, p.seq));
            }
        });
    }
    let acked = |kind: MessageType, after: u64| {
        frames
            .iter()
            .filter(|(t, host, m, _)| *host && *t >= after && m.msg_type() == kind)
            .find_map(|(t, _, _, seq)| {
                frames.iter().find_map(|(at, host, m, _)| match m {
                    Message::Ack(a)
                        if !host && at >= t && a.command == kind.code() && a.ack_seq == *seq =>
                    {
                        Some(*at)
                    }
                    _ => None,
                })
            })
    };
    let started = acked(MessageType::Start, 0).expect("Start acknowledged");
    let stopped = acked(MessageType::Stop, started).expect("Stop acknowledged after the Start");
    let last_state = frames.iter().rev().find_map(|(_, host, m, _)| match m {
        Message::Status(s) if !host => Some(s.state),
        _ => None,
    });
    assert_ne!(last_state, Some(DeviceState::Running), "the motor runs on");
    assert_ne!(mock.device().state(), DeviceState::Running);
    eprintln!(
        "[safety timing] quick tap: the lift to the acknowledged Stop: {:.1} ms",
        stopped.saturating_sub(lifted_t) as f64 / 1e3
    );
    drop(app);
}
