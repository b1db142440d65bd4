//! Points issue 15 settled in `PROTOCOL.md`, in virtual time: the busy
//! drive and its bound, the clock that wraps, the answers to duplicates,
//! and the order of frames when the motor stops.

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::env::EnvCommand;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::MockConfig;
use penlab_protocol::message::{CartridgeState, Message, NackReason, SetDepth, SetRate};
use penlab_protocol::timing::{BUSY_LIMIT, BUSY_RETRY_INTERVAL, MAX_BUSY_RETRIES};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_busy_drive_refuses_set_depth_while_it_moves_within_the_limit() {
    let profile = profile("dermapen4-busy");
    assert!(profile.actuator.busy_while_moving);
    let (mut host, _env, _task) = spawn_duplex(config("dermapen4-busy"));
    host.hello().await;
    // Full travel, 200 to 3 000 µm at 4 000 µm/s: 700 ms.
    let seq = host
        .send(Message::SetDepth(SetDepth { depth_um: 3_000 }))
        .await;
    let (answer, accepted) = host.answer_to(seq).await;
    assert_eq!(answer, Answer::Ack);
    let refused = host
        .command(Message::SetDepth(SetDepth { depth_um: 1_000 }))
        .await;
    assert_eq!(refused, Answer::Nack(NackReason::Busy));
    // Refused means nothing changed; rates, Stop and EmergencyStop are never
    // busy (R-BUSY-1, R-STATE-17).
    assert_eq!(host.status().await.depth_set_um, 3_000);
    assert_eq!(
        host.command(Message::SetRate(SetRate { rate_chz: 9_000 }))
            .await,
        Answer::Ack
    );
    assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    // The host's bounded retry (R-HOST-4): a new command each time, 100 ms
    // apart, at most 10 times. It gets through once the drive arrives, well
    // inside the 1 s limit.
    let mut retries = 0;
    let through_at = loop {
        host.run_for(BUSY_RETRY_INTERVAL).await;
        retries += 1;
        let seq = host
            .send(Message::SetDepth(SetDepth { depth_um: 1_000 }))
            .await;
        match host.answer_to(seq).await {
            (Answer::Ack, r) => break r.at,
            (Answer::Nack(NackReason::Busy), _) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            retries < MAX_BUSY_RETRIES,
            "still busy after {retries} retries"
        );
    };
    let busy_for = through_at - accepted.at;
    assert!(
        busy_for >= Duration::from_millis(700) && busy_for < BUSY_LIMIT,
        "{busy_for:?}"
    );
    assert_eq!(host.status().await.depth_set_um, 1_000);
}

#[tokio::test(start_paused = true)]
async fn a_busy_profile_needs_a_drive_that_arrives_within_the_limit() {
    let text = penlab_firmware_mock::profile::BUILTIN
        .iter()
        .find(|(n, _)| *n == "dermapen4-busy")
        .unwrap()
        .1
        .replace("speed_um_per_s = 4000.0", "speed_um_per_s = 2000.0");
    let err = Profile::parse(&text, "slow.toml").unwrap_err();
    assert_eq!(err.field, "actuator.busy_while_moving", "{err}");
    assert!(err.message.contains("1400 ms"), "{err}");
    // Shipped profiles other than dermapen4-busy never answer busy.
    for (name, _) in penlab_firmware_mock::profile::BUILTIN {
        assert_eq!(
            profile(name).actuator.busy_while_moving,
            *name == "dermapen4-busy",
            "{name}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_clock_can_start_near_the_wrap_and_wraps() {
    let mut cfg: MockConfig = config("skinpen-like");
    // 300 ms before the u32 microsecond clock wraps.
    cfg.device.profile.timing.clock_start_us = u32::MAX - 300_000;
    let (mut host, _env, _task) = spawn_duplex(cfg);
    host.hello().await;
    host.command(Message::Start).await;
    let got = host.run_for(Duration::from_secs(1)).await;
    let times: Vec<u32> = got
        .iter()
        .filter_map(|r| match &r.packet.message {
            Message::Telemetry(t) => Some(t.time_us),
            _ => None,
        })
        .collect();
    let wraps = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert_eq!(wraps, 1, "{times:?}");
    // Unwrapped with wrapping arithmetic, every interval is the period.
    assert!(
        times.windows(2).all(|w| w[1].wrapping_sub(w[0]) == 50_000),
        "{times:?}"
    );
    // Strike batches share the clock: their times sit among the telemetry's.
    let batch_times: Vec<u32> = got
        .iter()
        .filter_map(|r| match &r.packet.message {
            Message::StrikeBatch(b) => Some(b.time_us),
            _ => None,
        })
        .collect();
    assert!(batch_times.iter().any(|&t| t > u32::MAX - 300_000));
    assert!(batch_times.iter().any(|&t| t < 1_000_000));
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_status_request_gets_the_status_of_now() {
    let (mut host, env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.send_seq(9, Message::StatusRequest).await;
    host.answer_to(9).await;
    let Message::Status(before) = host.recv().await.packet.message else {
        panic!("no Status after the Ack")
    };
    assert_eq!(before.cartridge, CartridgeState::Ready);
    env.send(EnvCommand::RemoveCartridge).unwrap();
    host.recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    host.send_seq(9, Message::StatusRequest).await;
    host.answer_to(9).await;
    let Message::Status(now) = host.recv().await.packet.message else {
        panic!("no Status after the Ack")
    };
    assert_eq!(now.cartridge, CartridgeState::Absent, "a stale Status");
}

#[tokio::test(start_paused = true)]
async fn hello_while_running_sends_the_last_strokes_before_its_ack() {
    let (mut host, _env, _task) = spawn_duplex(config("skinpen-like"));
    host.hello().await;
    host.command(Message::Start).await;
    host.run_for(Duration::from_millis(500)).await;
    // 30 ms after a batch, strokes are held.
    host.recv_where(|m| matches!(m, Message::StrikeBatch(_)))
        .await;
    host.silent_for(Duration::from_millis(30)).await;
    let counted: usize = host
        .log
        .iter()
        .filter_map(|r| match &r.packet.message {
            Message::StrikeBatch(b) => Some(b.strikes.len()),
            _ => None,
        })
        .sum();
    let (_, _, st) = host.hello().await;
    assert_eq!(st.depth_set_um, 0);
    let ack = host
        .log
        .iter()
        .rposition(|r| matches!(r.packet.message, Message::Ack(_)))
        .unwrap();
    let Message::StrikeBatch(last) = &host.log[ack - 1].packet.message else {
        panic!(
            "no strike batch right before the Ack: {:?}",
            host.log[ack - 1]
        )
    };
    // The old session's numbering, its pen seq too; the Ack starts at 0.
    assert_eq!(last.first_strike as usize, counted);
    assert!(!last.strikes.is_empty());
    assert_eq!(host.log[ack].packet.seq, 0);
    let got = host.run_for(Duration::from_millis(300)).await;
    assert!(got.iter().all(|r| !matches!(
        r.packet.message,
        Message::StrikeBatch(_) | Message::Telemetry(_)
    )));
}

#[tokio::test(start_paused = true)]
async fn batches_come_every_80_ms_and_the_first_within_100_ms_of_start() {
    let (mut host, _env, _task) = spawn_duplex(config("exceed-like"));
    host.hello().await;
    let seq = host.send(Message::Start).await;
    let (_, ack) = host.answer_to(seq).await;
    let got = host.run_for(Duration::from_secs(2)).await;
    let times: Vec<Instant> = got
        .iter()
        .filter(|r| matches!(r.packet.message, Message::StrikeBatch(_)))
        .map(|r| r.at)
        .collect();
    assert!(times[0] - ack.at <= Duration::from_millis(100));
    assert!(
        times
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::from_millis(80)),
        "{:?}",
        times.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    );
}
