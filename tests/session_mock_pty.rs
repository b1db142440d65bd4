//! The harness's host session against the real mock pen (`penlab mock`,
//! its own process) over a pseudo-terminal opened with tokio-serial: the
//! same code path as a pen on /dev/ttyACM0.

mod common;

use common::MockPen;

use std::time::Duration;

use penlab_host::session::{Reply, Session, SessionError, SessionOptions};
use penlab_protocol::message::{
    DeviceState, FaultCode, Message, NackReason, Packet, SetDepth, SetRate,
};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

fn open(path: &str) -> Session<SerialStream> {
    let port = tokio_serial::new(path, 115_200)
        .open_native_async()
        .expect("the PTY opens");
    // Real time on a shared machine: allow slow answers without giving up
    // on the protocol's rules (the deadline itself is tested in virtual time).
    let options = SessionOptions {
        ack_deadline: Duration::from_millis(500),
        ..Default::default()
    };
    Session::new(port, options)
}

#[tokio::test]
async fn a_session_with_the_mock_over_a_pty() {
    let pen = MockPen::start("dermapen4-like");
    let mut s = open(&pen.port);
    let h = s.open().await.expect("handshake").clone();
    assert_eq!(h.identity.protocol_major, 1);
    assert_eq!(h.status.state, DeviceState::Idle);
    let caps = h.limits.clone();

    // Within the declared limits: accepted.
    let mid = caps.depth_min_um
        + (caps.depth_max_um - caps.depth_min_um) / 2 / caps.depth_step_um * caps.depth_step_um;
    let reply = s
        .command(Message::SetDepth(SetDepth { depth_um: mid }))
        .await
        .unwrap();
    assert!(matches!(reply, Reply::Ack { .. }), "{reply:?}");
    // Beyond them: refused by the host, never sent.
    let beyond = s
        .command(Message::SetDepth(SetDepth {
            depth_um: caps.depth_max_um + caps.depth_step_um,
        }))
        .await;
    assert!(
        matches!(beyond, Err(SessionError::OutOfLimits { .. })),
        "{beyond:?}"
    );
    // Unless a test asks for it: then the pen itself must refuse.
    s.options_mut().allow_out_of_limits = true;
    let reply = s
        .command(Message::SetRate(SetRate {
            rate_chz: caps.rate_max_chz + 100,
        }))
        .await
        .unwrap();
    assert!(
        matches!(
            reply,
            Reply::Nack {
                reason: NackReason::OutOfRange,
                ..
            }
        ),
        "{reply:?}"
    );
    s.options_mut().allow_out_of_limits = false;

    // Running for longer than the watchdog timeout: heartbeats keep it alive.
    assert!(matches!(
        s.command(Message::Start).await.unwrap(),
        Reply::Ack { .. }
    ));
    let watchdog = Duration::from_millis(u64::from(caps.watchdog_timeout_ms));
    let events = s.idle(watchdog + Duration::from_millis(500)).await.unwrap();
    let strikes: usize = events
        .iter()
        .filter_map(|e| match &e.result {
            Ok(Packet {
                message: Message::StrikeBatch(b),
                ..
            }) => Some(b.strikes.len()),
            _ => None,
        })
        .sum();
    assert!(strikes > 50, "the pen kept striking: {strikes} strokes");
    assert!(
        !events.iter().any(|e| matches!(&e.result, Ok(Packet { message: Message::Fault(f), .. }) if f.code == FaultCode::WatchdogExpired)),
        "the watchdog fired although heartbeats were sent"
    );
    assert!(events.iter().all(|e| e.result.is_ok()), "every frame sound");

    // Teardown.
    assert!(matches!(s.stop_motor().await.unwrap(), Reply::Ack { .. }));
}

#[tokio::test]
async fn a_pen_that_goes_away_is_a_disconnection() {
    let pen = MockPen::start("skinpen-like");
    let mut s = open(&pen.port);
    s.open().await.expect("handshake");
    drop(pen); // the process dies: the PTY closes
    let mut result = Ok(Reply::Ack {
        latency: Duration::ZERO,
        retransmissions: 0,
    });
    for _ in 0..50 {
        result = s.command(Message::Heartbeat).await;
        if result.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        matches!(
            result,
            Err(SessionError::Disconnected) | Err(SessionError::NoReply { .. })
        ),
        "{result:?}"
    );
}
