//! Over a real pseudo-terminal opened with tokio-serial: the same code path
//! as a USB pen.

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::env::EnvCommand;
use penlab_firmware_mock::transport::Pty;
use penlab_protocol::message::{
    CartridgeState, DeviceState, FaultCode, Hello, Message, MessageType, NackReason, SetDepth,
    SetRate,
};
use penlab_protocol::timing::{ACK_DEADLINE, HANDSHAKE_DEADLINE};

#[tokio::test]
async fn handshake_in_order_with_seq_from_zero() {
    let (mut host, _env, _task) = spawn_pty(config("skinpen-like"));
    let t0 = tokio::time::Instant::now();
    let hello_seq = host
        .send(Message::Hello(Hello { major: 1, minor: 0 }))
        .await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(host.recv().await);
    }
    let seqs: Vec<u16> = got.iter().map(|r| r.packet.seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    match &got[0].packet.message {
        Message::Ack(a) => assert_eq!((a.ack_seq, a.command), (hello_seq, 0x01)),
        other => panic!("{other:?}"),
    }
    let Message::Identity(id) = &got[1].packet.message else {
        panic!("{:?}", got[1])
    };
    assert_eq!(id.model.as_str(), "penlab-mock-14");
    assert_eq!(id.protocol_major, 1);
    let Message::Capabilities(caps) = &got[2].packet.message else {
        panic!("{:?}", got[2])
    };
    assert_eq!(caps, &profile("skinpen-like").capabilities());
    let Message::Status(st) = &got[3].packet.message else {
        panic!("{:?}", got[3])
    };
    assert_eq!(st.state, DeviceState::Idle);
    assert_eq!(st.cartridge, CartridgeState::Ready);
    // Real time on a shared machine: a loose bound here; the exact timing
    // is checked in virtual time (behaviour.rs).
    assert!(got[3].at - t0 < HANDSHAKE_DEADLINE * 10);
    assert!(host.errors.is_empty(), "{:?}", host.errors);
}

#[tokio::test]
async fn every_command_over_the_pty() {
    let (mut host, _env, _task) = spawn_pty(config("dermapen4-like"));
    // Before Hello: only Stop, EmergencyStop and StatusRequest are accepted.
    assert_eq!(
        host.command(Message::Heartbeat).await,
        Answer::Nack(NackReason::WrongState)
    );
    assert_eq!(
        host.command(Message::SetDepth(SetDepth { depth_um: 500 }))
            .await,
        Answer::Nack(NackReason::WrongState)
    );
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::WrongState)
    );
    assert_eq!(host.status().await.state, DeviceState::AwaitingHello);
    host.hello().await;
    let t = tokio::time::Instant::now();
    assert_eq!(
        host.command(Message::SetDepth(SetDepth { depth_um: 1_500 }))
            .await,
        Answer::Ack
    );
    assert!(
        t.elapsed() < ACK_DEADLINE * 20,
        "ack took {:?}",
        t.elapsed()
    );
    assert_eq!(
        host.command(Message::SetRate(SetRate { rate_chz: 9_000 }))
            .await,
        Answer::Ack
    );
    assert_eq!(host.command(Message::Heartbeat).await, Answer::Ack);
    let st = host.status().await;
    assert_eq!(
        (st.depth_set_um, st.rate_set_chz, st.state),
        (1_500, 9_000, DeviceState::Idle)
    );
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    let st = host.recv_where(|m| matches!(m, Message::Status(_))).await;
    let Message::Status(st) = st.packet.message else {
        unreachable!()
    };
    assert_eq!(st.state, DeviceState::Running);
    // Strikes and telemetry flow while running.
    host.recv_where(|m| matches!(m, Message::StrikeBatch(_)))
        .await;
    host.recv_where(|m| matches!(m, Message::Telemetry(_)))
        .await;
    assert_eq!(
        host.command(Message::SetRate(SetRate { rate_chz: 12_000 }))
            .await,
        Answer::Ack
    );
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::WrongState)
    );
    assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    assert_eq!(host.status().await.state, DeviceState::Idle);
    assert_eq!(host.command(Message::EmergencyStop).await, Answer::Ack);
    assert_eq!(host.status().await.state, DeviceState::EmergencyStopped);
    assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    assert_eq!(host.status().await.state, DeviceState::EmergencyStopped);
    let (_, _, st) = host.hello().await;
    assert_eq!(st.state, DeviceState::Idle);
    // A new session starts from the power-up set points (R-HELLO-4).
    assert_eq!(
        (st.depth_set_um, st.rate_set_chz),
        (200, 6_000),
        "set points reset by Hello"
    );
}

#[tokio::test]
async fn refused_commands_change_nothing() {
    let (mut host, env, _task) = spawn_pty(config("skinpen-like"));
    host.hello().await;
    assert_eq!(
        host.command(Message::SetDepth(SetDepth { depth_um: 1_000 }))
            .await,
        Answer::Ack
    );
    let before = host.status().await;
    for (msg, reason) in [
        (
            Message::SetDepth(SetDepth { depth_um: 2_750 }),
            NackReason::OutOfRange,
        ),
        (
            Message::SetDepth(SetDepth { depth_um: 1_100 }),
            NackReason::OutOfRange,
        ),
        (
            Message::SetRate(SetRate { rate_chz: 11_800 }),
            NackReason::OutOfRange,
        ),
        (
            Message::Hello(Hello { major: 2, minor: 0 }),
            NackReason::UnsupportedVersion,
        ),
    ] {
        assert_eq!(
            host.command(msg.clone()).await,
            Answer::Nack(reason),
            "{msg:?}"
        );
        assert_eq!(host.status().await, before, "after {msg:?}");
    }
    // Unknown type and malformed payloads: typed Nacks carrying the code.
    let seq = host.next_seq;
    host.next_seq += 1;
    let mut raw = [0u8; 16];
    raw[0] = 0x42;
    raw[1..3].copy_from_slice(&seq.to_le_bytes());
    let crc = penlab_protocol::checksum::crc32c(&raw[..3]);
    raw[3..7].copy_from_slice(&crc.to_le_bytes());
    let mut wire = [0u8; 32];
    let n = penlab_protocol::codec::encode_frame(&raw[..7], &mut wire).unwrap();
    host.send_raw(&wire[..n]).await;
    let (answer, r) = host.answer_to(seq).await;
    assert_eq!(answer, Answer::Nack(NackReason::UnknownMessage));
    let Message::Nack(nack) = r.packet.message else {
        unreachable!()
    };
    assert_eq!(nack.command, 0x42);
    // SetDepth with a one-byte payload.
    let seq = host.next_seq;
    host.next_seq += 1;
    raw[0] = MessageType::SetDepth.code();
    raw[1..3].copy_from_slice(&seq.to_le_bytes());
    raw[3] = 0x10;
    let crc = penlab_protocol::checksum::crc32c(&raw[..4]);
    raw[4..8].copy_from_slice(&crc.to_le_bytes());
    let n = penlab_protocol::codec::encode_frame(&raw[..8], &mut wire).unwrap();
    host.send_raw(&wire[..n]).await;
    let (answer, r) = host.answer_to(seq).await;
    assert_eq!(answer, Answer::Nack(NackReason::Malformed));
    let Message::Nack(nack) = r.packet.message else {
        unreachable!()
    };
    assert_eq!(nack.command, MessageType::SetDepth.code());
    assert_eq!(host.status().await, before);
    // Start without a cartridge.
    env.send(EnvCommand::RemoveCartridge).unwrap();
    host.recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    let before = host.status().await;
    assert_eq!(before.cartridge, CartridgeState::Absent);
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::NoCartridge)
    );
    assert_eq!(host.status().await, before);
}

#[tokio::test]
async fn watchdog_over_the_pty() {
    let (mut host, _env, _task) = spawn_pty(config("skinpen-like"));
    host.hello().await;
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    let got = host.silent_for(Duration::from_millis(1_400)).await;
    let fault = got
        .iter()
        .find_map(|r| match &r.packet.message {
            Message::Fault(f) => Some(f.clone()),
            _ => None,
        })
        .expect("no watchdog fault");
    assert_eq!(
        (fault.code, fault.active),
        (FaultCode::WatchdogExpired, true)
    );
    assert_eq!(host.status().await.state, DeviceState::AwaitingHello);
}

#[tokio::test]
async fn symlink_points_at_the_pty_and_goes_with_it() {
    let dir = std::env::temp_dir().join(format!("penlab-mock-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("pen");
    let pty = Pty::open(Some(&link)).unwrap();
    assert_eq!(std::fs::read_link(&link).unwrap(), pty.path());
    assert_eq!(pty.link(), Some(link.as_path()));
    drop(pty);
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "symlink left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The pen lines of PROTOCOL.md §12 as bytes, in order.
fn spec_pen_frames() -> Vec<Vec<u8>> {
    let spec = include_str!("../../protocol/PROTOCOL.md");
    let block = spec
        .split("```wire")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("pen:"))
        .map(|l| {
            l.split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn skinpen_handshake_matches_the_worked_example_byte_for_byte() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_serial::SerialPortBuilderExt;
    let pty = Pty::open(None).unwrap();
    let path = pty.path().to_str().unwrap().to_owned();
    let mut mock = penlab_firmware_mock::runner::Mock::new(config("skinpen-like"));
    tokio::spawn(async move {
        let mut pty = pty;
        let _ = mock.run(&mut pty.master).await;
    });
    let mut port = tokio_serial::new(&path, 115_200)
        .open_native_async()
        .unwrap();
    // The host's Hello line of §12.
    port.write_all(&[
        0x02, 0x01, 0x01, 0x02, 0x01, 0x05, 0xee, 0x81, 0xc1, 0x6e, 0x00,
    ])
    .await
    .unwrap();
    let want: Vec<u8> = spec_pen_frames()[..3].concat();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() + 1 {
        let n = tokio::time::timeout(Duration::from_secs(3), port.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    // A delimiter first (§2.3), then Ack, Identity, Capabilities exactly
    // as in the spec.
    assert_eq!(got[0], 0x00);
    assert_eq!(&got[1..=want.len()], &want[..]);
}

#[tokio::test]
async fn lockout_and_every_fault_over_the_pty() {
    use penlab_protocol::message::CartridgeEventKind;
    let (mut host, env, _task) = spawn_pty(config("skinpen-like"));
    host.hello().await;

    // Reuse lockout: run a cartridge, take it off, fit it again.
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    env.send(EnvCommand::RemoveCartridge).unwrap();
    let removed = host
        .recv_where(
            |m| matches!(m, Message::Cartridge(c) if c.event == CartridgeEventKind::Removed),
        )
        .await;
    let Message::Cartridge(removed) = removed.packet.message else {
        unreachable!()
    };
    env.send(EnvCommand::InsertCartridge {
        id: removed.cartridge_id,
        needles: 14,
    })
    .unwrap();
    host.recv_where(
        |m| matches!(m, Message::Cartridge(c) if c.event == CartridgeEventKind::ReuseLockout),
    )
    .await;
    assert_eq!(host.status().await.cartridge, CartridgeState::Locked);
    assert_eq!(
        host.command(Message::Start).await,
        Answer::Nack(NackReason::CartridgeLocked)
    );
    env.send(EnvCommand::InsertCartridge {
        id: 4_242,
        needles: 14,
    })
    .unwrap();
    host.recv_where(
        |m| matches!(m, Message::Cartridge(c) if c.event == CartridgeEventKind::Inserted),
    )
    .await;

    // Every injectable critical fault: raised, latched, cleared by Stop once
    // its cause is gone.
    for code in [
        FaultCode::MotorStall,
        FaultCode::OverCurrent,
        FaultCode::OverTemperature,
        FaultCode::DepthDriveJam,
    ] {
        assert_eq!(host.command(Message::Start).await, Answer::Ack, "{code:?}");
        env.send(EnvCommand::InjectFault { code }).unwrap();
        host.recv_where(|m| matches!(m, Message::Fault(f) if f.code == code && f.active))
            .await;
        let st = host.status().await;
        assert_eq!(st.state, DeviceState::Faulted, "{code:?}");
        assert_ne!(st.active_faults & code.bit().unwrap(), 0, "{code:?}");
        assert_eq!(
            host.command(Message::Start).await,
            Answer::Nack(NackReason::FaultActive),
            "{code:?}"
        );
        env.send(EnvCommand::ClearFault { code }).unwrap();
        assert_eq!(host.command(Message::Stop).await, Answer::Ack);
        host.recv_where(|m| matches!(m, Message::Fault(f) if f.code == code && !f.active))
            .await;
        assert_eq!(host.status().await.state, DeviceState::Idle, "{code:?}");
    }

    // The cartridge coming off while running.
    assert_eq!(host.command(Message::Start).await, Answer::Ack);
    env.send(EnvCommand::RemoveCartridge).unwrap();
    host.recv_where(|m| {
        matches!(m, Message::Fault(f) if f.code == FaultCode::CartridgeRemovedWhileRunning && f.active)
    })
    .await;
    assert_eq!(host.status().await.state, DeviceState::Faulted);
    assert_eq!(host.command(Message::Stop).await, Answer::Ack);
    assert_eq!(host.status().await.state, DeviceState::Idle);

    // Low battery is a warning: raised, and the state does not change.
    env.send(EnvCommand::SetBattery { pct: 8.0 }).unwrap();
    host.recv_where(
        |m| matches!(m, Message::Fault(f) if f.code == FaultCode::LowBattery && f.active),
    )
    .await;
    assert_eq!(host.status().await.state, DeviceState::Idle);
    assert!(host.errors.is_empty(), "{:?}", host.errors);
}
