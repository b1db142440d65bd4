//! The end of a session and the bounds on writes, against a scripted pen
//! whose reading can be switched off, under tokio's paused clock: a write
//! into a line that does not move is `Stalled` within the write deadline;
//! the frame after a cut-off one starts with a delimiter; the teardown gets
//! its `Stop` through once the pen reads again, and otherwise waits out the
//! pen's watchdog before it gives up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use penlab_host::capture::{CaptureWriter, Header};
use penlab_host::session::{Reply, Session, SessionError, SessionOptions};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::*;
use penlab_protocol::samples;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// What the pen received: every packet and every raw chunk.
#[derive(Default)]
struct Seen {
    packets: Vec<(Instant, Packet)>,
    chunks: Vec<Vec<u8>>,
}

/// A pen that answers Hello with the handshake (declaring `watchdog_ms`),
/// acks everything else except `Stop` when `answer_stop` is off, and reads
/// only while `reading` is on. Its answers queue without bound, as in a
/// pen whose output buffer is much larger than the line's (a PTY's is
/// 64 KiB): only the host's direction can fill up.
fn pen(
    link: DuplexStream,
    watchdog_ms: u16,
    answer_stop: bool,
    mut reading: watch::Receiver<bool>,
) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    let every = samples::every_message();
    let (mut rd, mut wr) = tokio::io::split(link);
    let (out, mut queued) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(bytes) = queued.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        let mut decoder = Decoder::new();
        let mut seq = 0u16;
        let mut buf = [0u8; 64];
        loop {
            if reading.wait_for(|on| *on).await.is_err() {
                return;
            }
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            log.lock().unwrap().chunks.push(buf[..n].to_vec());
            let mut packets = Vec::new();
            decoder.feed(&buf[..n], |r| packets.extend(r.ok()));
            for p in packets {
                log.lock()
                    .unwrap()
                    .packets
                    .push((Instant::now(), p.clone()));
                let ack = Message::Ack(Ack {
                    ack_seq: p.seq,
                    command: p.message.msg_type().code(),
                });
                let answers = match &p.message {
                    Message::Hello(_) => {
                        let Message::Capabilities(mut caps) = every[11].clone() else {
                            unreachable!("sample 11 is Capabilities")
                        };
                        caps.watchdog_timeout_ms = watchdog_ms;
                        vec![
                            ack,
                            every[10].clone(),
                            Message::Capabilities(caps),
                            Message::Status(Status {
                                state: DeviceState::Idle,
                                depth_set_um: 0,
                                rate_set_chz: 11_700,
                                cartridge: CartridgeState::Ready,
                                active_faults: 0,
                            }),
                        ]
                    }
                    Message::Stop if !answer_stop => vec![],
                    _ => vec![ack],
                };
                for message in answers {
                    let mut frame = [0u8; MAX_WIRE_FRAME];
                    let n = encode_packet(&Packet { seq, message }, &mut frame).unwrap();
                    seq = seq.wrapping_add(1);
                    if out.send(frame[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    seen
}

/// A session on a line that holds `buffer` bytes, and the switch of the
/// pen's reading.
fn bench(
    buffer: usize,
    watchdog_ms: u16,
    answer_stop: bool,
) -> (Session<DuplexStream>, Arc<Mutex<Seen>>, watch::Sender<bool>) {
    let (host, device) = tokio::io::duplex(buffer);
    let (switch, reading) = watch::channel(true);
    let seen = pen(device, watchdog_ms, answer_stop, reading);
    (Session::new(host, SessionOptions::default()), seen, switch)
}

/// Writes heartbeats until one does not go through.
async fn fill_the_line(s: &mut Session<DuplexStream>) -> SessionError {
    for _ in 0..100 {
        if let Err(e) = s.send_raw(Message::Heartbeat).await {
            return e;
        }
    }
    panic!("the line never filled");
}

#[tokio::test(start_paused = true)]
async fn a_write_that_cannot_complete_is_stalled_within_the_deadline() {
    let (mut s, _, switch) = bench(32, 1_000, true);
    s.open().await.unwrap();
    switch.send(false).unwrap();
    let started = Instant::now();
    let e = fill_the_line(&mut s).await;
    assert!(
        matches!(&e, SessionError::Stalled { what, after } if what == "Heartbeat" && *after == Duration::from_secs(1)),
        "{e:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert!(e.to_string().contains("the link stalled"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn after_a_cut_off_write_the_next_frame_starts_with_a_delimiter() {
    let capture = Arc::new(Mutex::new(Vec::new()));
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
    let (mut s, seen, switch) = bench(32, 1_000, true);
    s.open().await.unwrap();
    switch.send(false).unwrap();
    fill_the_line(&mut s).await;
    let writer: Box<dyn std::io::Write + Send> = Box::new(Tee(capture.clone()));
    s.capture_to(CaptureWriter::new(writer, &Header::new("scripted", 0, None)).unwrap());
    switch.send(true).unwrap();
    let reply = s.command(Message::StatusRequest).await.unwrap();
    assert!(matches!(reply, Reply::Ack { .. }), "{reply:?}");
    let bytes = capture.lock().unwrap().clone();
    let cap = penlab_host::capture::read(&bytes[..]).unwrap();
    let first_write = cap
        .records
        .iter()
        .find(|r| r.dir == Direction::HostToPen)
        .unwrap();
    assert_eq!(first_write.hex[0], 0, "a delimiter first");
    assert!(
        seen.lock()
            .unwrap()
            .packets
            .iter()
            .any(|(_, p)| p.message == Message::StatusRequest),
        "the pen got the command whole"
    );
}

#[tokio::test(start_paused = true)]
async fn the_teardown_gets_its_stop_through_once_the_pen_reads_again() {
    let (mut s, seen, switch) = bench(32, 10_000, true);
    s.open().await.unwrap();
    switch.send(false).unwrap();
    fill_the_line(&mut s).await;
    let stalled_at = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        switch.send(true).unwrap();
        // Keep the switch: dropping it would end the pen.
        std::future::pending::<()>().await;
    });
    let reply = s.stop_motor_safely().await.expect("acknowledged");
    assert!(matches!(reply, Reply::Ack { .. }), "{reply:?}");
    let took = stalled_at.elapsed();
    assert!(
        took >= Duration::from_millis(2_500) && took < Duration::from_millis(2_600),
        "{took:?}"
    );
    let stops = seen
        .lock()
        .unwrap()
        .packets
        .iter()
        .filter(|(_, p)| p.message == Message::Stop)
        .count();
    assert!(stops >= 1);
}

#[tokio::test(start_paused = true)]
async fn a_line_that_never_moves_again_ends_the_teardown_after_the_watchdog() {
    let (mut s, _, switch) = bench(32, 2_000, true);
    s.open().await.unwrap();
    switch.send(false).unwrap();
    let before = Instant::now();
    fill_the_line(&mut s).await;
    let e = s.stop_motor_safely().await.unwrap_err();
    assert!(matches!(e.error, SessionError::Stalled { .. }), "{e}");
    assert!(e.watchdog_ran_out, "{e}");
    assert_eq!(e.watchdog, Duration::from_secs(2));
    // The last frame that went through was before the fill's stall; the
    // watchdog runs from there, then one write deadline at most.
    let took = before.elapsed();
    assert!(took <= Duration::from_secs(3), "{took:?}");
    assert!(
        e.to_string()
            .contains("its whole watchdog timeout (2000 ms)"),
        "{e}"
    );
    drop(switch);
}

#[tokio::test(start_paused = true)]
async fn a_pen_that_reads_but_never_answers_stop_is_left_alone_until_its_watchdog_runs_out() {
    let (mut s, seen, _switch) = bench(4_096, 1_500, false);
    s.open().await.unwrap();
    let e = s.stop_motor_safely().await.unwrap_err();
    let ended = Instant::now();
    assert!(matches!(e.error, SessionError::NoReply { .. }), "{e}");
    assert!(e.watchdog_ran_out, "{e}");
    assert!(
        e.to_string()
            .contains("sent nothing for the pen's watchdog timeout (1500 ms)"),
        "{e}"
    );
    let seen = seen.lock().unwrap();
    let (last_at, last) = seen.packets.last().unwrap();
    assert_eq!(
        last.message,
        Message::Stop,
        "nothing after the Stops, not even heartbeats"
    );
    assert!(ended - *last_at >= Duration::from_millis(1_500));
    assert_eq!(
        seen.packets
            .iter()
            .filter(|(_, p)| p.message == Message::Stop)
            .count(),
        3,
        "the Stop and its two retransmissions"
    );
}

#[tokio::test(start_paused = true)]
async fn a_best_effort_stop_does_not_wait_for_its_answer() {
    let (mut s, seen, switch) = bench(32, 1_000, true);
    s.open().await.unwrap();
    let started = Instant::now();
    s.send_stop_now(Duration::from_millis(200)).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1));
    switch.send(false).unwrap();
    fill_the_line(&mut s).await;
    let started = Instant::now();
    let e = s
        .send_stop_now(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(e, SessionError::Stalled { .. }), "{e}");
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    drop(seen);
}
