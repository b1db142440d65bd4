//! The state machine, timing, faults and physics, on the in-process link
//! under tokio's paused clock (timing-heavy checks run in virtual time).

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::env::EnvCommand;
use penlab_protocol::message::{
    CartridgeEventKind, CartridgeState, DeviceState, Fault, FaultCode, Message, NackReason,
    SetDepth, SetRate, StrikeBatch, Telemetry,
};
use tokio::time::Instant;

fn faults(got: &[Received]) -> Vec<Fault> {
    got.iter()
        .filter_map(|r| match &r.packet.message {
            Message::Fault(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn batches(got: &[Received]) -> Vec<StrikeBatch> {
    got.iter()
        .filter_map(|r| match &r.packet.message {
            Message::StrikeBatch(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

fn telemetry(got: &[Received]) -> Vec<(Instant, Telemetry)> {
    got.iter()
        .filter_map(|r| match &r.packet.message {
            Message::Telemetry(t) => Some((r.at, t.clone())),
            _ => None,
        })
        .collect()
}

fn statuses(got: &[Received]) -> Vec<DeviceState> {
    got.iter()
        .filter_map(|r| match &r.packet.message {
            Message::Status(s) => Some(s.state),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn answers_within_the_deadlines() {
    use penlab_protocol::timing::{ACK_DEADLINE, HANDSHAKE_DEADLINE};
    let (mut host, _env, _task) = spawn_duplex(config("dermapen4-like"));
    let t0 = Instant::now();
    host.hello().await;
    let handshake = host.log.last().unwrap().at - t0;
    assert!(handshake < HANDSHAKE_DEADLINE, "{handshake:?}");
    host.command(Message::Start).await;
    host.run_for(Duration::from_millis(500)).await;
    // Every command, while the pen is busy streaming.
    for msg in [
        Message::SetDepth(SetDepth { depth_um: 1_000 }),
        Message::SetRate(SetRate { rate_chz: 10_000 }),
        Message::Heartbeat,
        Message::StatusRequest,
        Message::Start,
        Message::Stop,
        Message::EmergencyStop,
    ] {
        let sent = Instant::now();
        let seq = host.send(msg.clone()).await;
        let (_, r) = host.answer_to(seq).await;
        assert!(r.at - sent < ACK_DEADLINE, "{msg:?}: {:?}", r.at - sent);
    }
}

#[tokio::test(start_paused = true)]
async fn duplicate_seq_is_answered_again_but_not_executed() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.send_seq(7, Message::SetDepth(SetDepth { depth_um: 500 }))
        .await;
    let (first, r1) = host.answer_to(7).await;
    assert_eq!(first, Answer::Ack);
    // Same seq again, different payload: a retransmission as far as the pen
    // can tell. Answered the same, not executed.
    host.send_seq(7, Message::SetDepth(SetDepth { depth_um: 750 }))
        .await;
    let (second, r2) = host.answer_to(7).await;
    assert_eq!(second, Answer::Ack);
    assert_eq!(r1.packet.message, r2.packet.message);
    assert_ne!(r1.packet.seq, r2.packet.seq, "a new frame from the pen");
    host.next_seq = 8;
    assert_eq!(host.status().await.depth_set_um, 500);
    // A refused command repeated gets the same refusal.
    host.send_seq(20, Message::SetDepth(SetDepth { depth_um: 9_999 }))
        .await;
    assert_eq!(
        host.answer_to(20).await.0,
        Answer::Nack(NackReason::OutOfRange)
    );
    host.send_seq(20, Message::SetDepth(SetDepth { depth_um: 9_999 }))
        .await;
    assert_eq!(
        host.answer_to(20).await.0,
        Answer::Nack(NackReason::OutOfRange)
    );
    // A Start retransmitted does not start twice (one Status, not two).
    host.send_seq(21, Message::Start).await;
    host.answer_to(21).await;
    host.send_seq(21, Message::Start).await;
    assert_eq!(host.answer_to(21).await.0, Answer::Ack);
    host.next_seq = 22;
    let got = host.run_for(Duration::from_millis(300)).await;
    assert!(statuses(&got).is_empty(), "{:?}", statuses(&got));
}

#[tokio::test(start_paused = true)]
async fn watchdog_fires_after_the_declared_timeout_in_every_session_state() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    // Not in awaiting_hello.
    let got = host.silent_for(Duration::from_secs(3)).await;
    assert!(faults(&got).is_empty());
    let (_, caps, _) = host.hello().await;
    assert_eq!(caps.watchdog_timeout_ms, 1_000);
    // Heartbeats keep it fed, running included.
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    let got = host.run_for(Duration::from_secs(5)).await;
    assert!(faults(&got).is_empty());
    // Silence: it fires on its deadline, 1 s after the last frame: never
    // before (R-WD-4), and in virtual time at once (the spec allows 50 ms).
    let seq = host.send(Message::Heartbeat).await;
    let (_, ack) = host.answer_to(seq).await;
    let got = host.silent_for(Duration::from_millis(1_500)).await;
    let fault_at = got
        .iter()
        .find(|r| matches!(&r.packet.message, Message::Fault(f) if f.code == FaultCode::WatchdogExpired && f.active))
        .expect("watchdog did not fire")
        .at;
    let after = fault_at - ack.at;
    assert!(
        after >= Duration::from_millis(1_000) && after <= Duration::from_millis(1_002),
        "{after:?}"
    );
    assert_eq!(statuses(&got), [DeviceState::AwaitingHello]);
    let last_batch_at = got
        .iter()
        .filter(|r| matches!(r.packet.message, Message::StrikeBatch(_)))
        .map(|r| r.at)
        .max()
        .unwrap();
    assert!(last_batch_at <= fault_at, "strikes after the motor stopped");
    let st = host.status().await;
    assert_eq!(st.state, DeviceState::AwaitingHello);
    assert_ne!(
        st.active_faults & FaultCode::WatchdogExpired.bit().unwrap(),
        0
    );
    // A new Hello clears it.
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Idle);
    assert_eq!(st.active_faults, 0);
    let cleared = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(cleared.packet.message, Message::Fault(f) if f.code == FaultCode::WatchdogExpired && !f.active)
    );
    // Idle is watched too, and so is emergency_stopped.
    let got = host.silent_for(Duration::from_millis(1_200)).await;
    assert_eq!(faults(&got).len(), 1);
    host.hello().await;
    assert_eq!(host.command(Message::EmergencyStop).await, Answer::Ack);
    let got = host.silent_for(Duration::from_millis(1_200)).await;
    assert_eq!(faults(&got)[0].code, FaultCode::WatchdogExpired);
    assert_eq!(statuses(&got).last(), Some(&DeviceState::AwaitingHello));
}

#[tokio::test(start_paused = true)]
async fn emergency_stop_stops_at_once_and_latches_until_hello() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    host.run_for(Duration::from_millis(500)).await;
    let seq = host.send(Message::EmergencyStop).await;
    let (answer, ack) = host.answer_to(seq).await;
    assert_eq!(answer, Answer::Ack);
    let got = host.run_for(Duration::from_millis(500)).await;
    assert!(
        got.iter().all(|r| !matches!(
            r.packet.message,
            Message::StrikeBatch(_) | Message::Telemetry(_)
        )),
        "motor still running after the Ack"
    );
    assert_eq!(statuses(&got), [DeviceState::EmergencyStopped]);
    assert!(got[0].at == ack.at);
    for (msg, want) in [
        (Message::Start, Answer::Nack(NackReason::WrongState)),
        (
            Message::SetDepth(SetDepth { depth_um: 500 }),
            Answer::Nack(NackReason::WrongState),
        ),
        (
            Message::SetRate(SetRate { rate_chz: 11_700 }),
            Answer::Nack(NackReason::WrongState),
        ),
        (Message::Stop, Answer::Ack),
        (Message::EmergencyStop, Answer::Ack),
        (Message::Heartbeat, Answer::Ack),
    ] {
        assert_eq!(host.command(msg.clone()).await, want, "{msg:?}");
    }
    assert_eq!(host.status().await.state, DeviceState::EmergencyStopped);
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Idle);
    // From awaiting_hello too.
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    assert_eq!(host.command(Message::EmergencyStop).await, Answer::Ack);
    assert_eq!(host.status().await.state, DeviceState::EmergencyStopped);
}

#[tokio::test(start_paused = true)]
async fn hello_while_running_stops_and_restarts_numbering() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    let got = host.run_for(Duration::from_secs(1)).await;
    assert!(batches(&got).iter().map(|b| b.strikes.len()).sum::<usize>() > 50);
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Idle);
    let got = host.run_for(Duration::from_millis(300)).await;
    assert!(batches(&got).is_empty());
    host.command(Message::Start).await;
    let got = host.run_for(Duration::from_millis(500)).await;
    assert_eq!(batches(&got)[0].first_strike, 0);
}

#[tokio::test(start_paused = true)]
async fn cartridge_lifecycle_and_reuse_lockout() {
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    host.run_for(Duration::from_millis(300)).await;
    host.command(Message::Stop).await;
    env.send(EnvCommand::RemoveCartridge).unwrap();
    let r = host
        .recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    let Message::Cartridge(ev) = r.packet.message else {
        unreachable!()
    };
    assert_eq!(ev.event, CartridgeEventKind::Removed);
    let used = ev.cartridge_id;
    assert_eq!(host.status().await.cartridge, CartridgeState::Absent);
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::NoCartridge)
    );
    // The used one again: locked out.
    env.send(EnvCommand::InsertCartridge {
        id: used,
        needles: 14,
    })
    .unwrap();
    let r = host
        .recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    let Message::Cartridge(ev) = r.packet.message else {
        unreachable!()
    };
    assert_eq!(
        (ev.event, ev.cartridge_id),
        (CartridgeEventKind::ReuseLockout, used)
    );
    let before = host.status().await;
    assert_eq!(before.cartridge, CartridgeState::Locked);
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::CartridgeLocked)
    );
    assert_eq!(host.status().await, before);
    // A fresh one runs.
    env.send(EnvCommand::InsertCartridge {
        id: 77,
        needles: 14,
    })
    .unwrap();
    let kinds: Vec<_> = [
        host.recv_where(|m| matches!(m, Message::Cartridge(_)))
            .await,
        host.recv_where(|m| matches!(m, Message::Cartridge(_)))
            .await,
    ]
    .into_iter()
    .map(|r| match r.packet.message {
        Message::Cartridge(ev) => (ev.event, ev.cartridge_id),
        _ => unreachable!(),
    })
    .collect();
    assert_eq!(
        kinds,
        [
            (CartridgeEventKind::Removed, used),
            (CartridgeEventKind::Inserted, 77)
        ]
    );
    assert_eq!(host.status().await.cartridge, CartridgeState::Ready);
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    // A pen without the lockout feature takes a used cartridge back.
    let (mut host, env, _task) = spawn_duplex(config("exceed-like"));
    host.hello().await;
    host.command(Message::Start).await;
    host.command(Message::Stop).await;
    env.send(EnvCommand::RemoveCartridge).unwrap();
    env.send(EnvCommand::InsertCartridge {
        id: penlab_firmware_mock::device::DEFAULT_CARTRIDGE_ID,
        needles: 6,
    })
    .unwrap();
    host.recv_where(
        |m| matches!(m, Message::Cartridge(c) if c.event != CartridgeEventKind::Removed),
    )
    .await;
    assert_eq!(host.status().await.cartridge, CartridgeState::Ready);
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
}

/// Runs, raises `code` through `cause`, checks the latch, removes the cause
/// with `cure`, and checks that `Stop` clears it.
/// The cycle for a fault injected through the environment channel and
/// cleared the same way.
async fn injected_fault_cycle(code: FaultCode) {
    critical_fault_cycle(
        code,
        vec![EnvCommand::InjectFault { code }],
        vec![EnvCommand::ClearFault { code }],
    )
    .await;
}

async fn critical_fault_cycle(code: FaultCode, cause: Vec<EnvCommand>, cure: Vec<EnvCommand>) {
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::SetDepth(SetDepth { depth_um: 1_000 }))
        .await;
    host.command(Message::Start).await;
    host.run_for(Duration::from_millis(600)).await;
    for c in cause {
        env.send(c).unwrap();
    }
    let raised_at = host
        .recv_where(|m| matches!(m, Message::Fault(f) if f.code == code && f.active))
        .await
        .at;
    let got = host.run_for(Duration::from_millis(400)).await;
    assert!(
        got.iter().all(|r| !(matches!(
            r.packet.message,
            Message::StrikeBatch(_) | Message::Telemetry(_)
        ) && r.at > raised_at)),
        "{code:?}: motor not stopped"
    );
    let st = host.status().await;
    assert_eq!(st.state, DeviceState::Faulted, "{code:?}");
    assert_ne!(st.active_faults & code.bit().unwrap(), 0);
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::FaultActive)
    );
    // SetDepth is still allowed in faulted.
    assert_eq!(
        host.command(Message::SetDepth(SetDepth { depth_um: 750 }))
            .await,
        Answer::Ack
    );
    let cause_persists = !cure.is_empty();
    if cause_persists {
        // Stop with the cause still there: acknowledged, fault stays.
        assert_eq!(host.command(Message::Stop).await, Answer::Ack);
        assert_eq!(host.status().await.state, DeviceState::Faulted, "{code:?}");
        // Hello too.
        let (_, _, st) = host.hello().await;
        assert_eq!(st.state, DeviceState::Faulted, "{code:?}");
        for c in cure {
            env.send(c).unwrap();
        }
    }
    host.clear();
    let seq = host.send(Message::Stop).await;
    assert_eq!(host.answer_to(seq).await.0, Answer::Ack);
    let cleared = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(cleared.packet.message, Message::Fault(f) if f.code == code && !f.active),
        "{code:?}"
    );
    let st = host.status().await;
    assert_eq!(
        (st.state, st.active_faults & code.bit().unwrap()),
        (DeviceState::Idle, 0),
        "{code:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn motor_stall() {
    injected_fault_cycle(FaultCode::MotorStall).await;
}

#[tokio::test(start_paused = true)]
async fn over_current_injected_and_from_force() {
    injected_fault_cycle(FaultCode::OverCurrent).await;
    // Pressing too hard: the current model goes past max_current_ma. The
    // cause is gone once the motor stops, so Stop clears it.
    critical_fault_cycle(
        FaultCode::OverCurrent,
        vec![EnvCommand::SetForce { newtons: 10.0 }],
        vec![],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn over_temperature_clears_only_once_cooled() {
    injected_fault_cycle(FaultCode::OverTemperature).await;
}

#[tokio::test(start_paused = true)]
async fn hot_motor_keeps_the_fault_until_it_cools() {
    // A hot motor (70 °C, limit 65 °C) cools with a 120 s time constant:
    // about 14 s to get below the limit.
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    env.send(EnvCommand::SetTemperature { dc: 700 }).unwrap();
    let r = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(r.packet.message, Message::Fault(f) if f.code == FaultCode::OverTemperature && f.active && f.detail >= 650)
    );
    host.run_for(Duration::from_secs(5)).await;
    host.command(Message::Stop).await;
    assert_eq!(
        host.status().await.state,
        DeviceState::Faulted,
        "cleared while still hot"
    );
    host.run_for(Duration::from_secs(15)).await;
    host.command(Message::Stop).await;
    assert_eq!(
        host.status().await.state,
        DeviceState::Idle,
        "not cleared once cool"
    );
}

#[tokio::test(start_paused = true)]
async fn depth_drive_jam() {
    injected_fault_cycle(FaultCode::DepthDriveJam).await;
}

#[tokio::test(start_paused = true)]
async fn cartridge_removed_while_running() {
    critical_fault_cycle(
        FaultCode::CartridgeRemovedWhileRunning,
        vec![EnvCommand::RemoveCartridge],
        vec![],
    )
    .await;
    injected_fault_cycle(FaultCode::CartridgeRemovedWhileRunning).await;
}

#[tokio::test(start_paused = true)]
async fn low_battery_is_a_warning() {
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    env.send(EnvCommand::SetBattery { pct: 10.0 }).unwrap();
    let r = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(r.packet.message, Message::Fault(f) if f.code == FaultCode::LowBattery && f.active && f.detail == 10)
    );
    let got = host.run_for(Duration::from_millis(500)).await;
    assert!(!batches(&got).is_empty(), "the motor keeps running");
    let st = host.status().await;
    assert_eq!(st.state, DeviceState::Running);
    assert_ne!(st.active_faults & FaultCode::LowBattery.bit().unwrap(), 0);
    assert!(telemetry(&got).iter().all(|(_, t)| t.battery_pct <= 10));
    env.send(EnvCommand::SetBattery { pct: 60.0 }).unwrap();
    let r = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(r.packet.message, Message::Fault(f) if f.code == FaultCode::LowBattery && !f.active)
    );
    assert_eq!(host.status().await.active_faults, 0);
    // Start is allowed with the warning on.
    host.command(Message::Stop).await;
    env.send(EnvCommand::SetBattery { pct: 5.0 }).unwrap();
    host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
}

#[tokio::test(start_paused = true)]
async fn fault_outside_a_session_state_keeps_the_state() {
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    env.send(EnvCommand::InjectFault {
        code: FaultCode::MotorStall,
    })
    .unwrap();
    host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert_eq!(host.status().await.state, DeviceState::AwaitingHello);
    // Hello with the cause present: faulted.
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Faulted);
    env.send(EnvCommand::ClearFault {
        code: FaultCode::MotorStall,
    })
    .unwrap();
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Idle);
}

#[tokio::test(start_paused = true)]
async fn depth_lands_within_tolerance_after_travel() {
    let profile = profile("skinpen-like");
    let sigma = profile.actuator.landing_error_um;
    let mut landings = Vec::new();
    for seed in 1..=4 {
        let mut cfg = config("skinpen-like");
        cfg.device.seed = seed;
        let (mut host, _env, _task) = spawn_duplex(cfg);
        host.hello().await;
        host.command(Message::Start).await;
        host.run_for(Duration::from_millis(300)).await;
        let seq = host
            .send(Message::SetDepth(SetDepth { depth_um: 2_000 }))
            .await;
        let (_, ack) = host.answer_to(seq).await;
        let got = host.run_for(Duration::from_secs(2)).await;
        let tel = telemetry(&got);
        // 2 000 µm at 5 000 µm/s: 0.4 s of travel.
        let travel = Duration::from_secs_f64(2_000.0 / profile.actuator.speed_um_per_s);
        let moving: Vec<u16> = tel
            .iter()
            .filter(|(at, _)| *at < ack.at + travel / 2)
            .map(|(_, t)| t.depth_um)
            .collect();
        assert!(
            !moving.is_empty() && moving.iter().all(|&d| d < 1_500),
            "{moving:?}"
        );
        let settled: Vec<f64> = tel
            .iter()
            .filter(|(at, _)| *at > ack.at + travel + Duration::from_millis(50))
            .map(|(_, t)| f64::from(t.depth_um))
            .collect();
        assert!(settled.len() > 20);
        let landing = settled[0];
        assert!(
            settled.iter().all(|&d| d == landing),
            "the drive rests where it landed"
        );
        assert!(
            (landing - 2_000.0).abs() <= 4.0 * sigma,
            "landed at {landing}"
        );
        // Strike depths scatter around the landing point.
        let strikes: Vec<f64> = batches(&got)
            .iter()
            .flat_map(|b| b.strikes.clone())
            .map(|s| f64::from(s.depth_um))
            .collect();
        let late = &strikes[strikes.len() / 2..];
        let mean = late.iter().sum::<f64>() / late.len() as f64;
        assert!(
            (mean - landing).abs() < 2.0,
            "strike mean {mean} vs {landing}"
        );
        assert!(late.iter().any(|&d| d != landing), "strikes carry noise");
        landings.push(landing);
    }
    landings.dedup();
    assert!(
        landings.len() > 1,
        "landing error should depend on the seed: {landings:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn strike_rate_batching_and_telemetry_follow_the_set_rate() {
    for (name, rate_chz) in [
        ("skinpen-like", 11_700u16),
        ("dermapen4-like", 9_000),
        ("exceed-like", 15_000),
    ] {
        let (mut host, _env, _task) = spawn_duplex(config(name));
        let (_, caps, _) = host.hello().await;
        assert_eq!(
            host.command(Message::SetRate(SetRate { rate_chz })).await,
            Answer::Ack,
            "{name}"
        );
        host.command(Message::Start).await;
        let got = host.run_for(Duration::from_secs(10)).await;
        let bs = batches(&got);
        // Numbered without gaps, from 0.
        let mut next = 0;
        for b in &bs {
            assert_eq!(b.first_strike, next, "{name}");
            next += b.strikes.len() as u32;
            assert!(b.strikes.len() <= 60);
            assert!(
                b.strikes
                    .windows(2)
                    .all(|w| w[0].offset_10us < w[1].offset_10us)
            );
        }
        let batch_times: Vec<Instant> = got
            .iter()
            .filter(|r| matches!(r.packet.message, Message::StrikeBatch(_)))
            .map(|r| r.at)
            .collect();
        assert!(
            batch_times
                .windows(2)
                .all(|w| w[1] - w[0] <= Duration::from_millis(100)),
            "{name}: batch gap"
        );
        // Steady state: strikes in the last 9 s at the set rate.
        let hz = f64::from(rate_chz) / 100.0;
        let steady: Vec<u64> = bs
            .iter()
            .flat_map(|b| {
                b.strikes
                    .iter()
                    .map(move |s| u64::from(b.time_us) + u64::from(s.offset_10us) * 10)
            })
            .collect();
        let t_end = *steady.last().unwrap();
        let window: Vec<&u64> = steady.iter().filter(|&&t| t + 9_000_000 > t_end).collect();
        let measured = (window.len() - 1) as f64 / ((t_end - *window[0]) as f64 / 1e6);
        assert!(
            (measured - hz).abs() / hz < 0.01,
            "{name}: {measured} Hz vs {hz}"
        );
        // Punctures = strokes × needles.
        assert!(caps.needle_count > 0);
        // Telemetry: at its period, measured rate at the set rate.
        let tel = telemetry(&got);
        let period = Duration::from_millis(u64::from(caps.telemetry_period_ms));
        assert!(
            tel.windows(2).all(|w| w[1].0 - w[0].0 == period),
            "{name}: telemetry period"
        );
        assert_eq!(tel.last().unwrap().1.rate_chz, rate_chz);
        assert!(tel[0].1.rate_chz < rate_chz, "{name}: the motor ramps up");
    }
}

#[tokio::test(start_paused = true)]
async fn rate_ramps_down_and_battery_drains() {
    let (mut host, _env, _task) = spawn_duplex(config("dermapen4-like"));
    host.hello().await;
    host.command(Message::SetRate(SetRate { rate_chz: 12_000 }))
        .await;
    host.command(Message::Start).await;
    host.run_for(Duration::from_secs(1)).await;
    host.command(Message::SetRate(SetRate { rate_chz: 6_000 }))
        .await;
    let got = host.run_for(Duration::from_secs(1)).await;
    let rates: Vec<u16> = telemetry(&got).iter().map(|(_, t)| t.rate_chz).collect();
    assert!(rates.windows(2).all(|w| w[1] <= w[0]), "{rates:?}");
    assert!(
        rates.iter().any(|&r| r > 6_000 && r < 12_000),
        "a ramp, not a jump: {rates:?}"
    );
    assert_eq!(*rates.last().unwrap(), 6_000);
    let first = telemetry(&got)[0].1.clone();
    let got = host.run_for(Duration::from_secs(600)).await;
    let last = telemetry(&got).last().unwrap().1.clone();
    assert!(
        last.battery_mv < first.battery_mv,
        "{} -> {}",
        first.battery_mv,
        last.battery_mv
    );
    assert!(last.battery_pct < first.battery_pct);
    assert!(last.temperature_dc > 250, "the motor warms up");
    assert!(last.current_ma > 0);
}

#[tokio::test(start_paused = true)]
async fn a_repeated_hello_restarts_the_session_again() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    host.send_seq(
        50,
        Message::Hello(penlab_protocol::message::Hello { major: 1, minor: 0 }),
    )
    .await;
    let first: Vec<_> = [
        host.recv().await,
        host.recv().await,
        host.recv().await,
        host.recv().await,
    ]
    .into_iter()
    .map(|r| r.packet)
    .collect();
    assert_eq!(
        first.iter().map(|p| p.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    // The host lost the answer and sends the Hello again.
    host.send_seq(
        50,
        Message::Hello(penlab_protocol::message::Hello { major: 1, minor: 0 }),
    )
    .await;
    let again: Vec<_> = [
        host.recv().await,
        host.recv().await,
        host.recv().await,
        host.recv().await,
    ]
    .into_iter()
    .map(|r| r.packet)
    .collect();
    // Hello is never a duplicate (PROTOCOL.md §3): the session restarts,
    // numbering from 0 again, with the same handshake.
    assert_eq!(
        again.iter().map(|p| p.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    let messages = |ps: &[penlab_protocol::message::Packet]| {
        ps.iter().map(|p| p.message.clone()).collect::<Vec<_>>()
    };
    assert_eq!(messages(&first), messages(&again));
    // A duplicate StatusRequest gets its Status again.
    host.send_seq(51, Message::StatusRequest).await;
    let (_, _) = host.answer_to(51).await;
    let st1 = host.recv().await.packet.message;
    host.send_seq(51, Message::StatusRequest).await;
    let (_, _) = host.answer_to(51).await;
    let st2 = host.recv().await.packet.message;
    assert!(matches!(st1, Message::Status(_)));
    assert_eq!(st1, st2);
    assert!(host.try_recv(Duration::from_millis(200)).await.is_none());
}
