//! A small scripted host for the mock's tests: numbers commands, decodes
//! everything the pen sends and keeps it for inspection.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::env::{self, EnvHandle};
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{Mock, MockConfig, RunEnd};
use penlab_firmware_mock::transport::Pty;
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{DecodeError, Decoder, encode_packet};
use penlab_protocol::message::{
    Capabilities, Hello, Identity, Message, MessageType, NackReason, Packet, Status,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a test waits for a frame before failing.
pub const WAIT: Duration = Duration::from_secs(3);

/// A frame from the pen and when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub packet: Packet,
}

pub struct Host<S> {
    stream: S,
    decoder: Decoder,
    pub next_seq: u16,
    inbox: VecDeque<Received>,
    /// Every frame received, in order.
    pub log: Vec<Received>,
    /// Every decoding error.
    pub errors: Vec<DecodeError>,
}

/// What the pen answered a command with.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Ack,
    Nack(NackReason),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Host<S> {
    pub fn new(stream: S) -> Self {
        Host {
            stream,
            decoder: Decoder::new(),
            next_seq: 100,
            inbox: VecDeque::new(),
            log: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Sends `message` with sequence number `seq`.
    pub async fn send_seq(&mut self, seq: u16, message: Message) {
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(&Packet { seq, message }, &mut wire).unwrap();
        self.send_raw(&wire[..n]).await;
    }

    /// Sends a frame of any type code and payload, with a sound CRC, and
    /// the next sequence number; returns it.
    pub async fn send_frame(&mut self, msg_type: u8, payload: &[u8]) -> u16 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let mut raw = vec![msg_type];
        raw.extend_from_slice(&seq.to_le_bytes());
        raw.extend_from_slice(payload);
        let crc = penlab_protocol::checksum::crc32c(&raw);
        raw.extend_from_slice(&crc.to_le_bytes());
        let mut wire = [0u8; 2 * MAX_WIRE_FRAME];
        let n = penlab_protocol::codec::encode_frame(&raw, &mut wire).unwrap();
        self.send_raw(&wire[..n]).await;
        seq
    }

    /// Sends `message` with the next sequence number; returns it.
    pub async fn send(&mut self, message: Message) -> u16 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.send_seq(seq, message).await;
        seq
    }

    async fn fill(&mut self, wait: Duration) -> bool {
        let mut buf = [0u8; 2048];
        let n = match tokio::time::timeout(wait, self.stream.read(&mut buf)).await {
            Ok(r) => r.unwrap(),
            Err(_) => return false,
        };
        if n == 0 {
            // The pen closed the link: nothing more will come.
            tokio::time::sleep(wait).await;
            return false;
        }
        let at = Instant::now();
        let mut frames = Vec::new();
        self.decoder.feed(&buf[..n], |r| frames.push(r));
        for r in frames {
            match r {
                Ok(packet) => {
                    let rx = Received { at, packet };
                    self.log.push(rx.clone());
                    self.inbox.push_back(rx);
                }
                Err(e) => self.errors.push(e),
            }
        }
        true
    }

    /// The next frame from the pen, or `None` if none comes within `wait`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Received> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(r) = self.inbox.pop_front() {
                return Some(r);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.fill(left).await {
                return None;
            }
        }
    }

    pub async fn recv(&mut self) -> Received {
        self.try_recv(WAIT).await.expect("no frame from the pen")
    }

    /// The next frame matching `pred`, skipping others.
    pub async fn recv_where(&mut self, mut pred: impl FnMut(&Message) -> bool) -> Received {
        loop {
            let r = self.recv().await;
            if pred(&r.packet.message) {
                return r;
            }
        }
    }

    /// The Ack or Nack of command `seq`, skipping other frames.
    pub async fn answer_to(&mut self, seq: u16) -> (Answer, Received) {
        loop {
            let r = self.recv().await;
            match &r.packet.message {
                Message::Ack(a) if a.ack_seq == seq => return (Answer::Ack, r),
                Message::Nack(n) if n.ack_seq == seq => return (Answer::Nack(n.reason), r),
                _ => {}
            }
        }
    }

    /// Sends a command and waits for its answer.
    pub async fn command(&mut self, message: Message) -> Answer {
        let seq = self.send(message).await;
        self.answer_to(seq).await.0
    }

    /// Opens a session: the Ack, Identity, Capabilities and Status, checked
    /// to come in that order right after the Hello.
    pub async fn hello(&mut self) -> (Identity, Capabilities, Status) {
        let seq = self
            .send(Message::Hello(Hello { major: 1, minor: 0 }))
            .await;
        let (answer, _) = self.answer_to(seq).await;
        assert_eq!(answer, Answer::Ack);
        let identity = match self.recv().await.packet.message {
            Message::Identity(i) => i,
            other => panic!("expected Identity, got {other:?}"),
        };
        let caps = match self.recv().await.packet.message {
            Message::Capabilities(c) => c,
            other => panic!("expected Capabilities, got {other:?}"),
        };
        let status = match self.recv().await.packet.message {
            Message::Status(s) => s,
            other => panic!("expected Status, got {other:?}"),
        };
        (identity, caps, status)
    }

    /// Asks for the status: the Ack then the Status right after it.
    pub async fn status(&mut self) -> Status {
        let seq = self.send(Message::StatusRequest).await;
        let (answer, _) = self.answer_to(seq).await;
        assert_eq!(answer, Answer::Ack);
        match self.recv().await.packet.message {
            Message::Status(s) => s,
            other => panic!("expected Status after the Ack, got {other:?}"),
        }
    }

    /// Keeps the watchdog fed for `d`, collecting what the pen sends.
    pub async fn run_for(&mut self, d: Duration) -> Vec<Received> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        let mut next_beat = Instant::now() + Duration::from_millis(250);
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            if now >= next_beat {
                self.send(Message::Heartbeat).await;
                next_beat += Duration::from_millis(250);
            }
            let wait = end.min(next_beat).saturating_duration_since(now);
            if let Some(r) = self.try_recv(wait).await {
                got.push(r);
            }
        }
        got
    }

    /// Waits `d` without sending anything, collecting what the pen sends.
    pub async fn silent_for(&mut self, d: Duration) -> Vec<Received> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Some(r) = self.try_recv(left).await {
                got.push(r);
            }
        }
        got
    }

    /// Drops whatever is queued.
    pub fn clear(&mut self) {
        self.inbox.clear();
    }

    pub fn into_inner(self) -> S {
        self.stream
    }
}

pub fn profile(name: &str) -> Profile {
    Profile::builtin(name).unwrap()
}

pub fn config(name: &str) -> MockConfig {
    MockConfig::new(DeviceConfig::new(profile(name)))
}

/// A mock on an in-process link: the host, the environment, and the task
/// that gives the mock back when the host hangs up.
pub fn spawn_duplex(config: MockConfig) -> (Host<DuplexStream>, EnvHandle, JoinHandle<Mock>) {
    let (host, env, task) = penlab_firmware_mock::runner::spawn_duplex(config);
    let task = tokio::spawn(async move {
        let (mock, end) = task.await.unwrap().unwrap();
        assert_eq!(end, RunEnd::HostClosed);
        mock
    });
    (Host::new(host), env, task)
}

/// A mock on a pseudo-terminal, opened by the host with tokio-serial like a
/// USB pen.
pub fn spawn_pty(
    config: MockConfig,
) -> (Host<tokio_serial::SerialStream>, EnvHandle, JoinHandle<()>) {
    use tokio_serial::SerialPortBuilderExt;
    let pty = Pty::open(None).unwrap();
    let path = pty.path().to_str().unwrap().to_owned();
    let (env, rx) = env::channel();
    let mut mock = Mock::new(config).with_env(rx);
    let task = tokio::spawn(async move {
        let mut pty = pty;
        let _ = mock.run(&mut pty.master).await;
    });
    let port = tokio_serial::new(&path, 115_200)
        .open_native_async()
        .unwrap();
    (Host::new(port), env, task)
}

pub fn is_type(m: &Message, t: MessageType) -> bool {
    m.msg_type() == t
}
