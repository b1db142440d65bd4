//! Every byte of a test, both ways, with the time it crossed the link, and
//! the rules of `PROTOCOL.md` that every test checks on it afterwards.
//!
//! The runner wraps each test's link in a [`TeeLink`]: what the session
//! reads and writes is recorded as it passes, timed on tokio's clock (so in
//! virtual time too). When the test ends, [`frames`] decodes both
//! directions and [`rules::check`] holds the whole exchange to the rules a
//! pen must keep in every test whatever its steps do: an answer to every
//! command within the deadline, numbering, the handshake's shape, nothing
//! periodic outside a run, batch intervals, strokes numbered without gaps,
//! faults and `Status` that agree, one event per cartridge fitted.
//!
//! Steps that measure (`measure`) see only what they wait for; the
//! transcript sees everything, so a rule broken while a step looked
//! elsewhere is still caught.

pub mod rules;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use penlab_host::transport::Link;
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::{Direction, Packet};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Bytes that crossed the link at one time.
#[derive(Debug, Clone)]
struct Chunk {
    at: Duration,
    dir: Direction,
    bytes: Vec<u8>,
}

/// The shared record a [`TeeLink`] writes into.
#[derive(Debug, Clone)]
pub struct Transcript {
    inner: Arc<Mutex<Vec<Chunk>>>,
    started: Instant,
}

impl Transcript {
    /// A record starting now.
    pub fn new() -> Self {
        Transcript {
            inner: Arc::new(Mutex::new(Vec::new())),
            started: Instant::now(),
        }
    }

    /// Time since the record started.
    pub fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn record(&self, dir: Direction, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let at = self.now();
        if let Ok(mut chunks) = self.inner.lock() {
            chunks.push(Chunk {
                at,
                dir,
                bytes: bytes.to_vec(),
            });
        }
    }

    /// The link, recording into this transcript.
    pub fn tee(&self, link: Box<dyn Link>) -> Box<dyn Link> {
        Box::new(TeeLink {
            inner: link,
            transcript: self.clone(),
        })
    }
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new()
    }
}

/// A link that records what passes through it.
pub struct TeeLink {
    inner: Box<dyn Link>,
    transcript: Transcript,
}

impl AsyncRead for TeeLink {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = buf.filled()[before..].to_vec();
            self.transcript.record(Direction::PenToHost, &new);
        }
        polled
    }
}

impl AsyncWrite for TeeLink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.transcript.record(Direction::HostToPen, &buf[..n]);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One frame of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFrame {
    /// When its delimiter crossed the link, since the test started.
    pub at: Duration,
    /// Which way it went.
    pub dir: Direction,
    /// Its bytes on the wire (encoded, delimiter included).
    pub wire_len: usize,
    /// What it held.
    pub body: FrameBody,
}

/// What a frame of the transcript held.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameBody {
    /// A frame with a sound CRC: its type code and `seq`, and the message
    /// when it parsed.
    Sound {
        /// The type code.
        msg_type: u8,
        /// The sender's sequence number.
        seq: u16,
        /// The message, when its payload parsed (boxed: most of a
        /// transcript's frames are small, a few messages are not).
        packet: Option<Box<Packet>>,
    },
    /// A frame that failed the checks of §2.3 (COBS, length, CRC).
    Broken,
}

impl WireFrame {
    /// The decoded packet, if the frame had one.
    pub fn packet(&self) -> Option<&Packet> {
        match &self.body {
            FrameBody::Sound { packet, .. } => packet.as_deref(),
            FrameBody::Broken => None,
        }
    }
}

/// Decodes both directions of `transcript`, in the order the frames ended.
pub fn frames(transcript: &Transcript) -> Vec<WireFrame> {
    let chunks = match transcript.inner.lock() {
        Ok(c) => c.clone(),
        Err(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    for dir in [Direction::HostToPen, Direction::PenToHost] {
        let mut decoder = Decoder::new();
        let mut len = 0usize;
        for chunk in chunks.iter().filter(|c| c.dir == dir) {
            for &byte in &chunk.bytes {
                len += 1;
                let mut input: &[u8] = std::slice::from_ref(&byte);
                let Some(result) = decoder.decode(&mut input) else {
                    continue;
                };
                let body = match result {
                    Ok(frame) => {
                        let packet = Packet::parse(&frame).ok().map(Box::new);
                        FrameBody::Sound {
                            msg_type: frame.msg_type(),
                            seq: frame.seq(),
                            packet,
                        }
                    }
                    Err(_) => FrameBody::Broken,
                };
                out.push(WireFrame {
                    at: chunk.at,
                    dir,
                    wire_len: len,
                    body,
                });
                len = 0;
            }
        }
    }
    out.sort_by_key(|f| f.at);
    out
}
