//! The rules every test holds the whole exchange to, whatever its steps
//! did: each a requirement of `PROTOCOL.md`, checked on the transcript
//! after the test (see the module above).
//!
//! Times are the host's: when a frame's last byte was written or read.
//! Limits checked this way get the link allowance of R-HOST-2; none that
//! the pen's clock measures do.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use penlab_protocol::message::Direction;
use penlab_protocol::message::{
    CartridgeEventKind, DeviceState, FEATURE_LOCKOUT, FEATURE_POSE, Message, MessageType,
    NackReason, Packet,
};
use penlab_protocol::timing::{
    ACK_DEADLINE, HANDSHAKE_DEADLINE, HOST_LINK_ALLOWANCE, STRIKE_BATCH_MAX_INTERVAL,
};

use super::{FrameBody, WireFrame};

/// A rule broken, with the requirement it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The requirement (`R-RUN-6`).
    pub requirement: &'static str,
    /// When, since the test started.
    pub at: Duration,
    /// What happened, in words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {:.1} ms: {} (PROTOCOL.md, {})",
            self.requirement,
            self.at.as_secs_f64() * 1e3,
            self.message,
            self.requirement
        )
    }
}

/// Every requirement every test is held to, for the MUST table: by
/// [`check`], and by the runner's own checks of the link (frames that fail
/// to decode, repeated numbers) and of each handshake (declared limits,
/// unchanged Capabilities).
pub const EVERY_TEST: &[&str] = &[
    "R-FRAME-1",
    "R-FRAME-2",
    "R-FRAME-3",
    "R-SEQ-1",
    "R-SEQ-2",
    "R-SEQ-5",
    "R-FIELD-1",
    "R-MSG-1",
    "R-CMD-1",
    "R-MSG-2",
    "R-MSG-4",
    "R-MSG-5",
    "R-MSG-6",
    "R-MSG-7",
    "R-MSG-8",
    "R-MSG-9",
    "R-MSG-10",
    "R-HELLO-2",
    "R-HELLO-3",
    "R-HELLO-7",
    "R-HELLO-8",
    "R-STATE-11",
    "R-STATE-14",
    "R-STATE-17",
    "R-STATE-18",
    "R-TIME-1",
    "R-TIME-2",
    "R-BUSY-1",
    "R-WD-3",
    "R-RUN-1",
    "R-RUN-5",
    "R-RUN-6",
    "R-TIME-3",
    "R-FAULT-1",
    "R-FAULT-2",
    "R-CART-1",
    "R-CART-3",
    "R-CART-4",
];

/// The bytes a frame takes on a 115 200-baud UART, per byte (R-HOST-1's
/// wire time: generous on USB and PTYs, exact on a UART).
const UART_BYTE: Duration = Duration::from_micros(87);

/// A command sent and not yet answered.
struct Pending {
    at: Duration,
    seq: u16,
    msg_type: u8,
    wire_len: usize,
    /// A frame the pen must not answer (pen-direction code, broken CRC).
    must_ignore: bool,
}

/// Checks `frames` (the whole test, in order, both ways) and returns what
/// was broken, first first. `ended` is when the transcript stopped: a
/// command whose deadline lies beyond it is not judged.
pub fn check(frames: &[WireFrame], ended: Duration) -> Vec<Violation> {
    let mut c = Checker::default();
    for f in frames {
        match (f.dir, &f.body) {
            (Direction::HostToPen, FrameBody::Sound { msg_type, seq, .. }) => {
                c.expire(f.at);
                c.pending.push_back(Pending {
                    at: f.at,
                    seq: *seq,
                    msg_type: *msg_type,
                    wire_len: f.wire_len,
                    must_ignore: *msg_type >= 0x80,
                });
            }
            (Direction::HostToPen, FrameBody::Broken) => {}
            (
                Direction::PenToHost,
                FrameBody::Sound {
                    msg_type,
                    seq,
                    packet,
                },
            ) => {
                c.expire(f.at);
                if *msg_type < 0x80 {
                    c.broke(
                        "R-MSG-1",
                        f.at,
                        format!(
                            "the pen sent a frame of type {msg_type:#04x}, a host-direction code"
                        ),
                    );
                }
                c.numbering(f, *seq, packet.as_deref());
                if let Some(p) = packet {
                    c.pen_packet(f, p);
                }
            }
            (Direction::PenToHost, FrameBody::Broken) => {}
        }
    }
    c.expire(ended);
    c.found
}

#[derive(Default)]
struct Checker {
    found: Vec<Violation>,
    pending: VecDeque<Pending>,
    last_pen_seq: Option<u16>,
    /// Between the `Ack` of `Start` and the frame that reports the stop.
    running: bool,
    /// What reported the last stop, for messages.
    stopped_by: Option<&'static str>,
    /// Frames still due of a handshake: Identity, Capabilities, Status.
    handshake_due: Vec<MessageType>,
    handshake_hello_at: Option<Duration>,
    /// The next stroke number, once known.
    next_strike: Option<u32>,
    /// The last batch of this run: arrival and last stroke's pen time.
    last_batch: Option<(Duration, u64)>,
    /// Unwrapping the pen's clock (R-HOST-7), one per message kind.
    clock: [Option<(u32, u64)>; 3],
    /// Active faults as the stream tells them, once a `Status` said.
    faults: Option<u16>,
    /// Faults a handshake's `Status` no longer showed: their clearing
    /// reports follow.
    clearing: u16,
    /// A cartridge is fitted according to the events seen.
    fitted: Option<bool>,
    features: Option<u8>,
    capabilities: Option<Message>,
    poses: VecDeque<Duration>,
    /// The `Status` being looked at is the handshake's.
    handshake_status: bool,
}

impl Checker {
    fn broke(&mut self, requirement: &'static str, at: Duration, message: String) {
        self.found.push(Violation {
            requirement,
            at,
            message,
        });
    }

    /// Judges the commands whose deadline has passed by `now`.
    fn expire(&mut self, now: Duration) {
        while let Some(p) = self.pending.front() {
            let limit = ACK_DEADLINE + HOST_LINK_ALLOWANCE + UART_BYTE * (p.wire_len as u32 + 13);
            if now <= p.at + limit {
                break;
            }
            let p = self.pending.pop_front().expect("front exists");
            if !p.must_ignore {
                self.broke(
                    "R-TIME-1",
                    p.at,
                    format!(
                        "{} (seq {}) got no Ack or Nack within {} ms ({} ms and the link allowance)",
                        command_name(p.msg_type),
                        p.seq,
                        limit.as_millis(),
                        ACK_DEADLINE.as_millis()
                    ),
                );
            }
        }
    }

    /// An `Ack` or `Nack` naming `ack_seq`: matched with its command.
    fn answer(&mut self, f: &WireFrame, ack_seq: u16, command: u8, nack: Option<NackReason>) {
        let Some(i) = self.pending.iter().position(|p| p.seq == ack_seq) else {
            self.broke(
                "R-CMD-1",
                f.at,
                format!(
                    "an answer names seq {ack_seq}, which no command waiting for one carried (a second answer, or one to nothing)"
                ),
            );
            return;
        };
        let p = self.pending.remove(i).expect("found");
        if p.must_ignore {
            self.broke(
                "R-STATE-11",
                f.at,
                format!(
                    "the pen answered a frame of type {:#04x} (a pen-direction code); it must ignore it",
                    p.msg_type
                ),
            );
            return;
        }
        if command != p.msg_type {
            self.broke(
                "R-CMD-1",
                f.at,
                format!(
                    "the answer to {} (seq {ack_seq}) names command {command:#04x}",
                    command_name(p.msg_type)
                ),
            );
        }
        if nack == Some(NackReason::Busy)
            && p.msg_type != MessageType::SetDepth.code()
            && p.msg_type != MessageType::SetRate.code()
        {
            self.broke(
                "R-BUSY-1",
                f.at,
                format!(
                    "{} was refused as busy; only SetDepth and SetRate may be",
                    command_name(p.msg_type)
                ),
            );
        }
        if nack.is_none() && p.msg_type == MessageType::Hello.code() {
            self.handshake_hello_at = Some(p.at);
        }
    }

    /// R-SEQ-1, R-SEQ-2: one more each frame, from 0 with the Ack of Hello.
    fn numbering(&mut self, f: &WireFrame, seq: u16, packet: Option<&Packet>) {
        let hello_ack = matches!(
            packet.map(|p| &p.message),
            Some(Message::Ack(a)) if a.command == MessageType::Hello.code()
        );
        if hello_ack {
            if seq != 0 {
                self.broke(
                    "R-SEQ-2",
                    f.at,
                    format!("the Ack of Hello carries seq {seq}; the pen numbers from 0 with it"),
                );
            }
        } else if let Some(last) = self.last_pen_seq {
            let want = last.wrapping_add(1);
            if seq != want {
                self.broke(
                    "R-SEQ-1",
                    f.at,
                    format!("a pen frame carries seq {seq} after {last}; the next is {want}"),
                );
            }
        }
        self.last_pen_seq = Some(seq);
    }

    fn stop_run(&mut self, by: &'static str) {
        self.running = false;
        self.stopped_by = Some(by);
        self.last_batch = None;
    }

    fn pen_packet(&mut self, f: &WireFrame, p: &Packet) {
        let ty = p.message.msg_type();
        self.handshake_order(f, ty);
        match &p.message {
            Message::Ack(a) => {
                self.answer(f, a.ack_seq, a.command, None);
                match MessageType::from_code(a.command) {
                    Some(MessageType::Start) => {
                        self.running = true;
                        self.stopped_by = None;
                        self.last_batch = Some((f.at, u64::MAX));
                    }
                    Some(MessageType::Stop) if self.running => self.stop_run("the Ack of Stop"),
                    Some(MessageType::EmergencyStop) => self.stop_run("the Ack of EmergencyStop"),
                    Some(MessageType::Hello) => {
                        if self.running {
                            self.stop_run("the Ack of Hello");
                        }
                        self.next_strike = Some(0);
                        self.handshake_due = vec![
                            MessageType::Identity,
                            MessageType::Capabilities,
                            MessageType::Status,
                        ];
                    }
                    _ => {}
                }
            }
            Message::Nack(n) => self.answer(f, n.ack_seq, n.command, Some(n.reason)),
            Message::StrikeBatch(b) => {
                self.periodic(f, "StrikeBatch");
                self.batch(f, b);
            }
            Message::Telemetry(t) => {
                self.periodic(f, "Telemetry");
                self.pen_time(f, 0, t.time_us);
            }
            Message::Pose(pose) => {
                self.periodic(f, "Pose");
                self.pen_time(f, 2, pose.time_us);
                self.pose(f);
            }
            Message::Status(s) => self.status(f, s),
            Message::Fault(fault) => {
                self.fault(f, fault.code.code(), fault.active);
                if fault.active && fault.code.is_critical() && self.running {
                    self.stop_run("the Fault that reported it");
                }
            }
            Message::Cartridge(c) => self.cartridge(f, c.event),
            Message::Capabilities(_) => {
                if let Message::Capabilities(caps) = &p.message {
                    self.features = Some(caps.features);
                }
                match &self.capabilities {
                    Some(before) if *before != p.message => self.broke(
                        "R-MSG-5",
                        f.at,
                        "the declared Capabilities changed while the pen was powered".into(),
                    ),
                    _ => self.capabilities = Some(p.message.clone()),
                }
            }
            _ => {}
        }
    }

    /// R-HELLO-7 (the four frames, nothing between) and R-TIME-2.
    fn handshake_order(&mut self, f: &WireFrame, ty: MessageType) {
        let Some(&due) = self.handshake_due.first() else {
            return;
        };
        if ty == MessageType::Ack && due == MessageType::Identity {
            // The Ack of Hello itself.
            return;
        }
        if ty != due {
            self.broke(
                "R-HELLO-7",
                f.at,
                format!(
                    "{} came in the handshake where {} was due; Ack, Identity, Capabilities and Status go with nothing between",
                    ty.name(),
                    due.name()
                ),
            );
            self.handshake_due.clear();
            return;
        }
        self.handshake_due.remove(0);
        self.handshake_status = ty == MessageType::Status;
        if ty == MessageType::Status
            && let Some(hello) = self.handshake_hello_at.take()
        {
            let limit = HANDSHAKE_DEADLINE + HOST_LINK_ALLOWANCE;
            let took = f.at.saturating_sub(hello);
            if took > limit {
                self.broke(
                    "R-TIME-2",
                    f.at,
                    format!(
                        "the handshake's Status came {} ms after Hello; the limit is {} ms and {} ms of link allowance",
                        took.as_millis(),
                        HANDSHAKE_DEADLINE.as_millis(),
                        HOST_LINK_ALLOWANCE.as_millis()
                    ),
                );
            }
        }
    }

    /// R-RUN-5, R-RUN-6, R-STATE-18: periodic frames only in a run.
    fn periodic(&mut self, f: &WireFrame, what: &str) {
        if self.running {
            return;
        }
        let (requirement, when) = match self.stopped_by {
            Some(by) => ("R-RUN-6", format!("after {by}")),
            None => ("R-RUN-5", "outside a run".to_owned()),
        };
        self.broke(
            requirement,
            f.at,
            format!("a {what} came {when}; nothing periodic follows the frame that reports a stop until the next Start's Ack"),
        );
    }

    /// `time_us` of message kind `kind` unwrapped; a step back that is no
    /// wrap breaks R-TIME-3 (each kind's times only go forward: a batch's
    /// are its first stroke's, which may precede an earlier Telemetry).
    fn pen_time(&mut self, f: &WireFrame, kind: usize, time_us: u32) -> u64 {
        let (unwrapped, back) = match self.clock[kind] {
            None => (u64::from(time_us), false),
            Some((last, base)) => {
                let step = time_us.wrapping_sub(last);
                if step <= u32::MAX / 2 {
                    (base + u64::from(step), false)
                } else {
                    (
                        base.saturating_sub(u64::from(last.wrapping_sub(time_us))),
                        true,
                    )
                }
            }
        };
        if back {
            self.broke(
                "R-TIME-3",
                f.at,
                format!(
                    "time_us went back to {time_us}; the pen's clock only counts up (and wraps)"
                ),
            );
        }
        self.clock[kind] = Some((time_us, unwrapped));
        unwrapped
    }

    fn batch(&mut self, f: &WireFrame, b: &penlab_protocol::message::StrikeBatch) {
        if b.strikes.is_empty() {
            self.broke(
                "R-MSG-8",
                f.at,
                "an empty StrikeBatch; a pen sends a batch only with strokes in it".into(),
            );
        }
        if b.strikes
            .windows(2)
            .any(|w| w[1].offset_10us < w[0].offset_10us)
        {
            self.broke(
                "R-MSG-9",
                f.at,
                "stroke offsets in a StrikeBatch decrease".into(),
            );
        }
        if let Some(want) = self.next_strike
            && b.first_strike != want
        {
            self.broke(
                "R-MSG-7",
                f.at,
                format!(
                    "a StrikeBatch starts at stroke {} where {want} was next; strokes are numbered from 0 at Hello, without gaps or restarts",
                    b.first_strike
                ),
            );
        }
        self.next_strike = Some(b.first_strike.wrapping_add(b.strikes.len() as u32));
        let start = self.pen_time(f, 1, b.time_us);
        let first = b
            .strikes
            .first()
            .map_or(start, |s| start + u64::from(s.offset_10us) * 10);
        let last = b
            .strikes
            .last()
            .map_or(start, |s| start + u64::from(s.offset_10us) * 10);
        if self.running
            && let Some((prev_at, prev_last)) = self.last_batch
            && prev_last != u64::MAX
        {
            // Strokes went on across the gap: the pen held some all along.
            let steady =
                first.saturating_sub(prev_last) < STRIKE_BATCH_MAX_INTERVAL.as_micros() as u64;
            let limit = STRIKE_BATCH_MAX_INTERVAL + HOST_LINK_ALLOWANCE;
            let gap = f.at.saturating_sub(prev_at);
            if steady && gap > limit {
                self.broke(
                    "R-RUN-1",
                    f.at,
                    format!(
                        "{} ms between two strike batches while the motor struck; at most {} ms and {} ms of link allowance",
                        gap.as_millis(),
                        STRIKE_BATCH_MAX_INTERVAL.as_millis(),
                        HOST_LINK_ALLOWANCE.as_millis()
                    ),
                );
            }
        }
        if self.running {
            self.last_batch = Some((f.at, last));
        }
    }

    fn pose(&mut self, f: &WireFrame) {
        if self.features.is_some_and(|bits| bits & FEATURE_POSE == 0) {
            self.broke(
                "R-MSG-10",
                f.at,
                "a Pose from a pen that declares no pose tracker".into(),
            );
        }
        self.poses.push_back(f.at);
        while self
            .poses
            .front()
            .is_some_and(|&t| f.at.saturating_sub(t) >= Duration::from_secs(1))
        {
            self.poses.pop_front();
        }
        if self.poses.len() > 60 + 2 {
            // Two of slack for arrival jitter at the window's edges.
            self.broke(
                "R-MSG-10",
                f.at,
                format!(
                    "{} Pose frames within one second; at most 60",
                    self.poses.len()
                ),
            );
            self.poses.clear();
        }
    }

    /// R-STATE-14, R-MSG-6: a Status tells the state the stream implies;
    /// R-FAULT-2: and the faults the reports said.
    fn status(&mut self, f: &WireFrame, s: &penlab_protocol::message::Status) {
        let says_running = s.state == DeviceState::Running;
        if says_running != self.running {
            let message = if says_running {
                "a Status says running outside a run (before the Ack of Start, or after the frame that reported the stop)".to_owned()
            } else {
                format!(
                    "a Status says {:?} while the pen runs (no Ack of Stop, EmergencyStop or Hello, nor a critical Fault, before it)",
                    s.state
                )
            };
            self.broke("R-STATE-14", f.at, message);
        }
        let handshake = std::mem::take(&mut self.handshake_status);
        match self.faults {
            _ if handshake => {
                // A Hello clears what it can and reports it after this
                // Status (R-HELLO-7): before the first Status, anything.
                self.clearing = self.faults.map_or(u16::MAX, |a| a & !s.active_faults);
                self.faults = Some(s.active_faults);
            }
            Some(active) if active != s.active_faults => {
                self.broke(
                    "R-FAULT-2",
                    f.at,
                    format!(
                        "Status.active_faults is {:#06x} where the Fault reports make it {active:#06x}; a fault's bit is set exactly while it is active",
                        s.active_faults
                    ),
                );
                self.faults = Some(s.active_faults);
            }
            _ => self.faults = Some(s.active_faults),
        }
    }

    fn fault(&mut self, f: &WireFrame, code: u8, active: bool) {
        let bit = match code {
            1..=16 => 1u16 << (code - 1),
            _ => 0,
        };
        let Some(faults) = self.faults else {
            return;
        };
        if active {
            if faults & bit != 0 {
                self.broke(
                    "R-FAULT-1",
                    f.at,
                    format!("fault {code} raised again while still active"),
                );
            }
            self.faults = Some(faults | bit);
        } else {
            if faults & bit == 0 && self.clearing & bit == 0 {
                self.broke(
                    "R-FAULT-1",
                    f.at,
                    format!("fault {code} reported cleared although it was not active"),
                );
            }
            self.clearing &= !bit;
            self.faults = Some(faults & !bit);
        }
    }

    /// R-CART-1, R-CART-3: one event per fitting; R-CART-4.
    fn cartridge(&mut self, f: &WireFrame, event: CartridgeEventKind) {
        match event {
            CartridgeEventKind::Removed => self.fitted = Some(false),
            CartridgeEventKind::Inserted | CartridgeEventKind::ReuseLockout => {
                if event == CartridgeEventKind::ReuseLockout
                    && self.features.is_some_and(|b| b & FEATURE_LOCKOUT == 0)
                {
                    self.broke(
                        "R-CART-4",
                        f.at,
                        "a reuse_lockout from a pen that declares no lockout".into(),
                    );
                }
                if self.fitted == Some(true) {
                    self.broke(
                        "R-CART-3",
                        f.at,
                        format!(
                            "Cartridge({event:?}) follows another fitting event with no removal between; each fitting is one event"
                        ),
                    );
                }
                self.fitted = Some(true);
            }
        }
    }
}

fn command_name(code: u8) -> String {
    MessageType::from_code(code).map_or_else(
        || format!("a frame of type {code:#04x}"),
        |t| t.name().to_owned(),
    )
}
