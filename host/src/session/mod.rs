//! The host's side of a session with a pen, over any byte link (a serial
//! port, TCP, an in-process duplex): the handshake, commands answered within
//! the deadline with retransmission, heartbeats while waiting, events kept
//! in order for whoever asks next, every byte captured, and the safety rules
//! of `PROTOCOL.md` §14: values outside the pen's declared limits are
//! refused unless the caller allows them, and [`Session::stop_motor_safely`]
//! ends every run: `Stop`, then its `Ack` or the pen's watchdog timeout
//! before the link may close.
//!
//! Every read and write on the link is time-bounded: reads by the deadline
//! of whatever waits for them, writes by [`SessionOptions::write_deadline`].
//! A write that cannot complete in time is [`SessionError::Stalled`], never
//! a hang; a frame cut off part way (by a stall, or by the caller dropping a
//! session future mid-write) is ended with a delimiter before the next
//! frame, so the pen drops the half frame (§2.3) instead of misreading it.

use std::collections::VecDeque;
use std::time::Duration;

use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{DecodeError, Decoder, encode_frame, encode_packet};
use penlab_protocol::frame::{Frame, FrameRepr};
use penlab_protocol::message::{
    Direction, Hello, Identity, Message, MessageType, NackReason, Packet, Status,
};
use penlab_protocol::seq::{SeqCounter, SeqEvent, SeqTracker};
use penlab_protocol::timing;
use penlab_protocol::{PROTOCOL_MAJOR, PROTOCOL_MINOR};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::capture::CaptureWriter;
use crate::limits::PenLimits;

mod error;
mod stop;

pub use error::SessionError;
pub use stop::UnconfirmedStop;

/// The default [`SessionOptions::write_deadline`].
pub const DEFAULT_WRITE_DEADLINE: Duration = Duration::from_secs(1);

/// How a session behaves.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Send values outside the pen's declared limits instead of refusing
    /// them: only for tests of the pen's own refusal.
    pub allow_out_of_limits: bool,
    /// How long to wait for an `Ack` or `Nack` before retransmitting.
    pub ack_deadline: Duration,
    /// Retransmissions of an unanswered command (same sequence number).
    pub retransmissions: u8,
    /// Send a `Heartbeat` when nothing else was sent for this long.
    pub heartbeat_period: Duration,
    /// Longest a write may take before it is [`SessionError::Stalled`]: a
    /// frame takes under 25 ms at 115200 baud, so only a line that does not
    /// move (a pen that has stopped reading, a held flow-control line)
    /// reaches it.
    pub write_deadline: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            allow_out_of_limits: false,
            ack_deadline: timing::ACK_DEADLINE,
            retransmissions: timing::MAX_RETRANSMISSIONS,
            heartbeat_period: timing::HEARTBEAT_PERIOD,
            write_deadline: DEFAULT_WRITE_DEADLINE,
        }
    }
}

/// Something the pen sent (or a frame that failed to decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// When it arrived, since the session started.
    pub at: Duration,
    /// The packet, or what was wrong with the frame.
    pub result: Result<Packet, DecodeError>,
    /// What its sequence number says (for decoded packets).
    pub seq: Option<SeqEvent>,
}

/// The pen's answer to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Accepted.
    Ack {
        /// From sending the command to receiving the answer.
        latency: Duration,
        /// Times the command was sent again before the answer came.
        retransmissions: u8,
    },
    /// Refused.
    Nack {
        /// Why.
        reason: NackReason,
        /// From sending the command to receiving the answer.
        latency: Duration,
        /// Times the command was sent again before the answer came.
        retransmissions: u8,
    },
}

impl Reply {
    /// How long the answer took.
    pub fn latency(&self) -> Duration {
        match *self {
            Reply::Ack { latency, .. } | Reply::Nack { latency, .. } => latency,
        }
    }
}

/// What the handshake told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Who the pen is.
    pub identity: Identity,
    /// What it declares it can do, checked (see [`PenLimits::validate`]).
    pub limits: PenLimits,
    /// Its state after the handshake.
    pub status: Status,
    /// From `Hello` to the last of the three answers.
    pub took: Duration,
}

/// What the link looked like from the host's side: the automatic checks
/// every conformance test makes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames from the pen that failed to decode, by error code.
    pub decode_errors: Vec<&'static str>,
    /// Pen frames that repeated the previous sequence number.
    pub seq_duplicates: u32,
    /// Pen frames lost according to sequence numbers.
    pub seq_lost: u32,
}

/// A session with one pen over `link`.
pub struct Session<L> {
    link: L,
    options: SessionOptions,
    decoder: Decoder,
    /// Set aside while waiting for something else; `recv` returns these
    /// first, in arrival order.
    inbox: VecDeque<Inbound>,
    /// Decoded from the link and not yet looked at.
    pending_decoded: VecDeque<Inbound>,
    /// Heartbeats whose acknowledgements are absorbed, not surfaced.
    heartbeats: VecDeque<u16>,
    seq: SeqCounter,
    pen_seq: SeqTracker,
    started: Instant,
    last_sent: Instant,
    capture: Option<CaptureWriter<Box<dyn std::io::Write + Send>>>,
    handshake: Option<Handshake>,
    /// The pen acknowledged `Hello`: heartbeats are due from now on.
    open: bool,
    /// Inside [`Session::silent`]: no heartbeats. A flag of its own so that
    /// a silent wait cut short (its future dropped) cannot end the session's
    /// heartbeats for good: the teardown clears it.
    quiet: bool,
    closed: bool,
    /// A write started and did not complete (it stalled, or its future was
    /// dropped): the next write begins with a delimiter.
    write_cut: bool,
    /// The pen has answered something (an `Ack` or `Nack`) in this session.
    pen_answered: bool,
    stats: LinkStats,
    /// Limits known before this session's handshake (from an earlier one).
    known_limits: Option<PenLimits>,
    /// The last command sent: type code, sequence number, wire bytes.
    last_command: Option<(u8, u16, Vec<u8>)>,
}

impl<L: AsyncRead + AsyncWrite + Unpin> Session<L> {
    /// A session over `link`; nothing is sent until asked.
    pub fn new(link: L, options: SessionOptions) -> Self {
        let now = Instant::now();
        Session {
            link,
            options,
            decoder: Decoder::new(),
            inbox: VecDeque::new(),
            pending_decoded: VecDeque::new(),
            heartbeats: VecDeque::new(),
            seq: SeqCounter::new(),
            pen_seq: SeqTracker::new(),
            started: now,
            last_sent: now,
            capture: None,
            handshake: None,
            open: false,
            quiet: false,
            closed: false,
            write_cut: false,
            pen_answered: false,
            stats: LinkStats::default(),
            known_limits: None,
            last_command: None,
        }
    }

    /// Records every byte both ways into `capture` from now on.
    pub fn capture_to(&mut self, capture: CaptureWriter<Box<dyn std::io::Write + Send>>) {
        self.capture = Some(capture);
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The handshake's result, once [`Session::open`] has run.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// Limits to hold commands to before this session's own handshake (the
    /// pen's, from an earlier session): a test that talks to the pen before
    /// `Hello` still never sends what the pen does not allow.
    pub fn set_known_limits(&mut self, limits: PenLimits) {
        self.known_limits = Some(limits);
    }

    /// The options in force.
    pub fn options_mut(&mut self) -> &mut SessionOptions {
        &mut self.options
    }

    /// Sends `Hello` and waits for `Ack`, `Identity`, `Capabilities` and
    /// `Status` within the handshake deadline. Declared limits that make no
    /// sense end the handshake with [`SessionError::Limits`].
    pub async fn open(&mut self) -> Result<&Handshake, SessionError> {
        self.seq.reset();
        self.pen_seq.reset();
        self.heartbeats.clear();
        self.open = false;
        // A leading delimiter drops whatever half frame the pen holds (§2.3).
        self.write("a delimiter", &[penlab_protocol::DELIMITER])
            .await?;
        let start = Instant::now();
        let hello = Message::Hello(Hello {
            major: PROTOCOL_MAJOR,
            minor: PROTOCOL_MINOR,
        });
        match self.command_unchecked(hello).await? {
            Reply::Ack { .. } => self.open = true,
            Reply::Nack { reason, .. } => {
                return Err(SessionError::Handshake(format!(
                    "the pen refused Hello: {reason:?}"
                )));
            }
        }
        let deadline = start + timing::HANDSHAKE_DEADLINE + self.options.ack_deadline;
        let (mut identity, mut capabilities, mut status) = (None, None, None);
        // Anything else that comes meanwhile waits for `recv`, after the
        // handshake: put back now, it would be read again at once.
        let mut aside = Vec::new();
        while identity.is_none() || capabilities.is_none() || status.is_none() {
            let Some(event) = self.recv_until(deadline).await? else {
                let missing: Vec<&str> = [
                    identity.is_none().then_some("Identity"),
                    capabilities.is_none().then_some("Capabilities"),
                    status.is_none().then_some("Status"),
                ]
                .into_iter()
                .flatten()
                .collect();
                let garbled = if self.stats.decode_errors.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (frames that failed to decode meanwhile: {})",
                        self.stats.decode_errors.join(", ")
                    )
                };
                return Err(SessionError::Handshake(format!(
                    "no {} within {:?} of Hello{garbled}",
                    missing.join(", "),
                    timing::HANDSHAKE_DEADLINE
                )));
            };
            match event.result {
                Ok(Packet {
                    message: Message::Identity(i),
                    ..
                }) => identity = Some(i),
                Ok(Packet {
                    message: Message::Capabilities(c),
                    ..
                }) => capabilities = Some(c),
                Ok(Packet {
                    message: Message::Status(s),
                    ..
                }) => status = Some(s),
                _ => aside.push(event),
            }
        }
        self.inbox.extend(aside);
        let (Some(identity), Some(capabilities), Some(status)) = (identity, capabilities, status)
        else {
            unreachable!("the loop runs until all three are in")
        };
        if identity.protocol_major != PROTOCOL_MAJOR {
            return Err(SessionError::Handshake(format!(
                "the pen speaks protocol {}.{}, this host {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}",
                identity.protocol_major, identity.protocol_minor
            )));
        }
        let limits = PenLimits::validate(capabilities)?;
        let took = start.elapsed();
        Ok(self.handshake.insert(Handshake {
            identity,
            limits,
            status,
            took,
        }))
    }

    /// Sends a command and waits for its `Ack` or `Nack`, retransmitting
    /// with the same sequence number when the deadline passes. Depth and
    /// rate values outside the declared limits are refused unless the
    /// options allow them.
    pub async fn command(&mut self, message: Message) -> Result<Reply, SessionError> {
        self.check_limits(&message)?;
        self.command_unchecked(message).await
    }

    async fn command_unchecked(&mut self, message: Message) -> Result<Reply, SessionError> {
        let code = message.msg_type().code();
        let seq = self.seq.next_seq();
        self.exchange(code, seq, encode(seq, message)).await
    }

    /// Sends a frame of any type code and payload, with a sound CRC and the
    /// next sequence number, and waits for its answer: for tests of how a
    /// pen treats unknown or malformed commands.
    pub async fn command_frame(
        &mut self,
        msg_type: u8,
        payload: &[u8],
    ) -> Result<Reply, SessionError> {
        let seq = self.seq.next_seq();
        let len = FrameRepr::buffer_len(payload.len());
        if len > penlab_protocol::MAX_FRAME {
            return Err(SessionError::Io(std::io::Error::other(format!(
                "a payload of {} bytes does not fit a frame",
                payload.len()
            ))));
        }
        let mut raw = vec![0u8; len];
        let mut frame = Frame::new_unchecked(&mut raw[..]);
        frame.payload_mut().copy_from_slice(payload);
        FrameRepr { msg_type, seq }.emit(&mut frame);
        let mut wire = vec![0u8; MAX_WIRE_FRAME];
        let n = encode_frame(&raw, &mut wire)
            .map_err(|e| SessionError::Io(std::io::Error::other(e)))?;
        wire.truncate(n);
        self.exchange(msg_type, seq, wire).await
    }

    /// Sends the last command again, byte for byte (same sequence number),
    /// as a host does after a lost answer, and waits for its answer.
    pub async fn resend_last(&mut self) -> Result<Reply, SessionError> {
        let (code, seq, wire) = self.last_command.clone().ok_or(SessionError::NotOpen)?;
        self.exchange(code, seq, wire).await
    }

    /// Writes `wire` (a command of type `code` numbered `seq`) and waits for
    /// the Ack or Nack that names `seq`, retransmitting on the deadline.
    async fn exchange(&mut self, code: u8, seq: u16, wire: Vec<u8>) -> Result<Reply, SessionError> {
        let sent = Instant::now();
        self.last_command = Some((code, seq, wire.clone()));
        let what = command_name(code);
        for attempt in 0..=self.options.retransmissions {
            self.write(&what, &wire).await?;
            let deadline = Instant::now() + self.options.ack_deadline;
            while let Some(event) = self.recv_raw_until(deadline).await? {
                let reply = match &event.result {
                    Ok(Packet {
                        message: Message::Ack(a),
                        ..
                    }) if a.ack_seq == seq => Some(Reply::Ack {
                        latency: sent.elapsed(),
                        retransmissions: attempt,
                    }),
                    Ok(Packet {
                        message: Message::Nack(n),
                        ..
                    }) if n.ack_seq == seq => Some(Reply::Nack {
                        reason: n.reason,
                        latency: sent.elapsed(),
                        retransmissions: attempt,
                    }),
                    _ => None,
                };
                match reply {
                    Some(reply) => return Ok(reply),
                    None => self.inbox.push_back(event),
                }
            }
        }
        Err(SessionError::NoReply {
            command: what,
            seq,
            attempts: self.options.retransmissions + 1,
            deadline: self.options.ack_deadline,
        })
    }

    /// Sends a message as it is, with the next sequence number, and does not
    /// wait: for tests that need to send what a command would not.
    pub async fn send_raw(&mut self, message: Message) -> Result<u16, SessionError> {
        let seq = self.seq.next_seq();
        let what = message.msg_type().name();
        self.write(what, &encode(seq, message)).await?;
        Ok(seq)
    }

    /// Writes `bytes` as they are (`what` names them in errors), without
    /// waiting for anything: for tests of how a pen treats line noise and
    /// frames that fail their checks.
    pub async fn send_bytes(&mut self, what: &str, bytes: &[u8]) -> Result<(), SessionError> {
        self.write(what, bytes).await
    }

    /// The next thing the pen sent, waiting at most `within` (heartbeating
    /// meanwhile); `None` if nothing came.
    pub async fn recv(&mut self, within: Duration) -> Result<Option<Inbound>, SessionError> {
        let deadline = Instant::now() + within;
        self.recv_until(deadline).await
    }

    /// Keeps the session alive for `duration` and returns everything the pen
    /// sent meanwhile.
    pub async fn idle(&mut self, duration: Duration) -> Result<Vec<Inbound>, SessionError> {
        let deadline = Instant::now() + duration;
        let mut events = Vec::new();
        while let Some(event) = self.recv_until(deadline).await? {
            events.push(event);
        }
        Ok(events)
    }

    /// Like [`Session::idle`], but sends nothing at all, heartbeats
    /// included: what a host that has gone quiet looks like to the pen.
    pub async fn silent(&mut self, duration: Duration) -> Result<Vec<Inbound>, SessionError> {
        self.quiet = true;
        let events = self.idle(duration).await;
        self.quiet = false;
        events
    }

    /// What the automatic link checks have seen so far.
    pub fn link_stats(&self) -> &LinkStats {
        &self.stats
    }

    fn check_limits(&self, message: &Message) -> Result<(), SessionError> {
        if self.options.allow_out_of_limits {
            return Ok(());
        }
        let caps = || {
            self.handshake
                .as_ref()
                .map(|h| &h.limits)
                .or(self.known_limits.as_ref())
                .ok_or(SessionError::NotOpen)
        };
        match message {
            Message::SetDepth(d) => {
                let c = caps()?;
                if !c.accepts_depth(d.depth_um) {
                    return Err(SessionError::OutOfLimits {
                        what: format!("SetDepth({} µm)", d.depth_um),
                        limits: format!(
                            "{}..={} µm in steps of {} µm",
                            c.depth_min_um, c.depth_max_um, c.depth_step_um
                        ),
                    });
                }
            }
            Message::SetRate(r) => {
                let c = caps()?;
                if !c.accepts_rate(r.rate_chz) {
                    return Err(SessionError::OutOfLimits {
                        what: format!("SetRate({} cHz)", r.rate_chz),
                        limits: format!(
                            "{}..={} cHz in steps of {} cHz",
                            c.rate_min_chz, c.rate_max_chz, c.rate_step_chz
                        ),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The next surfaced event before `deadline`: from the inbox first, then
    /// the link; heartbeat acknowledgements are absorbed.
    async fn recv_until(&mut self, deadline: Instant) -> Result<Option<Inbound>, SessionError> {
        if let Some(event) = self.inbox.pop_front() {
            return Ok(Some(event));
        }
        self.recv_raw_until(deadline).await
    }

    /// Reads the link until an event arrives or `deadline` passes, sending
    /// heartbeats on time meanwhile.
    async fn recv_raw_until(&mut self, deadline: Instant) -> Result<Option<Inbound>, SessionError> {
        let mut buf = [0u8; 1_024];
        loop {
            if let Some(event) = self.take_decoded() {
                return Ok(Some(event));
            }
            if self.closed {
                return Err(SessionError::Disconnected);
            }
            let wake = if self.open && !self.quiet {
                deadline.min(self.last_sent + self.options.heartbeat_period)
            } else {
                deadline
            };
            let read = tokio::select! {
                r = self.link.read(&mut buf) => Some(r),
                _ = tokio::time::sleep_until(wake) => None,
            };
            match read {
                Some(Ok(0)) | Some(Err(_)) => {
                    self.closed = true;
                    if let Some(error) = self.decoder.finish() {
                        let event = self.stamp(Err(error));
                        self.pending_decoded.push_back(event);
                    }
                }
                Some(Ok(n)) => {
                    let at = self.elapsed();
                    if let Some(capture) = self.capture.as_mut() {
                        capture
                            .record(at.as_micros() as u64, Direction::PenToHost, &buf[..n])
                            .map_err(SessionError::Capture)?;
                    }
                    let mut decoded = Vec::new();
                    self.decoder.feed(&buf[..n], |r| decoded.push(r));
                    for result in decoded {
                        let event = self.stamp(result);
                        self.pending_decoded.push_back(event);
                    }
                }
                None if Instant::now() >= deadline => return Ok(None),
                None => self.heartbeat().await?,
            }
        }
    }

    fn stamp(&mut self, result: Result<Packet, DecodeError>) -> Inbound {
        if let Ok(Packet {
            message: Message::Ack(a),
            ..
        }) = &result
            && a.command == MessageType::Hello.code()
        {
            // The pen numbers from 0 again with the Ack of a Hello (§3).
            self.pen_seq.reset();
        }
        let seq = result.as_ref().ok().map(|p| self.pen_seq.observe(p.seq));
        if let Ok(Packet {
            message: Message::Ack(_) | Message::Nack(_),
            ..
        }) = &result
        {
            self.pen_answered = true;
        }
        match (&result, seq) {
            (Err(e), _) => self.stats.decode_errors.push(e.code()),
            (_, Some(SeqEvent::Duplicate)) => self.stats.seq_duplicates += 1,
            (_, Some(SeqEvent::Gap { lost })) => self.stats.seq_lost += u32::from(lost),
            _ => {}
        }
        Inbound {
            at: self.elapsed(),
            result,
            seq,
        }
    }

    /// The next decoded event, absorbing acknowledgements of heartbeats
    /// (a refused heartbeat is surfaced: the pen has lost the session).
    fn take_decoded(&mut self) -> Option<Inbound> {
        while let Some(event) = self.pending_decoded.pop_front() {
            if let Ok(Packet {
                message: Message::Ack(a),
                ..
            }) = &event.result
                && let Some(at) = self.heartbeats.iter().position(|&s| s == a.ack_seq)
            {
                self.heartbeats.remove(at);
                continue;
            }
            return Some(event);
        }
        None
    }

    async fn heartbeat(&mut self) -> Result<(), SessionError> {
        let seq = self.seq.next_seq();
        self.heartbeats.push_back(seq);
        // Unanswered heartbeats are not retried; remember only recent ones.
        if self.heartbeats.len() > 16 {
            self.heartbeats.pop_front();
        }
        self.write("Heartbeat", &encode(seq, Message::Heartbeat))
            .await
    }

    /// Writes `bytes` (`what`, for errors) within the write deadline.
    async fn write(&mut self, what: &str, bytes: &[u8]) -> Result<(), SessionError> {
        self.write_within(what, bytes, self.options.write_deadline)
            .await
    }

    async fn write_within(
        &mut self,
        what: &str,
        bytes: &[u8],
        within: Duration,
    ) -> Result<(), SessionError> {
        let mut after_cut = Vec::new();
        let bytes = if self.write_cut {
            // Ends whatever half frame the last write left on the line.
            after_cut.reserve(bytes.len() + 1);
            after_cut.push(penlab_protocol::DELIMITER);
            after_cut.extend_from_slice(bytes);
            &after_cut[..]
        } else {
            bytes
        };
        if let Some(capture) = self.capture.as_mut() {
            let at = self.started.elapsed().as_micros() as u64;
            capture
                .record(at, Direction::HostToPen, bytes)
                .map_err(SessionError::Capture)?;
        }
        // Set until the write completes: a stall, or this future dropped
        // part way, leaves it set.
        self.write_cut = true;
        let written = tokio::time::timeout(within, async {
            self.link.write_all(bytes).await?;
            self.link.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => {
                self.write_cut = false;
                self.last_sent = Instant::now();
                Ok(())
            }
            Ok(Err(_)) => {
                self.closed = true;
                Err(SessionError::Disconnected)
            }
            Err(_) => Err(SessionError::Stalled {
                what: what.to_owned(),
                after: within,
            }),
        }
    }
}

/// `Stop` (or the type code of a command the protocol does not know).
fn command_name(code: u8) -> String {
    MessageType::from_code(code)
        .map_or_else(|| format!("type {code:#04x}"), |t| t.name().to_owned())
}

fn encode(seq: u16, message: Message) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE_FRAME];
    // Message capacities are sized so that every message fits a frame.
    let n = encode_packet(&Packet { seq, message }, &mut out).expect("every message fits a frame");
    out[..n].to_vec()
}
