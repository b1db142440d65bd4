//! The pen's firmware as a pure, synchronous state machine: commands and
//! environment events in, frames out, time passed in explicitly. No I/O and
//! no clock inside, which is what makes the mock deterministic.
//!
//! It implements `PROTOCOL.md` §3 (duplicates), §6 (handshake), §7 (state
//! machine), §8 (timing: busy, watchdog, strike batches, telemetry) and §10
//! (faults, cartridges); requirement identifiers (`R-…`) are those of
//! `protocol/REQUIREMENTS.md`. The periodic frames run on absolute
//! deadlines that [`Device::next_deadline`] tells the runner, so that they
//! keep their schedule in real time. Commands are in `commands`, fault
//! handling in `faults`, the periodic frames in `streams`.

mod commands;
mod faults;
mod streams;

use std::collections::BTreeSet;
use std::time::Duration;

use penlab_protocol::codec::DecodeError;
use penlab_protocol::message::{
    Ack, CartridgeEvent, CartridgeEventKind, CartridgeState, DeviceState, FaultCode, Message,
    MessageError, MessageType, Nack, NackReason, Packet, Status,
};
use penlab_protocol::seq::{SeqCounter, SeqEvent, SeqTracker};

use crate::bugs::{BugSet, PlantedBug};
use crate::env::EnvCommand;
use crate::physics::{Actuator, Battery, Motor, Noise, Thermal};
use crate::profile::Profile;

pub use streams::{SLOW_BATCH_INTERVAL, STRIKE_BATCH_INTERVAL};

/// How late the `late-ack` bug answers.
pub const LATE_ACK_DELAY: Duration = Duration::from_millis(80);
/// How long the `busy-too-long` bug stays busy after a set point.
pub const BUSY_TOO_LONG: Duration = Duration::from_millis(1_500);
/// How long the motor runs on after the `Ack` of `Stop` with the
/// `motor-stops-after-ack` bug.
pub const STOP_LAG: Duration = Duration::from_millis(150);
/// Cartridge fitted at power-up unless configured otherwise.
pub const DEFAULT_CARTRIDGE_ID: u32 = 0x1000_0001;

/// A frame the device wants sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The packet, already numbered.
    pub packet: Packet,
    /// How long after now to send it (non-zero only for the `late-ack` bug).
    pub delay: Duration,
}

/// Settings of one mock pen.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The device profile.
    pub profile: Profile,
    /// Seed of every random draw (landing error, strike noise).
    pub seed: u64,
    /// Planted bugs.
    pub bugs: BugSet,
    /// Cartridge fitted at power-up: `(id, needles)`, or none.
    pub initial_cartridge: Option<(u32, u8)>,
}

impl DeviceConfig {
    /// A correct pen with `profile`, seed 0 and a fresh cartridge fitted.
    pub fn new(profile: Profile) -> Self {
        let needles = profile.cartridge.needle_count;
        DeviceConfig {
            profile,
            seed: 0,
            bugs: BugSet::none(),
            initial_cartridge: Some((DEFAULT_CARTRIDGE_ID, needles)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    state: CartridgeState,
    id: u32,
    needles: u8,
}

/// The answer to the previous command, kept to answer a duplicate.
#[derive(Debug, Clone)]
struct LastAnswer {
    /// The command's `seq`.
    seq: u16,
    /// The `Ack` or `Nack` as it was sent, pen `seq` included.
    packet: Packet,
    /// Whether a `Status` followed it (a `StatusRequest`).
    with_status: bool,
}

/// The pen.
///
/// Where `PROTOCOL.md` leaves the pen a choice, this one:
/// - never answers `busy` unless its profile says `actuator.busy_while_moving`
///   (then it refuses `SetDepth` while the drive moves, at most
///   [`BUSY_LIMIT`](penlab_protocol::timing::BUSY_LIMIT) after the last accepted set point; `SetRate` never);
/// - sends strike batches every [`STRIKE_BATCH_INTERVAL`] (80 ms, R-RUN-2);
/// - clears `low_battery` 2 % above its threshold;
/// - raises an injected fault (environment channel) at once, whatever the
///   state; critical ones move `idle` and `running` to `faulted`.
#[derive(Debug, Clone)]
pub struct Device {
    profile: Profile,
    caps: penlab_protocol::message::Capabilities,
    bugs: BugSet,
    noise: Noise,
    state: DeviceState,
    depth_set_um: u16,
    rate_set_chz: u16,
    tx_seq: SeqCounter,
    rx_seq: SeqTracker,
    last_answer: Option<LastAnswer>,
    /// When the last frame that feeds the watchdog arrived.
    last_rx: Duration,
    /// When the pen last accepted a set point (or a `Hello` reset them).
    last_set_point: Duration,
    active_faults: u16,
    injected: u16,
    slot: Slot,
    used: BTreeSet<u32>,
    actuator: Actuator,
    motor: Motor,
    /// The motor is driven (only in `running`, but for planted bugs).
    driven: bool,
    /// With `motor-stops-after-ack`: when the motor really stops.
    stop_due: Option<Duration>,
    battery: Battery,
    thermal: Thermal,
    force_n: f64,
    current_ma: f64,
    next_strike: u32,
    /// Strokes not yet sent: (µs since power-up, depth).
    pending: Vec<(u64, u16)>,
    last_batch: Duration,
    next_telemetry: Duration,
    last_tick: Duration,
    out: Vec<Outgoing>,
    answer_delay: Duration,
}

fn bit(code: FaultCode) -> u16 {
    code.bit().unwrap_or(0)
}

impl Device {
    /// A pen at power-up: `awaiting_hello`, motor stopped, set points at the
    /// minimum depth and rate (R-STATE-1, R-HELLO-5).
    pub fn new(config: DeviceConfig) -> Self {
        let profile = config.profile;
        let mut noise = Noise::new(config.seed);
        let depth = profile.depth.min_um;
        let mut actuator = Actuator::new(&profile, f64::from(depth));
        actuator.set_target(f64::from(depth), &mut noise);
        actuator.position_um = actuator.landing_um;
        let slot = match config.initial_cartridge {
            Some((id, needles)) => Slot {
                state: CartridgeState::Ready,
                id,
                needles,
            },
            None => Slot {
                state: CartridgeState::Absent,
                id: 0,
                needles: 0,
            },
        };
        let mut caps = profile.capabilities();
        if config.bugs.has(PlantedBug::LabelledAboveMax) {
            caps.labelled_max_depth_um = caps.depth_max_um.saturating_add(caps.depth_step_um);
        }
        Device {
            caps,
            bugs: config.bugs,
            noise,
            state: DeviceState::AwaitingHello,
            depth_set_um: depth,
            rate_set_chz: profile.rate.min_chz,
            tx_seq: SeqCounter::new(),
            rx_seq: SeqTracker::new(),
            last_answer: None,
            last_rx: Duration::ZERO,
            last_set_point: Duration::ZERO,
            active_faults: 0,
            injected: 0,
            slot,
            used: BTreeSet::new(),
            actuator,
            motor: Motor::new(&profile),
            driven: false,
            stop_due: None,
            battery: Battery::new(&profile),
            thermal: Thermal::new(&profile),
            force_n: 0.0,
            current_ma: f64::from(profile.motor.idle_current_ma),
            next_strike: 0,
            pending: Vec::new(),
            last_batch: Duration::ZERO,
            next_telemetry: Duration::ZERO,
            last_tick: Duration::ZERO,
            out: Vec::new(),
            answer_delay: Duration::ZERO,
            profile,
        }
    }

    /// The protocol state.
    pub fn state(&self) -> DeviceState {
        self.state
    }

    /// The `Status` the pen would report now.
    pub fn status(&self) -> Status {
        Status {
            state: self.state,
            depth_set_um: self.depth_set_um,
            rate_set_chz: self.rate_set_chz,
            cartridge: self.slot.state,
            active_faults: self.active_faults,
        }
    }

    /// The measured depth stop, µm.
    pub fn depth_um(&self) -> f64 {
        self.actuator.position_um
    }

    /// The measured stroke rate, Hz.
    pub fn rate_hz(&self) -> f64 {
        self.motor.rate_hz
    }

    /// Battery charge, percent.
    pub fn battery_pct(&self) -> f64 {
        self.battery.pct()
    }

    /// Strokes since the last `Hello`.
    pub fn strikes(&self) -> u32 {
        self.next_strike
    }

    fn next_seq(&mut self) -> u16 {
        if self.bugs.has(PlantedBug::SeqNotIncremented) {
            let mut probe = self.tx_seq;
            probe.next_seq()
        } else {
            self.tx_seq.next_seq()
        }
    }

    fn push(&mut self, packet: Packet) {
        self.out.push(Outgoing {
            packet,
            delay: self.answer_delay,
        });
    }

    fn send(&mut self, message: Message) -> Packet {
        let seq = self.next_seq();
        let packet = Packet { seq, message };
        self.push(packet.clone());
        packet
    }

    fn send_status(&mut self) {
        let status = self.status();
        self.send(Message::Status(status));
    }

    fn set_state(&mut self, state: DeviceState) {
        if self.state != state {
            tracing::info!(from = ?self.state, to = ?state, "state");
            self.state = state;
            self.send_status();
        }
    }

    fn answer(&mut self, seq: u16, message: Message) {
        let packet = self.send(message);
        self.last_answer = Some(LastAnswer {
            seq,
            packet,
            with_status: false,
        });
    }

    fn ack(&mut self, seq: u16, command: MessageType) {
        self.answer(
            seq,
            Message::Ack(Ack {
                ack_seq: seq,
                command: command.code(),
            }),
        );
    }

    fn nack(&mut self, seq: u16, command: u8, reason: NackReason) {
        tracing::info!(seq, command, ?reason, "nack");
        self.answer(
            seq,
            Message::Nack(Nack {
                ack_seq: seq,
                command,
                reason,
            }),
        );
    }

    fn take(&mut self) -> Vec<Outgoing> {
        self.answer_delay = Duration::ZERO;
        std::mem::take(&mut self.out)
    }

    /// Handles one decoded frame (or decoding error) from the host,
    /// received at uptime `now`.
    pub fn handle(&mut self, now: Duration, input: Result<Packet, DecodeError>) -> Vec<Outgoing> {
        self.advance(now);
        let (seq, command) = match &input {
            Ok(packet) => (packet.seq, packet.message.msg_type().code()),
            Err(DecodeError::Message { seq, error }) => {
                let code = match error {
                    MessageError::UnknownType { msg_type } => *msg_type,
                    MessageError::Malformed { msg_type, .. }
                    | MessageError::TrailingBytes { msg_type, .. } => msg_type.code(),
                };
                (*seq, code)
            }
            Err(e) => {
                // No sound frame: nothing to answer, and the watchdog is not
                // fed (R-WD-2).
                tracing::debug!(error = %e, "bad frame from host");
                if self.bugs.has(PlantedBug::WatchdogFedByNoise) {
                    self.last_rx = now;
                }
                return self.take();
            }
        };
        if command & 0x80 != 0 && !self.bugs.has(PlantedBug::PenFramesAnswered) {
            // A pen-direction code: an echo of our own frames, most likely.
            // Not answered, not acted on, no food for the watchdog
            // (R-STATE-11, R-WD-2).
            tracing::debug!(seq, command, "pen-direction frame from the host ignored");
            return self.take();
        }
        // A sound frame feeds the watchdog (R-WD-1).
        self.last_rx = now;
        if self.bugs.has(PlantedBug::LateAck) {
            self.answer_delay = LATE_ACK_DELAY;
        }
        let is_hello = matches!(
            &input,
            Ok(Packet {
                message: Message::Hello(_),
                ..
            })
        );
        // Outside a session the pen keeps no host seq (R-SEQ-8).
        let remember = self.state != DeviceState::AwaitingHello
            || self.bugs.has(PlantedBug::SeqKeptBeforeHello);
        let event = if remember {
            self.rx_seq.observe(seq)
        } else {
            SeqEvent::First
        };
        if let SeqEvent::Gap { lost } = event {
            tracing::warn!(seq, lost, "host frames lost");
        }
        // `Hello` is always carried out (R-SEQ-7).
        if event == SeqEvent::Duplicate
            && !is_hello
            && let Some(last) = self.last_answer.clone()
            && last.seq == seq
        {
            tracing::info!(seq, "duplicate command: answered again, not executed");
            self.answer_again(last);
            return self.take();
        }
        match input {
            Ok(packet) => self.command(now, packet),
            Err(DecodeError::Message {
                error: MessageError::UnknownType { .. },
                ..
            }) => self.nack(seq, command, NackReason::UnknownMessage),
            // Malformed payloads and trailing bytes alike (R-STATE-10).
            Err(_) => self.nack(seq, command, NackReason::Malformed),
        }
        if !remember {
            self.rx_seq.reset();
            self.last_answer = None;
        }
        self.take()
    }

    /// The same answer in a new frame (R-SEQ-5); after a `StatusRequest`,
    /// the `Status` of now (R-SEQ-6).
    fn answer_again(&mut self, last: LastAnswer) {
        if self.bugs.has(PlantedBug::DuplicateOldFrame) {
            self.push(last.packet.clone());
        } else {
            self.send(last.packet.message.clone());
        }
        if last.with_status {
            self.send_status();
        }
    }

    /// Handles one environment event at uptime `now`.
    pub fn env(&mut self, now: Duration, cmd: EnvCommand) -> Vec<Outgoing> {
        self.advance(now);
        tracing::info!(?cmd, "environment");
        match cmd {
            EnvCommand::SetForce { newtons } => self.force_n = newtons.max(0.0),
            EnvCommand::InsertCartridge { id, needles } => self.insert_cartridge(now, id, needles),
            EnvCommand::RemoveCartridge => self.remove_cartridge(now),
            EnvCommand::InjectFault { code } => {
                self.injected |= bit(code);
                match code {
                    FaultCode::MotorStall => self.motor.stalled = true,
                    FaultCode::DepthDriveJam => self.actuator.jammed = true,
                    _ => {}
                }
                self.check_faults(now);
            }
            EnvCommand::ClearFault { code } => {
                self.injected &= !bit(code);
                match code {
                    FaultCode::MotorStall => self.motor.stalled = false,
                    FaultCode::DepthDriveJam => self.actuator.jammed = false,
                    _ => {}
                }
                self.check_faults(now);
            }
            EnvCommand::SetBattery { pct } => {
                self.battery.set_pct(pct);
                self.check_faults(now);
            }
            EnvCommand::SetTemperature { dc } => {
                self.thermal.temperature_dc = f64::from(dc);
                self.check_faults(now);
            }
        }
        self.take()
    }

    fn cartridge_event(&mut self, event: CartridgeEventKind, cartridge_id: u32, needles: u8) {
        self.send(Message::Cartridge(CartridgeEvent {
            event,
            cartridge_id,
            needle_count: needles,
        }));
    }

    /// One event per fitting: `inserted` or `reuse_lockout` (R-CART-1,
    /// R-CART-3).
    fn insert_cartridge(&mut self, now: Duration, id: u32, needles: u8) {
        if self.slot.state != CartridgeState::Absent {
            // Taking the old one off first.
            self.remove_cartridge(now);
        }
        let reused = self.profile.cartridge.reuse_lockout
            && self.used.contains(&id)
            && !self.bugs.has(PlantedBug::LockoutMissing);
        let state = if reused {
            if self.bugs.has(PlantedBug::LockoutAfterInserted) {
                self.cartridge_event(CartridgeEventKind::Inserted, id, needles);
            }
            self.cartridge_event(CartridgeEventKind::ReuseLockout, id, needles);
            CartridgeState::Locked
        } else {
            self.cartridge_event(CartridgeEventKind::Inserted, id, needles);
            CartridgeState::Ready
        };
        self.slot = Slot { state, id, needles };
    }

    fn remove_cartridge(&mut self, now: Duration) {
        if self.slot.state == CartridgeState::Absent {
            return;
        }
        let old = self.slot;
        self.slot = Slot {
            state: CartridgeState::Absent,
            id: 0,
            needles: 0,
        };
        self.cartridge_event(CartridgeEventKind::Removed, old.id, old.needles);
        if self.state == DeviceState::Running {
            if self.bugs.has(PlantedBug::NoFaultOnCartridgeRemoval) {
                tracing::warn!("planted bug: no fault on cartridge removal");
            } else {
                self.raise(now, FaultCode::CartridgeRemovedWhileRunning, 0);
            }
        }
    }

    /// Advances time to `now`: physics, strikes, batches, telemetry, fault
    /// detection and the watchdog.
    pub fn tick(&mut self, now: Duration) -> Vec<Outgoing> {
        self.advance(now);
        self.take()
    }

    /// The watchdog's timeout as this pen applies it.
    fn watchdog_fires_at(&self) -> Duration {
        let mut timeout = Duration::from_millis(u64::from(self.caps.watchdog_timeout_ms));
        if self.bugs.has(PlantedBug::WatchdogLate) {
            timeout += Duration::from_millis(500);
        }
        self.last_rx + timeout
    }

    fn watchdog(&mut self, now: Duration) {
        if self.state == DeviceState::AwaitingHello
            || now < self.watchdog_fires_at()
            || self.bugs.has(PlantedBug::WatchdogNeverFires)
        {
            return;
        }
        tracing::warn!("watchdog expired: host silent for {:?}", now - self.last_rx);
        self.stop_motor(now);
        if !self.bugs.has(PlantedBug::SeqKeptBeforeHello) {
            self.rx_seq.reset();
            self.last_answer = None;
        }
        self.raise_bit(FaultCode::WatchdogExpired, 0);
        if self.bugs.has(PlantedBug::WatchdogFaultDropped) {
            self.active_faults &= !bit(FaultCode::WatchdogExpired);
        }
        self.set_state(DeviceState::AwaitingHello);
    }

    /// The next time something is due that the physics tick would only find
    /// late: a telemetry frame, a strike batch, the watchdog. The runner
    /// sleeps until it, on the absolute schedule. Always after the last
    /// time the device saw, so a caller never spins.
    pub fn next_deadline(&self) -> Option<Duration> {
        let watchdog = (self.state != DeviceState::AwaitingHello
            && !self.bugs.has(PlantedBug::WatchdogNeverFires))
        .then(|| self.watchdog_fires_at());
        [watchdog, self.stop_due]
            .into_iter()
            .chain(self.stream_deadlines())
            .flatten()
            .filter(|&t| t > self.last_tick)
            .min()
    }
}
