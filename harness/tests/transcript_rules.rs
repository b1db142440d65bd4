//! The per-test rules on small hand-made transcripts: each one's edge,
//! where a pen passes just inside it and fails just outside.

use std::time::Duration;

use penlab_harness::transcript::rules::check;
use penlab_harness::transcript::{FrameBody, WireFrame};
use penlab_protocol::message::{Ack, Direction, Message, MessageType, Packet, Telemetry};

fn ms(t: f64) -> Duration {
    Duration::from_secs_f64(t / 1e3)
}

fn host(t: f64, seq: u16, ty: MessageType) -> WireFrame {
    WireFrame {
        at: ms(t),
        dir: Direction::HostToPen,
        wire_len: 9,
        body: FrameBody::Sound {
            msg_type: ty.code(),
            seq,
            packet: None,
        },
    }
}

fn pen(t: f64, seq: u16, message: Message) -> WireFrame {
    WireFrame {
        at: ms(t),
        dir: Direction::PenToHost,
        wire_len: 12,
        body: FrameBody::Sound {
            msg_type: message.msg_type().code(),
            seq,
            packet: Some(Box::new(Packet { seq, message })),
        },
    }
}

fn ack(seq: u16, ty: MessageType) -> Message {
    Message::Ack(Ack {
        ack_seq: seq,
        command: ty.code(),
    })
}

fn broken(frames: &[WireFrame], ended: f64) -> Vec<&'static str> {
    check(frames, ms(ended))
        .into_iter()
        .map(|v| v.requirement)
        .collect()
}

#[test]
fn an_answer_is_late_only_past_the_host_allowance() {
    let in_time = [
        host(0.0, 7, MessageType::Heartbeat),
        pen(69.0, 1, ack(7, MessageType::Heartbeat)),
    ];
    assert_eq!(broken(&in_time, 500.0), Vec::<&str>::new());
    let late = [
        host(0.0, 7, MessageType::Heartbeat),
        pen(75.0, 1, ack(7, MessageType::Heartbeat)),
    ];
    let found = broken(&late, 500.0);
    assert!(found.contains(&"R-TIME-1"), "{found:?}");
    // A command whose deadline is past the end of the record is not judged.
    assert_eq!(
        broken(&[host(0.0, 7, MessageType::Heartbeat)], 60.0),
        Vec::<&str>::new()
    );
}

#[test]
fn pen_numbering_wraps_and_restarts_only_with_hellos_ack() {
    let wrap = [
        host(0.0, 1, MessageType::Heartbeat),
        pen(1.0, 65_535, ack(1, MessageType::Heartbeat)),
        host(2.0, 2, MessageType::Heartbeat),
        pen(3.0, 0, ack(2, MessageType::Heartbeat)),
    ];
    assert_eq!(broken(&wrap, 500.0), Vec::<&str>::new());
    let restart = [
        host(0.0, 1, MessageType::Heartbeat),
        pen(1.0, 40, ack(1, MessageType::Heartbeat)),
        host(2.0, 2, MessageType::Heartbeat),
        pen(3.0, 0, ack(2, MessageType::Heartbeat)),
    ];
    assert_eq!(broken(&restart, 500.0), ["R-SEQ-1"]);
}

#[test]
fn nothing_periodic_after_the_ack_of_stop() {
    let telemetry = |t: f64, seq: u16| {
        pen(
            t,
            seq,
            Message::Telemetry(Telemetry {
                time_us: (t * 1e3) as u32,
                depth_um: 0,
                rate_chz: 0,
                current_ma: 0,
                force_mn: 0,
                battery_pct: 90,
                battery_mv: 4_000,
                temperature_dc: 250,
            }),
        )
    };
    let frames = [
        host(0.0, 1, MessageType::Start),
        pen(1.0, 1, ack(1, MessageType::Start)),
        telemetry(50.0, 2),
        host(60.0, 2, MessageType::Stop),
        pen(61.0, 3, ack(2, MessageType::Stop)),
        telemetry(100.0, 4),
    ];
    assert_eq!(broken(&frames, 500.0), ["R-RUN-6"]);
    // Without a run at all, it is R-RUN-5.
    assert_eq!(broken(&[telemetry(10.0, 0)], 500.0), ["R-RUN-5"]);
}
