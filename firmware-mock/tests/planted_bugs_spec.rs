//! The planted bugs of issue 15, one for each kind of requirement a pen can
//! break (identifiers of `protocol/REQUIREMENTS.md`): each changes what a
//! host observes in the way its name says, and the correct pen does not.
//! Every test runs both and checks the difference, so each is also a test
//! of the correct behaviour.

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::device::DEFAULT_CARTRIDGE_ID;
use penlab_firmware_mock::env::EnvCommand;
use penlab_firmware_mock::runner::MockConfig;
use penlab_protocol::message::{
    CartridgeEventKind, DeviceState, FaultCode, Hello, Message, MessageType, NackReason, SetDepth,
    SetRate,
};
use penlab_protocol::timing::WATCHDOG_GRACE;
use tokio::time::Instant;

fn buggy(profile: &str, bug: Option<PlantedBug>) -> MockConfig {
    let mut cfg = config(profile);
    cfg.device.bugs = bug.into_iter().collect::<BugSet>();
    cfg
}

/// Both pens of a test: the correct one, then the one with `bug`.
fn both(bug: PlantedBug) -> [Option<PlantedBug>; 2] {
    [None, Some(bug)]
}

fn is<T>(got: &[Received], pick: impl Fn(&Message) -> Option<T>) -> Vec<(Instant, T)> {
    got.iter()
        .filter_map(|r| pick(&r.packet.message).map(|t| (r.at, t)))
        .collect()
}

fn batch_times(got: &[Received]) -> Vec<Instant> {
    is(got, |m| matches!(m, Message::StrikeBatch(_)).then_some(()))
        .into_iter()
        .map(|(at, ())| at)
        .collect()
}

fn hello() -> Message {
    Message::Hello(Hello { major: 1, minor: 0 })
}

/// Position in the host's log of the answer to `seq`.
fn answer_index(host_log: &[Received], seq: u16) -> usize {
    host_log
        .iter()
        .position(|r| matches!(&r.packet.message, Message::Ack(a) if a.ack_seq == seq))
        .expect("the command was acknowledged")
}

#[tokio::test(start_paused = true)]
async fn hello_keeps_motor() {
    for bug in both(PlantedBug::HelloKeepsMotor) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(300)).await;
        let (_, _, st) = host.hello().await;
        assert_eq!(
            st.state,
            DeviceState::Idle,
            "{bug:?}: the handshake says idle"
        );
        let got = host.run_for(Duration::from_millis(300)).await;
        assert_eq!(
            batch_times(&got).is_empty(),
            bug.is_none(),
            "{bug:?}: strokes after the handshake"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn rounds_off_step() {
    for bug in both(PlantedBug::RoundsOffStep) {
        let (mut host, _env, _task) = spawn_duplex(buggy("dermapen4-like", bug));
        host.hello().await;
        let depth = host
            .command(Message::SetDepth(SetDepth { depth_um: 1_250 }))
            .await;
        let rate = host
            .command(Message::SetRate(SetRate { rate_chz: 9_050 }))
            .await;
        let st = host.status().await;
        if bug.is_some() {
            assert_eq!((depth, rate), (Answer::Ack, Answer::Ack));
            assert_eq!((st.depth_set_um, st.rate_set_chz), (1_300, 9_100));
        } else {
            let refused = Answer::Nack(NackReason::OutOfRange);
            assert_eq!((depth, rate), (refused.clone(), refused));
            assert_eq!((st.depth_set_um, st.rate_set_chz), (200, 6_000));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn slow_batches() {
    for bug in both(PlantedBug::SlowBatches) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        let got = host.run_for(Duration::from_secs(2)).await;
        let longest = batch_times(&got)
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap();
        if bug.is_some() {
            assert!(longest >= Duration::from_millis(150), "{longest:?}");
        } else {
            assert!(longest <= Duration::from_millis(100), "{longest:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn telemetry_drift() {
    for bug in both(PlantedBug::TelemetryDrift) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        let (_, caps, _) = host.hello().await;
        host.command(Message::Start).await;
        let got = host.run_for(Duration::from_secs(3)).await;
        let times: Vec<u32> = is(&got, |m| match m {
            Message::Telemetry(t) => Some(t.time_us),
            _ => None,
        })
        .into_iter()
        .map(|(_, t)| t)
        .collect();
        let mean_ms = f64::from(times[times.len() - 1] - times[0]) / 1e3 / (times.len() - 1) as f64;
        let period = f64::from(caps.telemetry_period_ms);
        let within = (mean_ms - period).abs() <= period * 0.05;
        assert_eq!(within, bug.is_none(), "{bug:?}: mean {mean_ms} ms");
    }
}

#[tokio::test(start_paused = true)]
async fn watchdog_late() {
    for bug in both(PlantedBug::WatchdogLate) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        let seq = host.send(Message::Heartbeat).await;
        let (_, ack) = host.answer_to(seq).await;
        let got = host.silent_for(Duration::from_secs(2)).await;
        let (fired, _) = is(&got, |m| match m {
            Message::Fault(f) if f.code == FaultCode::WatchdogExpired => Some(()),
            _ => None,
        })[0];
        let after = fired - ack.at;
        let timeout = Duration::from_millis(1_000);
        let on_time = after >= timeout && after <= timeout + WATCHDOG_GRACE;
        assert_eq!(on_time, bug.is_none(), "{bug:?}: fired after {after:?}");
    }
}

/// Sends `frame` every 200 ms for 2 s and nothing else; whether the
/// watchdog fired meanwhile.
async fn watchdog_fires_under<S>(host: &mut Host<S>, frame: &[u8]) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut fired = false;
    for _ in 0..10 {
        host.send_raw(frame).await;
        fired |= host
            .silent_for(Duration::from_millis(200))
            .await
            .iter()
            .any(|r| matches!(&r.packet.message, Message::Fault(f) if f.code == FaultCode::WatchdogExpired));
    }
    fired
}

#[tokio::test(start_paused = true)]
async fn watchdog_fed_by_noise() {
    // A Heartbeat whose CRC is off by one bit: noise, not a frame.
    let mut wire = [0u8; 32];
    let mut raw = vec![MessageType::Heartbeat.code(), 0x10, 0x00];
    let crc = penlab_protocol::checksum::crc32c(&raw) ^ 1;
    raw.extend_from_slice(&crc.to_le_bytes());
    let n = penlab_protocol::codec::encode_frame(&raw, &mut wire).unwrap();
    for bug in both(PlantedBug::WatchdogFedByNoise) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        let fired = watchdog_fires_under(&mut host, &wire[..n]).await;
        assert_eq!(fired, bug.is_none(), "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn trailing_bytes_accepted() {
    for bug in both(PlantedBug::TrailingBytesAccepted) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        // SetDepth(1 000) and one byte too many.
        let seq = host
            .send_frame(MessageType::SetDepth.code(), &[0xe8, 0x03, 0x00])
            .await;
        let (answer, _) = host.answer_to(seq).await;
        let depth = host.status().await.depth_set_um;
        if bug.is_some() {
            assert_eq!((answer, depth), (Answer::Ack, 1_000));
        } else {
            assert_eq!((answer, depth), (Answer::Nack(NackReason::Malformed), 0));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn duplicate_old_frame() {
    for bug in both(PlantedBug::DuplicateOldFrame) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.send_seq(7, Message::Heartbeat).await;
        let (_, first) = host.answer_to(7).await;
        host.send_seq(7, Message::Heartbeat).await;
        let (_, again) = host.answer_to(7).await;
        assert_eq!(first.packet.message, again.packet.message, "{bug:?}");
        let new_frame = again.packet.seq == first.packet.seq.wrapping_add(1);
        assert_eq!(new_frame, bug.is_none(), "{bug:?}: {again:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn pen_frames_answered() {
    // An Ack of seq 5, as an echoing line would bring the pen its own.
    let mut wire = [0u8; 32];
    let mut raw = vec![MessageType::Ack.code(), 0x03, 0x00, 0x05, 0x00, 0x08];
    let crc = penlab_protocol::checksum::crc32c(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    let n = penlab_protocol::codec::encode_frame(&raw, &mut wire).unwrap();
    for bug in both(PlantedBug::PenFramesAnswered) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.send_raw(&wire[..n]).await;
        let got = host.silent_for(Duration::from_millis(100)).await;
        let answered = got.iter().any(|r| {
            matches!(&r.packet.message, Message::Nack(k) if k.command == 0x80 && k.reason == NackReason::UnknownMessage)
        });
        assert_eq!(answered, bug.is_some(), "{bug:?}: {got:?}");
        host.command(Message::Start).await;
        let fired = watchdog_fires_under(&mut host, &wire[..n]).await;
        assert_eq!(fired, bug.is_none(), "{bug:?}: watchdog fed by echoes");
    }
}

#[tokio::test(start_paused = true)]
async fn status_seven_bytes() {
    for bug in both(PlantedBug::StatusSevenBytes) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.send(hello()).await;
        host.silent_for(Duration::from_millis(100)).await;
        let statuses = host
            .log
            .iter()
            .filter(|r| matches!(r.packet.message, Message::Status(_)))
            .count();
        let errors: Vec<&str> = host.errors.iter().map(|e| e.code()).collect();
        if bug.is_some() {
            assert_eq!((statuses, errors), (0, vec!["malformed"]));
        } else {
            assert_eq!((statuses, errors), (1, vec![]));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn empty_batches() {
    for bug in both(PlantedBug::EmptyBatches) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(500)).await;
        // Right after a batch, no stroke is held: a Stop now has none to send.
        host.recv_where(|m| matches!(m, Message::StrikeBatch(_)))
            .await;
        host.command(Message::Stop).await;
        host.run_for(Duration::from_millis(100)).await;
        let empty = host
            .log
            .iter()
            .any(|r| matches!(&r.packet.message, Message::StrikeBatch(b) if b.strikes.is_empty()));
        assert_eq!(empty, bug.is_some(), "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn telemetry_outside_running() {
    for bug in both(PlantedBug::TelemetryOutsideRunning) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        let got = host.run_for(Duration::from_millis(500)).await;
        let telemetry = got
            .iter()
            .any(|r| matches!(r.packet.message, Message::Telemetry(_)));
        assert_eq!(telemetry, bug.is_some(), "{bug:?}: telemetry in idle");
    }
}

#[tokio::test(start_paused = true)]
async fn strikes_after_stop_ack() {
    for bug in both(PlantedBug::StrikesAfterStopAck) {
        for stop in [Message::Stop, Message::EmergencyStop] {
            let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
            host.hello().await;
            host.command(Message::Start).await;
            host.run_for(Duration::from_millis(300)).await;
            // 30 ms after a batch: some strokes are held.
            host.recv_where(|m| matches!(m, Message::StrikeBatch(_)))
                .await;
            host.silent_for(Duration::from_millis(30)).await;
            let seq = host.send(stop.clone()).await;
            host.run_for(Duration::from_millis(200)).await;
            let at = answer_index(&host.log, seq);
            let before = matches!(host.log[at - 1].packet.message, Message::StrikeBatch(_));
            let after = batch_times(&host.log[at..]).len();
            if bug.is_some() {
                assert_eq!((before, after), (false, 1), "{stop:?}");
            } else {
                assert_eq!((before, after), (true, 0), "{stop:?}");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn motor_stops_after_ack() {
    for bug in both(PlantedBug::MotorStopsAfterAck) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(300)).await;
        let seq = host.send(Message::Stop).await;
        host.run_for(Duration::from_millis(300)).await;
        let at = answer_index(&host.log, seq);
        let telemetry_after = host.log[at..]
            .iter()
            .any(|r| matches!(r.packet.message, Message::Telemetry(_)));
        assert_eq!(
            telemetry_after,
            bug.is_some(),
            "{bug:?}: running after the Ack"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn status_before_ack() {
    for bug in both(PlantedBug::StatusBeforeAck) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.send(Message::Start).await;
        let first = host.recv().await.packet.message;
        assert_eq!(
            matches!(first, Message::Ack(_)),
            bug.is_none(),
            "{bug:?}: {first:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn lockout_after_inserted() {
    for bug in both(PlantedBug::LockoutAfterInserted) {
        let (mut host, env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.command(Message::Stop).await;
        env.send(EnvCommand::RemoveCartridge).unwrap();
        env.send(EnvCommand::InsertCartridge {
            id: DEFAULT_CARTRIDGE_ID,
            needles: 14,
        })
        .unwrap();
        let got = host.run_for(Duration::from_millis(100)).await;
        let events: Vec<CartridgeEventKind> = is(&got, |m| match m {
            Message::Cartridge(c) => Some(c.event),
            _ => None,
        })
        .into_iter()
        .map(|(_, e)| e)
        .collect();
        use CartridgeEventKind as E;
        let want: &[E] = if bug.is_some() {
            &[E::Removed, E::Inserted, E::ReuseLockout]
        } else {
            &[E::Removed, E::ReuseLockout]
        };
        assert_eq!(events, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn hello_keeps_set_points() {
    for bug in both(PlantedBug::HelloKeepsSetPoints) {
        let (mut host, _env, _task) = spawn_duplex(buggy("dermapen4-like", bug));
        host.hello().await;
        host.command(Message::SetDepth(SetDepth { depth_um: 1_500 }))
            .await;
        host.command(Message::SetRate(SetRate { rate_chz: 9_000 }))
            .await;
        let (_, _, st) = host.hello().await;
        let kept = (st.depth_set_um, st.rate_set_chz) == (1_500, 9_000);
        assert_eq!(kept, bug.is_some(), "{bug:?}: {st:?}");
        if bug.is_none() {
            assert_eq!((st.depth_set_um, st.rate_set_chz), (200, 6_000));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn seq_kept_before_hello() {
    for bug in both(PlantedBug::SeqKeptBeforeHello) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        // One tool asks for the status before any Hello...
        host.send_seq(5, Message::StatusRequest).await;
        host.answer_to(5).await;
        // ...another, numbering from the same 5, stops the pen.
        host.send_seq(5, Message::EmergencyStop).await;
        let (_, r) = host.answer_to(5).await;
        let Message::Ack(ack) = r.packet.message else {
            panic!("{r:?}")
        };
        host.next_seq = 6;
        let state = host.status().await.state;
        if bug.is_some() {
            // Taken for the StatusRequest again, and not carried out.
            assert_eq!(ack.command, MessageType::StatusRequest.code());
            assert_eq!(state, DeviceState::AwaitingHello);
        } else {
            assert_eq!(ack.command, MessageType::EmergencyStop.code());
            assert_eq!(state, DeviceState::EmergencyStopped);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn hello_ignores_persisting_fault() {
    for bug in both(PlantedBug::HelloIgnoresPersistingFault) {
        let (mut host, env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        env.send(EnvCommand::InjectFault {
            code: FaultCode::MotorStall,
        })
        .unwrap();
        host.recv_where(|m| matches!(m, Message::Fault(_))).await;
        let (_, _, st) = host.hello().await;
        assert_ne!(st.active_faults & FaultCode::MotorStall.bit().unwrap(), 0);
        let want = if bug.is_some() {
            DeviceState::Idle
        } else {
            DeviceState::Faulted
        };
        assert_eq!(st.state, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn faulted_start_no_cartridge() {
    for bug in both(PlantedBug::FaultedStartNoCartridge) {
        let (mut host, env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        env.send(EnvCommand::RemoveCartridge).unwrap();
        host.recv_where(|m| matches!(m, Message::Fault(_))).await;
        assert_eq!(host.status().await.state, DeviceState::Faulted);
        let want = if bug.is_some() {
            NackReason::NoCartridge
        } else {
            NackReason::FaultActive
        };
        assert_eq!(host.command(Message::Start).await, Answer::Nack(want));
    }
}

#[tokio::test(start_paused = true)]
async fn low_battery_latches() {
    for bug in both(PlantedBug::LowBatteryLatches) {
        let (mut host, env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        env.send(EnvCommand::SetBattery { pct: 10.0 }).unwrap();
        host.recv_where(|m| matches!(m, Message::Fault(_))).await;
        env.send(EnvCommand::SetBattery { pct: 60.0 }).unwrap();
        let got = host.run_for(Duration::from_millis(200)).await;
        let cleared = got.iter().any(|r| {
            matches!(&r.packet.message, Message::Fault(f) if f.code == FaultCode::LowBattery && !f.active)
        });
        assert_eq!(cleared, bug.is_none(), "{bug:?}: cleared by itself");
        let active = host.status().await.active_faults != 0;
        assert_eq!(active, bug.is_some(), "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn watchdog_fault_dropped() {
    for bug in both(PlantedBug::WatchdogFaultDropped) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.silent_for(Duration::from_millis(1_500)).await;
        let st = host.status().await;
        assert_eq!(st.state, DeviceState::AwaitingHello);
        let kept = st.active_faults & FaultCode::WatchdogExpired.bit().unwrap() != 0;
        assert_eq!(kept, bug.is_none(), "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn busy_too_long() {
    for bug in both(PlantedBug::BusyTooLong) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::SetDepth(SetDepth { depth_um: 1_000 }))
            .await;
        host.run_for(Duration::from_millis(1_200)).await;
        let answer = host
            .command(Message::SetDepth(SetDepth { depth_um: 1_250 }))
            .await;
        let want = if bug.is_some() {
            Answer::Nack(NackReason::Busy)
        } else {
            Answer::Ack
        };
        assert_eq!(answer, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn busy_refuses_stop() {
    for bug in both(PlantedBug::BusyRefusesStop) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(200)).await;
        // 2 mm of travel at 5 mm/s: the drive moves for 400 ms.
        host.command(Message::SetDepth(SetDepth { depth_um: 2_000 }))
            .await;
        let stop = host.command(Message::Stop).await;
        let want = if bug.is_some() {
            Answer::Nack(NackReason::Busy)
        } else {
            Answer::Ack
        };
        assert_eq!(stop, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn cleared_fault_in_handshake() {
    for bug in both(PlantedBug::ClearedFaultInHandshake) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        // The watchdog ends the session; the next Hello clears its fault.
        host.silent_for(Duration::from_millis(1_500)).await;
        let seq = host.send(hello()).await;
        host.answer_to(seq).await;
        let mut kinds = Vec::new();
        for _ in 0..4 {
            kinds.push(host.recv().await.packet.message.msg_type());
        }
        use MessageType as T;
        let want = if bug.is_some() {
            [T::Identity, T::Capabilities, T::Fault, T::Status]
        } else {
            [T::Identity, T::Capabilities, T::Status, T::Fault]
        };
        assert_eq!(kinds, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn strike_count_restarts() {
    for bug in both(PlantedBug::StrikeCountRestarts) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(500)).await;
        host.command(Message::Stop).await;
        host.command(Message::Start).await;
        let second = host
            .recv_where(|m| matches!(m, Message::StrikeBatch(_)))
            .await;
        let Message::StrikeBatch(b) = second.packet.message else {
            unreachable!()
        };
        let first_run: u32 = host
            .log
            .iter()
            .filter(|r| r.at < second.at)
            .filter_map(|r| match &r.packet.message {
                Message::StrikeBatch(b) => Some(b.strikes.len() as u32),
                _ => None,
            })
            .sum();
        assert!(first_run > 30);
        let want = if bug.is_some() { 0 } else { first_run };
        assert_eq!(b.first_strike, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn labelled_above_max() {
    for bug in both(PlantedBug::LabelledAboveMax) {
        let (mut host, _env, _task) = spawn_duplex(buggy("skinpen-like", bug));
        let (_, caps, _) = host.hello().await;
        let consistent = caps.labelled_max_depth_um <= caps.depth_max_um;
        assert_eq!(consistent, bug.is_none(), "{bug:?}: {caps:?}");
    }
}
