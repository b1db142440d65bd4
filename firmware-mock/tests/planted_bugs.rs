//! Each planted bug changes what a host observes, in the way its name says,
//! and the correct pen does not (the bugs of issue 15 are tested in
//! `planted_bugs_spec.rs`).

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::env::EnvCommand;
use penlab_firmware_mock::runner::MockConfig;
use penlab_protocol::message::{
    CartridgeEventKind, DeviceState, Hello, Message, NackReason, SetDepth,
};

fn buggy(bug: Option<PlantedBug>) -> MockConfig {
    let mut cfg = config("skinpen-like");
    cfg.device.bugs = bug.into_iter().collect::<BugSet>();
    cfg
}

#[test]
fn every_bug_has_a_test_here() {
    let source = [
        include_str!("planted_bugs.rs"),
        include_str!("planted_bugs_spec.rs"),
    ]
    .concat();
    for bug in PlantedBug::ALL {
        let variant = format!("{bug:?}");
        assert!(
            source.matches(&format!("PlantedBug::{variant})")).count() >= 1,
            "{variant}"
        );
    }
}

/// Settled depth from telemetry, running at the given set point.
async fn settled_depth(bug: Option<PlantedBug>, depth_um: u16) -> (u16, f64) {
    let (mut host, _env, _task) = spawn_duplex(buggy(bug));
    host.hello().await;
    host.command(Message::SetDepth(SetDepth { depth_um })).await;
    host.command(Message::Start).await;
    let got = host.run_for(Duration::from_secs(1)).await;
    let depth = got
        .iter()
        .rev()
        .find_map(|r| match &r.packet.message {
            Message::Telemetry(t) => Some(f64::from(t.depth_um)),
            _ => None,
        })
        .unwrap();
    (host.status().await.depth_set_um, depth)
}

#[tokio::test(start_paused = true)]
async fn depth_off_by_one_step() {
    let (set, good) = settled_depth(None, 1_000).await;
    assert_eq!(set, 1_000);
    assert!((good - 1_000.0).abs() < 40.0, "{good}");
    let (set, bad) = settled_depth(Some(PlantedBug::DepthOffByOneStep), 1_000).await;
    assert_eq!(set, 1_000, "the set point is reported right");
    assert!((bad - 1_250.0).abs() < 40.0, "{bad}");
}

#[tokio::test(start_paused = true)]
async fn watchdog_never_fires() {
    for bug in [None, Some(PlantedBug::WatchdogNeverFires)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        host.hello().await;
        host.command(Message::Start).await;
        let got = host.silent_for(Duration::from_secs(3)).await;
        let fired = got
            .iter()
            .any(|r| matches!(r.packet.message, Message::Fault(_)));
        let strikes_late = got.iter().any(|r| {
            matches!(r.packet.message, Message::StrikeBatch(_))
                && r.at - got[0].at > Duration::from_secs(2)
        });
        assert_eq!(fired, bug.is_none(), "{bug:?}");
        assert_eq!(strikes_late, bug.is_some(), "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn seq_not_incremented() {
    for bug in [None, Some(PlantedBug::SeqNotIncremented)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        host.send(Message::Hello(Hello { major: 1, minor: 0 }))
            .await;
        let mut seqs = Vec::new();
        for _ in 0..4 {
            seqs.push(host.recv().await.packet.seq);
        }
        let want: &[u16] = if bug.is_some() {
            &[0, 0, 0, 0]
        } else {
            &[0, 1, 2, 3]
        };
        assert_eq!(seqs, want, "{bug:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn depth_beyond_max_accepted() {
    for bug in [None, Some(PlantedBug::DepthBeyondMaxAccepted)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        let (_, caps, _) = host.hello().await;
        let beyond = caps.depth_max_um + caps.depth_step_um;
        let answer = host
            .command(Message::SetDepth(SetDepth { depth_um: beyond }))
            .await;
        let st = host.status().await;
        if bug.is_some() {
            assert_eq!(answer, Answer::Ack);
            assert_eq!(st.depth_set_um, beyond);
        } else {
            assert_eq!(answer, Answer::Nack(NackReason::OutOfRange));
            assert_eq!(st.depth_set_um, caps.depth_min_um);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn lockout_missing() {
    for bug in [None, Some(PlantedBug::LockoutMissing)] {
        let (mut host, env, _task) = spawn_duplex(buggy(bug));
        host.hello().await;
        host.command(Message::Start).await;
        host.command(Message::Stop).await;
        env.send(EnvCommand::RemoveCartridge).unwrap();
        env.send(EnvCommand::InsertCartridge {
            id: penlab_firmware_mock::device::DEFAULT_CARTRIDGE_ID,
            needles: 14,
        })
        .unwrap();
        let r = host
            .recv_where(
                |m| matches!(m, Message::Cartridge(c) if c.event != CartridgeEventKind::Removed),
            )
            .await;
        let Message::Cartridge(ev) = r.packet.message else {
            unreachable!()
        };
        let start = host.command(Message::Start).await;
        if bug.is_some() {
            assert_eq!(ev.event, CartridgeEventKind::Inserted);
            assert_eq!(start, Answer::Ack);
        } else {
            assert_eq!(ev.event, CartridgeEventKind::ReuseLockout);
            assert_eq!(start, Answer::Nack(NackReason::CartridgeLocked));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn late_ack() {
    for bug in [None, Some(PlantedBug::LateAck)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        host.hello().await;
        let sent = tokio::time::Instant::now();
        let seq = host.send(Message::Heartbeat).await;
        let (answer, r) = host.answer_to(seq).await;
        assert_eq!(answer, Answer::Ack);
        let latency = r.at - sent;
        if bug.is_some() {
            assert!(latency >= Duration::from_millis(80), "{latency:?}");
        } else {
            assert!(latency < Duration::from_millis(1), "{latency:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn bad_crc_on_status() {
    for bug in [None, Some(PlantedBug::BadCrcOnStatus)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        host.send(Message::Hello(Hello { major: 1, minor: 0 }))
            .await;
        host.silent_for(Duration::from_millis(100)).await;
        let kinds: Vec<String> = host
            .log
            .iter()
            .map(|r| r.packet.message.msg_type().to_string())
            .collect();
        let errors: Vec<&str> = host.errors.iter().map(|e| e.code()).collect();
        if bug.is_some() {
            assert_eq!(kinds, ["Ack", "Identity", "Capabilities"]);
            assert_eq!(errors, ["crc_mismatch"]);
        } else {
            assert_eq!(kinds, ["Ack", "Identity", "Capabilities", "Status"]);
            assert!(errors.is_empty());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn stop_not_acked_while_running() {
    for bug in [None, Some(PlantedBug::StopNotAckedWhileRunning)] {
        let (mut host, _env, _task) = spawn_duplex(buggy(bug));
        host.hello().await;
        host.command(Message::Start).await;
        let seq = host.send(Message::Stop).await;
        let got = host.run_for(Duration::from_millis(300)).await;
        let acked = got
            .iter()
            .any(|r| matches!(&r.packet.message, Message::Ack(a) if a.ack_seq == seq));
        assert_eq!(acked, bug.is_none(), "{bug:?}");
        // The motor stopped either way.
        assert_eq!(host.status().await.state, DeviceState::Idle);
        // Stop in idle is acknowledged either way.
        assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    }
}

#[tokio::test(start_paused = true)]
async fn no_fault_on_cartridge_removal() {
    for bug in [None, Some(PlantedBug::NoFaultOnCartridgeRemoval)] {
        let (mut host, env, _task) = spawn_duplex(buggy(bug));
        host.hello().await;
        host.command(Message::Start).await;
        env.send(EnvCommand::RemoveCartridge).unwrap();
        let got = host.run_for(Duration::from_millis(300)).await;
        assert!(
            got.iter()
                .any(|r| matches!(r.packet.message, Message::Cartridge(_)))
        );
        let fault = got
            .iter()
            .any(|r| matches!(r.packet.message, Message::Fault(_)));
        let st = host.status().await;
        if bug.is_some() {
            assert!(!fault);
            assert_eq!(st.state, DeviceState::Running);
        } else {
            assert!(fault);
            assert_eq!(st.state, DeviceState::Faulted);
        }
    }
}
