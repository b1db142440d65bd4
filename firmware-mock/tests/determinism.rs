//! Under tokio's paused clock the mock is deterministic: the same seed gives
//! a byte-identical transcript, and a 30-minute session simulates quickly.

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::env::EnvCommand;
use penlab_firmware_mock::link::LinkFaults;
use penlab_firmware_mock::runner::MockConfig;
use penlab_firmware_mock::transcript::{Dir, Transcript};
use penlab_protocol::message::{FaultCode, Hello, Message, SetDepth};

/// A scripted treatment session of `minutes`, with the environment doing
/// things along the way; returns the mock's transcript.
async fn session(seed: u64, minutes: u64, link: LinkFaults) -> Transcript {
    let mut cfg: MockConfig = config("skinpen-like");
    cfg.device.seed = seed;
    cfg.link = link;
    cfg.record = true;
    let (mut host, env, task) = spawn_duplex(cfg);
    // Fire and forget: with link faults on, an answer may be lost.
    host.send(Message::Hello(Hello { major: 1, minor: 0 }))
        .await;
    host.run_for(Duration::from_millis(100)).await;
    host.send(Message::SetDepth(SetDepth { depth_um: 1_000 }))
        .await;
    host.send(Message::Start).await;
    for minute in 0..minutes {
        env.send(EnvCommand::SetForce {
            newtons: 1.0 + (minute % 3) as f64,
        })
        .unwrap();
        if minute % 10 == 5 {
            host.send(Message::SetDepth(SetDepth {
                depth_um: 750 + 250 * (minute % 3) as u16,
            }))
            .await;
        }
        host.run_for(Duration::from_secs(60)).await;
    }
    env.send(EnvCommand::InjectFault {
        code: FaultCode::MotorStall,
    })
    .unwrap();
    host.run_for(Duration::from_secs(1)).await;
    host.send(Message::Stop).await;
    host.run_for(Duration::from_secs(1)).await;
    drop(host);
    let mock = task.await.unwrap();
    mock.transcript().unwrap().clone()
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_bytes_over_thirty_minutes() {
    let wall = std::time::Instant::now();
    let a = session(42, 30, LinkFaults::default()).await;
    println!(
        "30-minute session simulated in {:?} of wall time",
        wall.elapsed()
    );
    let b = session(42, 30, LinkFaults::default()).await;
    assert_eq!(a.chunks.len(), b.chunks.len());
    assert!(a == b, "transcripts differ");
    // It really was a 30-minute treatment: ~117 Hz for 30 minutes.
    let end_us = a.chunks.last().unwrap().t_us;
    assert!(end_us >= 30 * 60 * 1_000_000, "{end_us}");
    assert!(
        a.bytes(Dir::PenToHost) > 1_000_000,
        "{}",
        a.bytes(Dir::PenToHost)
    );
    let c = session(43, 30, LinkFaults::default()).await;
    assert!(
        a != c,
        "a different seed should give different strike depths"
    );
    // Same host bytes at the same times, though: only the pen's noise moved.
    let host_bytes = |t: &Transcript| {
        t.chunks
            .iter()
            .filter(|c| c.dir == Dir::HostToPen)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(host_bytes(&a), host_bytes(&c));
}

#[tokio::test(start_paused = true)]
async fn link_faults_are_seeded() {
    let faults: LinkFaults = "drop=0.001,flip=0.001,dup=0.001,delay-ms=3,jitter-ms=4"
        .parse()
        .unwrap();
    let a = session(7, 2, faults.clone()).await;
    let b = session(7, 2, faults.clone()).await;
    assert!(a == b);
    let clean = session(7, 2, LinkFaults::default()).await;
    assert!(a != clean);
    // Lost, flipped and duplicated bytes cost the frames they touch; the
    // rest decode.
    let mut decoder = penlab_protocol::codec::Decoder::new();
    let (mut ok, mut bad) = (0, 0);
    for c in a.chunks.iter().filter(|c| c.dir == Dir::PenToHost) {
        decoder.feed(&c.bytes, |r| if r.is_ok() { ok += 1 } else { bad += 1 });
    }
    // About 0.3 % of bytes are hit: most frames (26 to 78 bytes) get through.
    assert!(bad > 0 && ok > 5 * bad, "ok {ok}, bad {bad}");
}

#[tokio::test(start_paused = true)]
async fn disconnect_after_n_frames() {
    let mut cfg = config("skinpen-like");
    cfg.link = "disconnect-after=3".parse().unwrap();
    let (pen, host_end) = penlab_firmware_mock::transport::duplex();
    let mut mock = penlab_firmware_mock::runner::Mock::new(cfg);
    let run = tokio::spawn(async move { mock.run(pen).await.unwrap() });
    let mut host = Host::new(host_end);
    host.send(Message::Hello(Hello { major: 1, minor: 0 }))
        .await;
    let end = run.await.unwrap();
    // Ack, Identity, Capabilities; then the link drops.
    assert_eq!(
        end,
        penlab_firmware_mock::runner::RunEnd::Disconnected { frames: 3 }
    );
    let got = host.silent_for(Duration::from_millis(50)).await;
    assert_eq!(got.len(), 3);
    assert!(matches!(got[2].packet.message, Message::Capabilities(_)));
}
