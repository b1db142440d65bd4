//! The host session against a scripted pen on an in-process link, under
//! tokio's paused clock: handshake, answers, retransmission, limits,
//! heartbeats, disconnection and capture. (Against the behavioural mock and
//! over a PTY, see the harness's end-to-end tests.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use penlab_host::capture::{self, CaptureWriter, Header};
use penlab_host::session::{Reply, Session, SessionError, SessionOptions};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::*;
use penlab_protocol::samples;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// What the scripted pen does with each packet it receives.
type Script = Box<dyn FnMut(&Packet, u32) -> Vec<Message> + Send>;

/// Everything the pen received, in order.
type Received = Arc<Mutex<Vec<Packet>>>;

fn pen(mut link: DuplexStream, mut script: Script) -> Received {
    let received: Received = Arc::default();
    let log = received.clone();
    tokio::spawn(async move {
        let mut decoder = Decoder::new();
        let mut seq = 0u16;
        let mut buf = [0u8; 512];
        let mut count = 0u32;
        loop {
            let n = match link.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let mut packets = Vec::new();
            decoder.feed(&buf[..n], |r| packets.extend(r.ok()));
            for p in packets {
                count += 1;
                log.lock().unwrap().push(p.clone());
                for message in script(&p, count) {
                    let mut out = [0u8; MAX_WIRE_FRAME];
                    let n = encode_packet(&Packet { seq, message }, &mut out).unwrap();
                    seq = seq.wrapping_add(1);
                    if link.write_all(&out[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    received
}

fn ack(p: &Packet) -> Message {
    Message::Ack(Ack {
        ack_seq: p.seq,
        command: p.message.msg_type().code(),
    })
}

fn status(state: DeviceState) -> Message {
    Message::Status(Status {
        state,
        depth_set_um: 0,
        rate_set_chz: 11_700,
        cartridge: CartridgeState::Ready,
        active_faults: 0,
    })
}

/// A well-behaved pen: answers Hello with the handshake, acks the rest.
fn good_pen() -> Script {
    let every = samples::every_message();
    Box::new(move |p, _| match &p.message {
        Message::Hello(_) => vec![
            ack(p),
            every[10].clone(),
            every[11].clone(),
            status(DeviceState::Idle),
        ],
        _ => vec![ack(p)],
    })
}

fn session(script: Script) -> (Session<DuplexStream>, Received) {
    let (host, device) = tokio::io::duplex(4_096);
    let received = pen(device, script);
    (Session::new(host, SessionOptions::default()), received)
}

#[tokio::test(start_paused = true)]
async fn handshake_reads_identity_capabilities_and_status() {
    let (mut s, received) = session(good_pen());
    let h = s.open().await.unwrap().clone();
    assert_eq!(h.identity.model.as_str(), "penlab-mock-14");
    assert_eq!(h.limits.depth_max_um, 2_500);
    assert_eq!(h.status.state, DeviceState::Idle);
    let got = received.lock().unwrap().clone();
    assert_eq!(got[0].seq, 0, "the host numbers from 0");
    assert!(matches!(
        got[0].message,
        Message::Hello(Hello { major: 1, minor: 0 })
    ));
}

#[tokio::test(start_paused = true)]
async fn commands_get_their_answers_and_events_wait_in_order() {
    let mut script = good_pen();
    let (mut s, _) = session(Box::new(move |p, n| match &p.message {
        Message::SetDepth(d) if d.depth_um == 1_000 => vec![
            Message::Fault(Fault {
                code: FaultCode::LowBattery,
                active: true,
                detail: 15,
            }),
            Message::Nack(Nack {
                ack_seq: p.seq,
                command: 0x02,
                reason: NackReason::Busy,
            }),
        ],
        _ => script(p, n),
    }));
    s.open().await.unwrap();
    assert!(matches!(
        s.command(Message::SetDepth(SetDepth { depth_um: 1_250 }))
            .await
            .unwrap(),
        Reply::Ack {
            retransmissions: 0,
            ..
        }
    ));
    let reply = s
        .command(Message::SetDepth(SetDepth { depth_um: 1_000 }))
        .await
        .unwrap();
    assert!(
        matches!(
            reply,
            Reply::Nack {
                reason: NackReason::Busy,
                ..
            }
        ),
        "{reply:?}"
    );
    // The fault that came before the Nack is kept for whoever asks next.
    let event = s
        .recv(Duration::from_millis(1))
        .await
        .unwrap()
        .expect("the fault");
    assert!(matches!(
        event.result,
        Ok(Packet {
            message: Message::Fault(_),
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_command_is_retransmitted_with_the_same_seq() {
    let mut script = good_pen();
    let mut starts_seen = 0;
    let (mut s, received) = session(Box::new(move |p, n| match p.message {
        Message::Start => {
            starts_seen += 1;
            if starts_seen < 2 {
                vec![]
            } else {
                vec![ack(p)]
            }
        }
        _ => script(p, n),
    }));
    s.open().await.unwrap();
    let reply = s.command(Message::Start).await.unwrap();
    assert!(
        matches!(
            reply,
            Reply::Ack {
                retransmissions: 1,
                ..
            }
        ),
        "{reply:?}"
    );
    assert!(reply.latency() >= Duration::from_millis(50));
    let starts: Vec<u16> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.message == Message::Start)
        .map(|p| p.seq)
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(
        starts[0], starts[1],
        "a retransmission keeps its sequence number"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_pen_is_reported_after_every_attempt() {
    let mut script = good_pen();
    let (mut s, _) = session(Box::new(move |p, n| match p.message {
        Message::Stop => vec![],
        _ => script(p, n),
    }));
    s.open().await.unwrap();
    match s.stop_motor().await {
        Err(SessionError::NoReply {
            command,
            attempts: 3,
            ..
        }) if command == "Stop" => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn out_of_limit_values_are_refused_before_they_are_sent() {
    let (mut s, received) = session(good_pen());
    let too_early = s
        .command(Message::SetDepth(SetDepth { depth_um: 500 }))
        .await;
    assert!(matches!(too_early, Err(SessionError::NotOpen)));
    s.open().await.unwrap();
    let sent_before = received.lock().unwrap().len();
    for bad in [
        Message::SetDepth(SetDepth { depth_um: 2_750 }), // over the maximum
        Message::SetDepth(SetDepth { depth_um: 1_100 }), // off the 250 µm step
        Message::SetRate(SetRate { rate_chz: 12_000 }),  // a fixed-rate pen
    ] {
        let err = s.command(bad).await.unwrap_err().to_string();
        assert!(err.contains("outside the pen's declared limits"), "{err}");
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        received.lock().unwrap().len(),
        sent_before,
        "nothing out of limits reached the pen"
    );

    s.options_mut().allow_out_of_limits = true;
    let reply = s
        .command(Message::SetDepth(SetDepth { depth_um: 2_750 }))
        .await
        .unwrap();
    assert!(
        matches!(reply, Reply::Ack { .. }),
        "when allowed, it is sent"
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_the_session_alive_and_their_acks_stay_quiet() {
    let mut script = good_pen();
    let (mut s, received) = session(Box::new(move |p, n| match p.message {
        Message::Heartbeat => vec![
            ack(p),
            Message::Pose(Pose {
                time_us: n,
                position_um: [0; 3],
                orientation_q15: [32_767, 0, 0, 0],
            }),
        ],
        _ => script(p, n),
    }));
    s.open().await.unwrap();
    let events = s.idle(Duration::from_millis(1_100)).await.unwrap();
    let heartbeats = received
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.message == Message::Heartbeat)
        .count();
    assert_eq!(heartbeats, 4, "one every 250 ms");
    assert_eq!(events.len(), 4, "the poses, not the acks: {events:?}");
    assert!(events.iter().all(|e| matches!(
        e.result,
        Ok(Packet {
            message: Message::Pose(_),
            ..
        })
    )));
}

#[tokio::test(start_paused = true)]
async fn an_unplugged_pen_is_a_disconnection() {
    let (host, device) = tokio::io::duplex(4_096);
    let mut s = Session::new(host, SessionOptions::default());
    drop(device);
    assert!(matches!(s.open().await, Err(SessionError::Disconnected)));
}

#[tokio::test(start_paused = true)]
async fn every_byte_both_ways_is_captured() {
    let file = Arc::new(Mutex::new(Vec::new()));
    struct Tee(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Tee {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (mut s, _) = session(good_pen());
    let writer: Box<dyn std::io::Write + Send> = Box::new(Tee(file.clone()));
    s.capture_to(CaptureWriter::new(writer, &Header::new("scripted", 0, None)).unwrap());
    s.open().await.unwrap();
    s.command(Message::Start).await.unwrap();
    let bytes = file.lock().unwrap().clone();
    let cap = capture::read(&bytes[..]).unwrap();
    let events = capture::decode(&cap);
    let kinds: Vec<(Direction, MessageType)> = events
        .iter()
        .map(|e| (e.dir, e.result.as_ref().unwrap().message.msg_type()))
        .collect();
    use Direction::*;
    assert_eq!(
        kinds,
        [
            (HostToPen, MessageType::Hello),
            (PenToHost, MessageType::Ack),
            (PenToHost, MessageType::Identity),
            (PenToHost, MessageType::Capabilities),
            (PenToHost, MessageType::Status),
            (HostToPen, MessageType::Start),
            (PenToHost, MessageType::Ack),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn any_frame_can_be_sent_and_the_last_one_resent() {
    let mut script = good_pen();
    let (mut s, received) = session(Box::new(move |p, n| script(p, n)));
    s.open().await.unwrap();
    // A sound frame of a type the protocol does not define: it never
    // decodes at the pen's end into a Packet, so the scripted pen sees
    // nothing and the host reports no answer.
    let reply = s.command_frame(0x7e, &[1, 2, 3]).await;
    assert!(
        matches!(&reply, Err(SessionError::NoReply { command, .. }) if command == "type 0x7e"),
        "{reply:?}"
    );
    // A well-formed one, built by hand, is answered like any command.
    let reply = s
        .command_frame(MessageType::SetDepth.code(), &1_250u16.to_le_bytes())
        .await
        .unwrap();
    assert!(matches!(reply, Reply::Ack { .. }));
    let reply = s.resend_last().await.unwrap();
    assert!(matches!(reply, Reply::Ack { .. }));
    let depths: Vec<u16> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|p| matches!(p.message, Message::SetDepth(_)))
        .map(|p| p.seq)
        .collect();
    assert_eq!(depths.len(), 2);
    assert_eq!(depths[0], depths[1], "resent with the same sequence number");
}
