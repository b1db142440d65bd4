//! The pen's firmware as a pure, synchronous state machine: commands and
//! environment events in, frames out, time passed in explicitly. No I/O and
//! no clock inside, which is what makes the mock deterministic.
//!
//! It implements `PROTOCOL.md` §6 (handshake), §7 (state machine), §8
//! (watchdog, strike batching, telemetry) and §10 (faults, cartridges).
//! Choices the spec leaves open are documented on [`Device`].

use std::collections::BTreeSet;
use std::time::Duration;

use penlab_protocol::codec::DecodeError;
use penlab_protocol::message::{
    Ack, CartridgeEvent, CartridgeEventKind, CartridgeState, DeviceState, Fault, FaultCode,
    MAX_STRIKES, Message, MessageError, MessageType, Nack, NackReason, Packet, Status, Strike,
    StrikeBatch, Telemetry,
};
use penlab_protocol::seq::{SeqCounter, SeqEvent, SeqTracker};
use penlab_protocol::{PROTOCOL_MAJOR, PROTOCOL_MINOR};

use crate::bugs::{BugSet, PlantedBug};
use crate::env::EnvCommand;
use crate::physics::{Actuator, Battery, Motor, Noise, Thermal};
use crate::profile::Profile;

/// Longest time between two `StrikeBatch` frames while running (§8).
pub const STRIKE_BATCH_INTERVAL: Duration = Duration::from_millis(100);
/// How late the `late-ack` bug answers.
pub const LATE_ACK_DELAY: Duration = Duration::from_millis(80);
/// Cartridge fitted at power-up unless configured otherwise.
pub const DEFAULT_CARTRIDGE_ID: u32 = 0x1000_0001;
/// Hysteresis of the low-battery warning, percent above `low_pct`.
const LOW_BATTERY_HYSTERESIS_PCT: f64 = 2.0;

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

/// The pen.
///
/// Choices where `PROTOCOL.md` leaves room:
/// - The depth drive accepts a new set point while moving (it re-targets),
///   so the mock never answers `Nack(busy)`.
/// - A duplicate command (same `seq` as the previous one, `Hello` excepted)
///   is answered with the same frames as before (under new pen `seq`s) and
///   not executed: its `Ack`/`Nack`, plus the `Status` for a `StatusRequest`
///   (as it was then). Unprompted frames (a `Status` after a state change)
///   are not repeated. A repeated `Hello` restarts the session again.
/// - The host's sequence history is forgotten when the watchdog ends a
///   session, so a new host's `Hello` is never taken for a duplicate.
/// - Events (faults, cartridges, state changes) are reported in every
///   state, also before the first `Hello`.
/// - `cartridge_removed_while_running` is an event: its cause is gone at
///   once, so the next `Stop` or `Hello` clears it. `watchdog_expired` is
///   cleared by the next `Hello`. `low_battery` is a warning that the pen
///   raises and clears by itself (2 % hysteresis); it never latches.
/// - An injected fault (environment channel) is raised at once, whatever
///   the state; critical ones move `idle` and `running` to `faulted`.
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
    /// The last command's `seq` and the frames that answered it.
    last_answer: Option<(u16, Vec<Message>)>,
    last_rx: Duration,
    active_faults: u16,
    injected: u16,
    slot: Slot,
    used: BTreeSet<u32>,
    actuator: Actuator,
    motor: Motor,
    battery: Battery,
    thermal: Thermal,
    force_n: f64,
    current_ma: f64,
    next_strike: u32,
    pending: Vec<(u64, u16)>,
    last_batch: Duration,
    last_telemetry: Duration,
    last_tick: Duration,
    out: Vec<Outgoing>,
    answer_delay: Duration,
}

fn bit(code: FaultCode) -> u16 {
    code.bit().unwrap_or(0)
}

fn time_us(t: Duration) -> u32 {
    // Uptime wraps every 71.6 minutes (§5.2).
    t.as_micros() as u32
}

impl Device {
    /// A pen at power-up: `awaiting_hello`, motor stopped.
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
        Device {
            caps: profile.capabilities(),
            bugs: config.bugs,
            noise,
            state: DeviceState::AwaitingHello,
            depth_set_um: depth,
            rate_set_chz: profile.rate.min_chz,
            tx_seq: SeqCounter::new(),
            rx_seq: SeqTracker::new(),
            last_answer: None,
            last_rx: Duration::ZERO,
            active_faults: 0,
            injected: 0,
            slot,
            used: BTreeSet::new(),
            actuator,
            motor: Motor::new(&profile),
            battery: Battery::new(&profile),
            thermal: Thermal::new(&profile),
            force_n: 0.0,
            current_ma: f64::from(profile.motor.idle_current_ma),
            next_strike: 0,
            pending: Vec::new(),
            last_batch: Duration::ZERO,
            last_telemetry: Duration::ZERO,
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

    fn send(&mut self, message: Message) {
        let seq = self.next_seq();
        self.out.push(Outgoing {
            packet: Packet { seq, message },
            delay: self.answer_delay,
        });
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
        self.last_answer = Some((seq, vec![message.clone()]));
        self.send(message);
    }

    /// Sends a frame that belongs to the answer of the current command
    /// (the handshake after a `Hello`, the `Status` after a
    /// `StatusRequest`), so that a duplicate gets it again.
    fn answer_more(&mut self, message: Message) {
        if let Some((_, frames)) = &mut self.last_answer {
            frames.push(message.clone());
        }
        self.send(message);
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
                // No sound frame: nothing to answer, the watchdog is not fed.
                tracing::debug!(error = %e, "bad frame from host");
                return self.take();
            }
        };
        // A sound frame feeds the watchdog (§8).
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
        let event = if is_hello && self.state == DeviceState::AwaitingHello {
            self.rx_seq.reset();
            self.rx_seq.observe(seq)
        } else {
            self.rx_seq.observe(seq)
        };
        if let SeqEvent::Gap { lost } = event {
            tracing::warn!(seq, lost, "host frames lost");
        }
        // `Hello` is always carried out (PROTOCOL.md §3): a retransmitted one
        // restarts the session to the same effect.
        if event == SeqEvent::Duplicate
            && !is_hello
            && let Some((last_seq, answer)) = self.last_answer.clone()
            && last_seq == seq
        {
            tracing::info!(seq, "duplicate command: answered again, not executed");
            for message in answer {
                self.send(message);
            }
            return self.take();
        }
        match input {
            Ok(packet) => self.command(now, packet),
            Err(DecodeError::Message {
                error: MessageError::UnknownType { .. },
                ..
            }) => self.nack(seq, command, NackReason::UnknownMessage),
            Err(_) => self.nack(seq, command, NackReason::Malformed),
        }
        self.take()
    }

    fn command(&mut self, now: Duration, packet: Packet) {
        use DeviceState as S;
        let seq = packet.seq;
        let ty = packet.message.msg_type();
        tracing::debug!(seq, command = %ty, state = ?self.state, "command");
        match packet.message {
            Message::Hello(hello) => {
                if hello.major != PROTOCOL_MAJOR {
                    return self.nack(seq, ty.code(), NackReason::UnsupportedVersion);
                }
                self.stop_motor(now, false);
                self.tx_seq.reset();
                self.next_strike = 0;
                self.pending.clear();
                self.ack(seq, ty);
                self.answer_more(Message::Identity(self.profile.identity()));
                self.answer_more(Message::Capabilities(self.caps.clone()));
                let cleared = self.clear_gone_faults();
                self.state = if self.critical_active() {
                    S::Faulted
                } else {
                    S::Idle
                };
                tracing::info!(state = ?self.state, host_minor = hello.minor, minor = PROTOCOL_MINOR, "session open");
                self.answer_more(Message::Status(self.status()));
                self.report_cleared(cleared);
            }
            Message::SetDepth(set) => match self.state {
                S::AwaitingHello | S::EmergencyStopped => {
                    self.nack(seq, ty.code(), NackReason::WrongState)
                }
                _ => {
                    let beyond_ok = self.bugs.has(PlantedBug::DepthBeyondMaxAccepted)
                        && set.depth_um > self.caps.depth_max_um
                        && (set.depth_um - self.caps.depth_min_um)
                            .is_multiple_of(self.caps.depth_step_um.max(1));
                    if !self.caps.accepts_depth(set.depth_um) && !beyond_ok {
                        return self.nack(seq, ty.code(), NackReason::OutOfRange);
                    }
                    self.depth_set_um = set.depth_um;
                    let mut target = f64::from(set.depth_um);
                    if self.bugs.has(PlantedBug::DepthOffByOneStep) {
                        target += f64::from(self.caps.depth_step_um);
                    }
                    self.actuator.set_target(target, &mut self.noise);
                    tracing::info!(depth_um = set.depth_um, "depth set");
                    self.ack(seq, ty);
                }
            },
            Message::SetRate(set) => match self.state {
                S::AwaitingHello | S::EmergencyStopped => {
                    self.nack(seq, ty.code(), NackReason::WrongState)
                }
                _ => {
                    if !self.caps.accepts_rate(set.rate_chz) {
                        return self.nack(seq, ty.code(), NackReason::OutOfRange);
                    }
                    self.rate_set_chz = set.rate_chz;
                    if self.state == S::Running {
                        self.motor.target_hz = f64::from(set.rate_chz) / 100.0;
                    }
                    tracing::info!(rate_chz = set.rate_chz, "rate set");
                    self.ack(seq, ty);
                }
            },
            Message::Start => match self.state {
                S::Idle => {
                    let reason = match self.slot.state {
                        CartridgeState::Absent => Some(NackReason::NoCartridge),
                        CartridgeState::Locked => Some(NackReason::CartridgeLocked),
                        CartridgeState::Ready if self.critical_active() => {
                            Some(NackReason::FaultActive)
                        }
                        CartridgeState::Ready => None,
                    };
                    if let Some(reason) = reason {
                        return self.nack(seq, ty.code(), reason);
                    }
                    self.used.insert(self.slot.id);
                    self.motor.target_hz = f64::from(self.rate_set_chz) / 100.0;
                    self.last_batch = now;
                    self.last_telemetry = now;
                    self.ack(seq, ty);
                    self.set_state(S::Running);
                }
                S::Faulted => self.nack(seq, ty.code(), NackReason::FaultActive),
                _ => self.nack(seq, ty.code(), NackReason::WrongState),
            },
            Message::Stop => {
                let was_running = self.state == S::Running;
                self.stop_motor(now, true);
                let cleared = self.clear_gone_faults();
                if was_running && self.bugs.has(PlantedBug::StopNotAckedWhileRunning) {
                    tracing::warn!("planted bug: Stop not acknowledged");
                } else {
                    self.ack(seq, ty);
                }
                self.report_cleared(cleared);
                if was_running || (self.state == S::Faulted && !self.critical_active()) {
                    self.set_state(S::Idle);
                }
            }
            Message::EmergencyStop => {
                self.stop_motor(now, true);
                self.ack(seq, ty);
                tracing::warn!("emergency stop");
                self.set_state(S::EmergencyStopped);
            }
            Message::StatusRequest => {
                self.ack(seq, ty);
                self.answer_more(Message::Status(self.status()));
            }
            Message::Heartbeat => match self.state {
                S::AwaitingHello => self.nack(seq, ty.code(), NackReason::WrongState),
                _ => self.ack(seq, ty),
            },
            // Pen-to-host types are not commands this pen knows.
            _ => self.nack(seq, ty.code(), NackReason::UnknownMessage),
        }
    }

    /// Handles one environment event at uptime `now`.
    pub fn env(&mut self, now: Duration, cmd: EnvCommand) -> Vec<Outgoing> {
        self.advance(now);
        tracing::info!(?cmd, "environment");
        match cmd {
            EnvCommand::SetForce { newtons } => self.force_n = newtons.max(0.0),
            EnvCommand::InsertCartridge { id, needles } => {
                if self.slot.state != CartridgeState::Absent {
                    // Taking the old one off first.
                    self.remove_cartridge(now);
                }
                let reused = self.profile.cartridge.reuse_lockout
                    && self.used.contains(&id)
                    && !self.bugs.has(PlantedBug::LockoutMissing);
                let (state, event) = if reused {
                    (CartridgeState::Locked, CartridgeEventKind::ReuseLockout)
                } else {
                    (CartridgeState::Ready, CartridgeEventKind::Inserted)
                };
                self.slot = Slot { state, id, needles };
                self.send(Message::Cartridge(CartridgeEvent {
                    event,
                    cartridge_id: id,
                    needle_count: needles,
                }));
            }
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
        self.send(Message::Cartridge(CartridgeEvent {
            event: CartridgeEventKind::Removed,
            cartridge_id: old.id,
            needle_count: old.needles,
        }));
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

    fn advance(&mut self, now: Duration) {
        if now <= self.last_tick {
            return;
        }
        let t0 = self.last_tick;
        let dt = (now - t0).as_secs_f64();
        self.last_tick = now;
        self.actuator.step(dt);
        let running = self.state == DeviceState::Running;
        let strokes = self.motor.step(dt);
        if running {
            let noise_um = self.profile.actuator.strike_noise_um;
            for frac in strokes {
                let t = t0.as_micros() as u64 + (frac * dt * 1e6).round() as u64;
                let depth = (self.actuator.position_um + self.noise.normal(noise_um))
                    .round()
                    .clamp(0.0, f64::from(u16::MAX)) as u16;
                self.pending.push((t, depth));
                if self.pending.len() == MAX_STRIKES {
                    self.flush_strikes(now);
                }
            }
        }
        let m = &self.profile.motor;
        self.current_ma = if !running {
            f64::from(m.idle_current_ma)
        } else if self.motor.stalled {
            f64::from(m.stall_current_ma)
        } else {
            f64::from(m.idle_current_ma)
                + f64::from(m.base_current_ma)
                + m.current_per_hz_ma * self.motor.rate_hz
                + m.current_per_newton_ma * self.force_n
        };
        self.battery.drain(self.current_ma, dt);
        self.thermal.step(self.current_ma, dt);
        self.check_faults(now);
        if self.state == DeviceState::Running {
            if now >= self.last_batch + STRIKE_BATCH_INTERVAL {
                self.flush_strikes(now);
            }
            let period = Duration::from_millis(u64::from(self.caps.telemetry_period_ms));
            if now >= self.last_telemetry + period {
                self.last_telemetry = now;
                self.send_telemetry(now);
            }
        }
        let timeout = Duration::from_millis(u64::from(self.caps.watchdog_timeout_ms));
        if self.state != DeviceState::AwaitingHello
            && now > self.last_rx + timeout
            && !self.bugs.has(PlantedBug::WatchdogNeverFires)
        {
            tracing::warn!("watchdog expired: host silent for {:?}", now - self.last_rx);
            self.stop_motor(now, true);
            self.rx_seq.reset();
            self.last_answer = None;
            self.raise_bit(FaultCode::WatchdogExpired, 0);
            self.set_state(DeviceState::AwaitingHello);
        }
    }

    fn send_telemetry(&mut self, now: Duration) {
        let t = Telemetry {
            time_us: time_us(now),
            depth_um: self.actuator.position_um.round().clamp(0.0, 65_535.0) as u16,
            rate_chz: (self.motor.rate_hz * 100.0).round().clamp(0.0, 65_535.0) as u16,
            current_ma: self.current_ma.round().clamp(0.0, 65_535.0) as u16,
            force_mn: if self.profile.sensors.force {
                (self.force_n * 1_000.0).round().clamp(0.0, 65_535.0) as u16
            } else {
                0
            },
            battery_pct: self.battery.pct().round() as u8,
            battery_mv: self.battery.mv().round() as u16,
            temperature_dc: self.thermal.temperature_dc.round() as i16,
        };
        self.send(Message::Telemetry(t));
    }

    fn flush_strikes(&mut self, now: Duration) {
        self.last_batch = now;
        let first_strike = self.next_strike;
        let base = self
            .pending
            .first()
            .map_or(now.as_micros() as u64, |&(t, _)| t);
        let mut strikes = heapless::Vec::new();
        for (t, depth_um) in self.pending.drain(..) {
            let offset_10us = ((t - base) / 10).min(u64::from(u16::MAX)) as u16;
            // At most MAX_STRIKES are pending.
            let _ = strikes.push(Strike {
                offset_10us,
                depth_um,
            });
        }
        self.next_strike = self.next_strike.wrapping_add(strikes.len() as u32);
        self.send(Message::StrikeBatch(StrikeBatch {
            first_strike,
            time_us: base as u32,
            strikes,
        }));
    }

    /// Cuts the motor; flushes the strokes made so far when `report`.
    fn stop_motor(&mut self, now: Duration, report: bool) {
        if self.state == DeviceState::Running && report {
            self.flush_strikes(now);
        }
        self.motor.halt();
    }

    fn critical_active(&self) -> bool {
        FaultCode::ALL
            .iter()
            .any(|c| c.is_critical() && self.active_faults & bit(*c) != 0)
    }

    fn cause_present(&self, code: FaultCode) -> bool {
        if self.injected & bit(code) != 0 {
            return true;
        }
        match code {
            FaultCode::OverTemperature => {
                self.thermal.temperature_dc > f64::from(self.profile.thermal.limit_dc)
            }
            FaultCode::OverCurrent => {
                self.state == DeviceState::Running
                    && self.current_ma > f64::from(self.profile.motor.max_current_ma)
            }
            FaultCode::LowBattery => self.battery.pct() <= f64::from(self.profile.battery.low_pct),
            _ => false,
        }
    }

    fn detail(&self, code: FaultCode) -> u16 {
        match code {
            FaultCode::OverCurrent | FaultCode::MotorStall => {
                self.current_ma.round().clamp(0.0, 65_535.0) as u16
            }
            FaultCode::OverTemperature => self.thermal.temperature_dc.round().max(0.0) as u16,
            FaultCode::DepthDriveJam => self.actuator.position_um.round().max(0.0) as u16,
            FaultCode::LowBattery => self.battery.pct().round() as u16,
            _ => 0,
        }
    }

    fn check_faults(&mut self, now: Duration) {
        for &code in FaultCode::ALL {
            let active = self.active_faults & bit(code) != 0;
            if !active && self.cause_present(code) {
                let detail = self.detail(code);
                self.raise(now, code, detail);
            }
        }
        // The low-battery warning clears itself once the charge is back.
        let low = bit(FaultCode::LowBattery);
        if self.active_faults & low != 0
            && self.injected & low == 0
            && self.battery.pct()
                > f64::from(self.profile.battery.low_pct) + LOW_BATTERY_HYSTERESIS_PCT
        {
            self.active_faults &= !low;
            let detail = self.detail(FaultCode::LowBattery);
            self.send(Message::Fault(Fault {
                code: FaultCode::LowBattery,
                active: false,
                detail,
            }));
        }
    }

    fn raise_bit(&mut self, code: FaultCode, detail: u16) {
        tracing::warn!(?code, detail, "fault raised");
        self.active_faults |= bit(code);
        self.send(Message::Fault(Fault {
            code,
            active: true,
            detail,
        }));
    }

    fn raise(&mut self, now: Duration, code: FaultCode, detail: u16) {
        if code.is_critical() && matches!(self.state, DeviceState::Idle | DeviceState::Running) {
            self.stop_motor(now, true);
            self.raise_bit(code, detail);
            self.set_state(DeviceState::Faulted);
        } else {
            self.raise_bit(code, detail);
        }
    }

    /// Clears latched faults whose cause is gone; returns them.
    fn clear_gone_faults(&mut self) -> Vec<FaultCode> {
        let mut cleared = Vec::new();
        for &code in FaultCode::ALL {
            if code.is_critical()
                && self.active_faults & bit(code) != 0
                && !self.cause_present(code)
            {
                self.active_faults &= !bit(code);
                cleared.push(code);
            }
        }
        cleared
    }

    fn report_cleared(&mut self, cleared: Vec<FaultCode>) {
        for code in cleared {
            tracing::info!(?code, "fault cleared");
            let detail = self.detail(code);
            self.send(Message::Fault(Fault {
                code,
                active: false,
                detail,
            }));
        }
    }
}
