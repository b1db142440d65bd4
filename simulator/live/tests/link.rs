//! The pen link against the mock pen: in process, and over a real
//! pseudo-terminal through `tokio-serial`, the path a USB pen takes. Real
//! clocks throughout; each test runs in well under five seconds.

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use penlab_firmware_mock::background::BackgroundPen;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{Mock, MockConfig};
use penlab_firmware_mock::transport::{Pty, duplex};
use penlab_host::env::EnvCommand;
use penlab_host::transport::Transport;
use penlab_live::link::{LinkCommand, LinkEvent, PenLink, mock_pen};
use penlab_protocol::message::{DeviceState, FaultCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

const WAIT: Duration = Duration::from_secs(3);

fn skinpen() -> Profile {
    Profile::builtin("skinpen-like").unwrap()
}

/// Polls the link until an event matches, collecting everything before it.
fn wait_for(
    link: &PenLink,
    within: Duration,
    what: &str,
    mut pred: impl FnMut(&LinkEvent) -> bool,
) -> (Vec<LinkEvent>, LinkEvent) {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match link.try_recv() {
            Some(event) if pred(&event) => return (seen, event),
            Some(event) => seen.push(event),
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    panic!("no {what} within {within:?}; saw {seen:#?}")
}

fn connected(link: &PenLink) -> LinkEvent {
    wait_for(link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    })
    .1
}

fn status(link: &PenLink) -> penlab_protocol::message::Status {
    link.send(LinkCommand::StatusRequest).unwrap();
    match wait_for(link, WAIT, "Status", |e| matches!(e, LinkEvent::Status(_))).1 {
        LinkEvent::Status(s) => s,
        _ => unreachable!(),
    }
}

fn accepted(link: &PenLink, cmd: LinkCommand) {
    let name = cmd.to_string();
    link.send(cmd).unwrap();
    let (_, event) = wait_for(
        link,
        WAIT,
        &format!("answer to {name}"),
        |e| matches!(e, LinkEvent::Accepted { command, .. } | LinkEvent::Refused { command, .. } if *command == name),
    );
    assert!(
        matches!(event, LinkEvent::Accepted { .. }),
        "{name}: {event:?}"
    );
}

#[test]
fn pen_link_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<PenLink>();
}

#[test]
fn the_in_process_mock_is_driven_end_to_end() {
    let profile = skinpen();
    let link = PenLink::start(mock_pen(profile.clone(), 11));
    assert!(link.is_mock());
    assert_eq!(link.describe(), "built-in mock (skinpen-like)");

    let LinkEvent::Connected {
        identity,
        limits,
        status: first,
        ..
    } = connected(&link)
    else {
        unreachable!()
    };
    assert_eq!(identity, profile.identity());
    assert_eq!(limits.capabilities(), &profile.capabilities());
    assert_eq!(first.state, DeviceState::Idle);

    // A valid depth is accepted and shows in the pen's status.
    accepted(&link, LinkCommand::SetDepth { depth_um: 1_000 });
    assert_eq!(status(&link).depth_set_um, 1_000);

    // Beyond the declared maximum: refused by the session, never sent.
    let beyond = limits.depth_max_um + limits.depth_step_um;
    link.send(LinkCommand::SetDepth { depth_um: beyond })
        .unwrap();
    let (seen, refused) = wait_for(&link, WAIT, "Refused", |e| {
        matches!(e, LinkEvent::Refused { .. })
    });
    let LinkEvent::Refused { command, reason } = refused else {
        unreachable!()
    };
    assert_eq!(command, format!("SetDepth({beyond} µm)"));
    assert!(reason.contains("declared limits"), "{reason}");
    assert!(
        !seen.iter().any(|e| matches!(e, LinkEvent::Accepted { .. })),
        "{seen:?}"
    );
    assert_eq!(status(&link).depth_set_um, 1_000, "the depth changed");

    // Let the depth drive get there (5 mm/s), then run with 2 N on the skin.
    std::thread::sleep(Duration::from_millis(400));
    link.send(LinkCommand::Force { newtons: 2.0 }).unwrap();
    accepted(&link, LinkCommand::Start);

    let mut depths = Vec::new();
    let mut next_strike = None;
    let mut forces = Vec::new();
    let deadline = Instant::now() + WAIT;
    while (depths.len() < 60 || forces.is_empty()) && Instant::now() < deadline {
        match link.try_recv() {
            Some(LinkEvent::Strikes { batch, at }) => {
                assert!(at <= Instant::now());
                if let Some(n) = next_strike {
                    assert_eq!(batch.first_strike, n, "strikes lost or repeated");
                }
                next_strike = Some(batch.first_strike + batch.strikes.len() as u32);
                depths.extend(batch.strikes.iter().map(|s| s.depth_um));
            }
            Some(LinkEvent::Telemetry { telemetry, .. }) => forces.push(telemetry.force_mn),
            Some(LinkEvent::Refused { command, reason }) => panic!("{command}: {reason}"),
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    assert!(depths.len() >= 60, "only {} strikes", depths.len());
    // Landing error (σ 8 µm, one draw per set point) plus stroke noise
    // (σ 3 µm).
    for d in &depths {
        assert!(d.abs_diff(1_000) <= 60, "strike at {d} µm: {depths:?}");
    }
    let mean = depths.iter().map(|&d| f64::from(d)).sum::<f64>() / depths.len() as f64;
    assert!((mean - 1_000.0).abs() < 30.0, "mean depth {mean}");
    // skinpen-like has a force sensor: it reads the 2 N.
    assert!(
        forces.iter().all(|f| f.abs_diff(2_000) <= 1),
        "force readings {forces:?}"
    );

    // The motor seizes while running: a fault, and the pen says so.
    link.send(LinkCommand::Env(EnvCommand::InjectFault {
        code: FaultCode::MotorStall,
    }))
    .unwrap();
    let (_, fault) = wait_for(&link, WAIT, "Fault", |e| {
        matches!(e, LinkEvent::Fault { .. })
    });
    let LinkEvent::Fault { fault, .. } = fault else {
        unreachable!()
    };
    assert_eq!(fault.code, FaultCode::MotorStall);
    assert!(fault.active);
    let (_, faulted) = wait_for(&link, WAIT, "Status", |e| matches!(e, LinkEvent::Status(_)));
    let LinkEvent::Status(faulted) = faulted else {
        unreachable!()
    };
    assert_eq!(faulted.state, DeviceState::Faulted);
    assert_ne!(
        faulted.active_faults & FaultCode::MotorStall.bit().unwrap(),
        0
    );

    link.shutdown();
}

#[test]
fn an_emergency_stop_is_cleared_by_a_new_hello() {
    let link = PenLink::start(mock_pen(skinpen(), 1));
    connected(&link);
    accepted(&link, LinkCommand::Start);
    accepted(&link, LinkCommand::EmergencyStop);
    assert_eq!(status(&link).state, DeviceState::EmergencyStopped);
    link.send(LinkCommand::Start).unwrap();
    let (_, refused) = wait_for(&link, WAIT, "Refused", |e| {
        matches!(e, LinkEvent::Refused { .. })
    });
    assert!(
        matches!(&refused, LinkEvent::Refused { reason, .. } if reason.contains("state")),
        "{refused:?}"
    );
    link.send(LinkCommand::Hello).unwrap();
    let LinkEvent::Connected { status, .. } = connected(&link) else {
        unreachable!()
    };
    assert_eq!(status.state, DeviceState::Idle);
    drop(link);
}

#[test]
fn a_missing_port_is_reported_not_panicked() {
    let link = PenLink::start(Transport::serial(
        "/dev/penlab-no-such-port".to_owned(),
        115_200,
    ));
    assert!(!link.is_mock());
    assert_eq!(link.describe(), "/dev/penlab-no-such-port @ 115200");
    let (seen, gone) = wait_for(&link, Duration::from_secs(1), "Disconnected", |e| {
        matches!(e, LinkEvent::Disconnected { .. })
    });
    assert!(seen.is_empty(), "{seen:?}");
    assert!(
        matches!(&gone, LinkEvent::Disconnected { reason } if reason.contains("/dev/penlab-no-such-port")),
        "{gone:?}"
    );
    std::thread::sleep(Duration::from_millis(50));
    assert!(link.is_finished());
    assert!(link.send(LinkCommand::Start).is_err());
    link.shutdown();
}

/// A mock pen of `profile` on a pseudo-terminal, recording a transcript.
fn pty_pen(profile: Profile) -> BackgroundPen {
    let mut config = MockConfig::new(DeviceConfig::new(profile));
    config.record = true;
    BackgroundPen::start(config, None).unwrap()
}

fn port_link(path: &str) -> PenLink {
    PenLink::start(Transport::serial(path.to_owned(), 115_200))
}

fn wait_for_strikes(link: &PenLink) {
    wait_for(
        link,
        WAIT,
        "Strikes",
        |e| matches!(e, LinkEvent::Strikes { batch, .. } if !batch.strikes.is_empty()),
    );
}

#[test]
fn over_a_pty_the_session_ends_with_the_motor_stopped() {
    let pen = pty_pen(skinpen());
    let link = port_link(pen.path());
    assert_eq!(link.describe(), format!("{} @ 115200", pen.path()));
    let LinkEvent::Connected { identity, .. } = connected(&link) else {
        unreachable!()
    };
    assert_eq!(identity, skinpen().identity());

    // A real pen measures force itself and takes no environment commands.
    link.send(LinkCommand::Force { newtons: 2.0 }).unwrap();
    link.send(LinkCommand::Env(EnvCommand::RemoveCartridge))
        .unwrap();
    let (seen, refused) = wait_for(&link, WAIT, "Refused", |e| {
        matches!(e, LinkEvent::Refused { .. })
    });
    assert!(
        matches!(&refused, LinkEvent::Refused { command, reason }
            if command.starts_with("Env(") && reason.contains("need the mock")),
        "{refused:?}"
    );
    assert!(seen.is_empty(), "Force answered on a real pen: {seen:?}");

    accepted(&link, LinkCommand::Start);
    wait_for_strikes(&link);
    link.shutdown();

    let mock = pen.end();
    let device = mock.device();
    assert!(device.strikes() > 0, "the motor never ran");
    assert_eq!(device.state(), DeviceState::Idle);
    assert_eq!(device.rate_hz(), 0.0);
    // The last command on the line was the closing Stop (type 0x05):
    // nothing came after it but, at most, heartbeats (0x08).
    let transcript = mock.transcript().unwrap();
    let host_bytes: Vec<u8> = transcript
        .chunks
        .iter()
        .filter(|c| c.dir == penlab_firmware_mock::transcript::Dir::HostToPen)
        .flat_map(|c| c.bytes.clone())
        .collect();
    let mut types = Vec::new();
    penlab_protocol::codec::Decoder::new().feed(&host_bytes, |r| {
        if let Ok(packet) = r {
            types.push(packet.message.msg_type().code());
        }
    });
    types.retain(|&t| t != 0x08);
    assert_eq!(types.last(), Some(&0x05), "{types:02x?}");
}

#[test]
fn a_pen_that_vanishes_is_reported_within_a_second() {
    let pen = pty_pen(skinpen());
    let link = port_link(pen.path());
    connected(&link);
    accepted(&link, LinkCommand::Start);
    wait_for_strikes(&link);

    let _mock = pen.end();
    let gone = Instant::now();
    let (_, event) = wait_for(&link, Duration::from_secs(1), "Disconnected", |e| {
        matches!(e, LinkEvent::Disconnected { .. })
    });
    assert!(gone.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(&event, LinkEvent::Disconnected { reason } if reason.contains("disconnected")),
        "{event:?}"
    );
    // The last event: nothing after it, and the thread is done.
    std::thread::sleep(Duration::from_millis(100));
    assert!(link.try_recv().is_none());
    assert!(link.is_finished());
    let closing = Instant::now();
    link.shutdown();
    assert!(closing.elapsed() < Duration::from_millis(500));
}

/// Garbage on the line, between the mock and the host: summarised, rate
/// limited, and the session carries on.
#[test]
fn garbage_on_the_line_is_summarised_and_survived() {
    let (garbage_tx, mut garbage_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let (path_tx, path_rx) = std_mpsc::channel();
    let (end, mut end_rx) = oneshot::channel::<()>();
    let relay = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut pty = Pty::open(None).unwrap();
            path_tx
                .send(pty.path().to_str().unwrap().to_owned())
                .unwrap();
            let (pen, mut host) = duplex();
            let mut mock = Mock::new(MockConfig::new(DeviceConfig::new(skinpen())));
            let mock_task = tokio::spawn(async move { mock.run(pen).await });
            let (mut from_pen, mut from_host) = ([0u8; 1024], [0u8; 1024]);
            loop {
                tokio::select! {
                    n = host.read(&mut from_pen) => {
                        let n = n.unwrap();
                        pty.master.write_all(&from_pen[..n]).await.unwrap();
                    }
                    n = pty.master.read(&mut from_host) => {
                        let n = n.unwrap();
                        host.write_all(&from_host[..n]).await.unwrap();
                    }
                    Some(junk) = garbage_rx.recv() => {
                        pty.master.write_all(&junk).await.unwrap();
                    }
                    _ = &mut end_rx => break,
                }
            }
            mock_task.abort();
        });
    });
    let path = path_rx.recv_timeout(WAIT).unwrap();
    let link = port_link(&path);
    connected(&link);
    accepted(&link, LinkCommand::Start);
    wait_for_strikes(&link);

    // Twenty bursts of noise within 200 ms: bad COBS, bad CRCs, runts.
    let mut state = 0x1234_5678u32;
    for _ in 0..20 {
        let junk: Vec<u8> = (0..40)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i % 13 == 12 { 0 } else { (state >> 24) as u8 }
            })
            .collect();
        garbage_tx.send(junk).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, first) = wait_for(&link, WAIT, "LinkTrouble", |e| {
        matches!(e, LinkEvent::LinkTrouble { .. })
    });
    assert!(
        matches!(&first, LinkEvent::LinkTrouble { what } if what.contains("failed to decode")),
        "{first:?}"
    );
    // The session goes on: strikes keep coming, and no more than a few
    // summaries (one per half second) for the whole burst.
    let until = Instant::now() + Duration::from_millis(1_200);
    let mut troubles = 1;
    let mut strikes = 0;
    while Instant::now() < until {
        match link.try_recv() {
            Some(LinkEvent::LinkTrouble { .. }) => troubles += 1,
            Some(LinkEvent::Strikes { batch, .. }) => strikes += batch.strikes.len(),
            Some(LinkEvent::Disconnected { reason }) => panic!("disconnected: {reason}"),
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    assert!(troubles <= 4, "{troubles} trouble reports for one burst");
    assert!(strikes > 50, "only {strikes} strikes after the noise");
    accepted(&link, LinkCommand::Stop);
    link.shutdown();
    let _ = end.send(());
    relay.join().unwrap();
}

#[test]
fn drain_takes_everything_waiting_in_order() {
    let link = PenLink::start(mock_pen(skinpen(), 2));
    connected(&link);
    link.send(LinkCommand::SetDepth { depth_um: 500 }).unwrap();
    link.send(LinkCommand::StatusRequest).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let events: Vec<LinkEvent> = link.drain().collect();
    assert!(
        matches!(
            &events[..],
            [
                LinkEvent::Accepted { command: a, .. },
                LinkEvent::Accepted { command: b, .. },
                LinkEvent::Status(s),
            ] if a == "SetDepth(500 µm)" && b == "StatusRequest" && s.depth_set_um == 500
        ),
        "{events:#?}"
    );
    assert!(link.try_recv().is_none());
}
