//! Commands (`PROTOCOL.md` §5.1, §6, §7): what each does in each state,
//! with the checks in the order of R-CMD-4 and the handshake of §6.

use std::time::Duration;

use penlab_protocol::message::{
    CartridgeState, DeviceState, Hello, Message, MessageType, NackReason, Packet,
};
use penlab_protocol::timing::BUSY_LIMIT;
use penlab_protocol::{PROTOCOL_MAJOR, PROTOCOL_MINOR};

use super::{BUSY_TOO_LONG, Device, STOP_LAG};
use crate::bugs::PlantedBug;

impl Device {
    /// Whether the drive cannot take a new depth set point now (§8.3).
    fn depth_busy(&self, now: Duration) -> bool {
        if self.bugs.has(PlantedBug::BusyTooLong) {
            return now < self.last_set_point + BUSY_TOO_LONG;
        }
        self.profile.actuator.busy_while_moving
            && self.actuator.moving()
            && now < self.last_set_point + BUSY_LIMIT
    }

    /// A set point on the declared grid, or with `rounds-off-step` the
    /// nearest one when the value is in range but off its step.
    fn on_grid(&self, value: u16, min: u16, max: u16, step: u16, accepts: bool) -> Option<u16> {
        if accepts {
            return Some(value);
        }
        if !self.bugs.has(PlantedBug::RoundsOffStep) || step == 0 || !(min..=max).contains(&value) {
            return None;
        }
        let steps = (f64::from(value - min) / f64::from(step)).round() as u16;
        Some((min + steps * step).min(max))
    }

    /// Carries out a command that parsed (duplicates are handled before).
    pub(super) fn command(&mut self, now: Duration, packet: Packet) {
        use DeviceState as S;
        let seq = packet.seq;
        let ty = packet.message.msg_type();
        tracing::debug!(seq, command = %ty, state = ?self.state, "command");
        if self.bugs.has(PlantedBug::BusyRefusesStop)
            && self.actuator.moving()
            && !matches!(ty, MessageType::StatusRequest | MessageType::Hello)
        {
            return self.nack(seq, ty.code(), NackReason::Busy);
        }
        match packet.message {
            Message::Hello(hello) => self.hello(now, seq, hello),
            Message::SetDepth(set) => match self.state {
                S::AwaitingHello | S::EmergencyStopped => {
                    self.nack(seq, ty.code(), NackReason::WrongState)
                }
                _ => {
                    let c = &self.caps;
                    let beyond_ok = self.bugs.has(PlantedBug::DepthBeyondMaxAccepted)
                        && set.depth_um > c.depth_max_um
                        && (set.depth_um - c.depth_min_um).is_multiple_of(c.depth_step_um.max(1));
                    let accepts = c.accepts_depth(set.depth_um) || beyond_ok;
                    let (min, max, step) = (c.depth_min_um, c.depth_max_um, c.depth_step_um);
                    let Some(depth_um) = self.on_grid(set.depth_um, min, max, step, accepts) else {
                        return self.nack(seq, ty.code(), NackReason::OutOfRange);
                    };
                    if self.depth_busy(now) {
                        return self.nack(seq, ty.code(), NackReason::Busy);
                    }
                    self.set_depth(now, depth_um);
                    tracing::info!(depth_um, "depth set");
                    self.ack(seq, ty);
                }
            },
            Message::SetRate(set) => match self.state {
                S::AwaitingHello | S::EmergencyStopped => {
                    self.nack(seq, ty.code(), NackReason::WrongState)
                }
                _ => {
                    let c = &self.caps;
                    let accepts = c.accepts_rate(set.rate_chz);
                    let (min, max, step) = (c.rate_min_chz, c.rate_max_chz, c.rate_step_chz);
                    let Some(rate_chz) = self.on_grid(set.rate_chz, min, max, step, accepts) else {
                        return self.nack(seq, ty.code(), NackReason::OutOfRange);
                    };
                    self.set_rate(now, rate_chz);
                    tracing::info!(rate_chz, "rate set");
                    self.ack(seq, ty);
                }
            },
            Message::Start => self.start(now, seq),
            Message::Stop => self.stop(now, seq),
            Message::EmergencyStop => {
                self.stop_and_ack(now, seq, ty);
                tracing::warn!("emergency stop");
                self.set_state(S::EmergencyStopped);
            }
            Message::StatusRequest => {
                self.ack(seq, ty);
                if let Some(last) = &mut self.last_answer {
                    last.with_status = true;
                }
                self.send_status();
            }
            Message::Heartbeat => match self.state {
                S::AwaitingHello => self.nack(seq, ty.code(), NackReason::WrongState),
                _ => self.ack(seq, ty),
            },
            // Pen-to-host types reach here only with `pen-frames-answered`.
            _ => self.nack(seq, ty.code(), NackReason::UnknownMessage),
        }
    }

    fn set_depth(&mut self, now: Duration, depth_um: u16) {
        self.depth_set_um = depth_um;
        self.last_set_point = now;
        let mut target = f64::from(depth_um);
        if self.bugs.has(PlantedBug::DepthOffByOneStep) {
            target += f64::from(self.caps.depth_step_um);
        }
        self.actuator.set_target(target, &mut self.noise);
    }

    fn set_rate(&mut self, now: Duration, rate_chz: u16) {
        self.rate_set_chz = rate_chz;
        self.last_set_point = now;
        if self.driven {
            self.motor.target_hz = f64::from(rate_chz) / 100.0;
        }
    }

    /// `Hello` of the pen's major version (§6): the motor stopped, numbering
    /// and set points reset, gone faults cleared, the four handshake frames
    /// and then the clearing reports.
    fn hello(&mut self, now: Duration, seq: u16, hello: Hello) {
        let ty = MessageType::Hello;
        if hello.major != PROTOCOL_MAJOR {
            return self.nack(seq, ty.code(), NackReason::UnsupportedVersion);
        }
        let from = self.state;
        if self.bugs.has(PlantedBug::HelloKeepsMotor) && self.driven {
            tracing::warn!("planted bug: Hello leaves the motor running");
        } else {
            // The old session's last strokes go before the Ack (R-HELLO-2).
            self.stop_motor(now);
        }
        self.tx_seq.reset();
        self.next_strike = 0;
        if !self.bugs.has(PlantedBug::HelloKeepsSetPoints) {
            // Back to the power-up set points (R-HELLO-4); the drive moves
            // only if it has somewhere to go.
            if self.depth_set_um != self.caps.depth_min_um {
                self.set_depth(now, self.caps.depth_min_um);
            }
            if self.rate_set_chz != self.caps.rate_min_chz {
                self.set_rate(now, self.caps.rate_min_chz);
            }
            self.last_set_point = now;
        }
        self.ack(seq, ty);
        self.send(Message::Identity(self.profile.identity()));
        self.send(Message::Capabilities(self.caps.clone()));
        let cleared = self.clear_gone_faults();
        let ignore_fault = self.bugs.has(PlantedBug::HelloIgnoresPersistingFault)
            && from == DeviceState::AwaitingHello;
        self.state = if self.critical_active() && !ignore_fault {
            DeviceState::Faulted
        } else {
            DeviceState::Idle
        };
        tracing::info!(state = ?self.state, host_minor = hello.minor, minor = PROTOCOL_MINOR, "session open");
        if self.bugs.has(PlantedBug::ClearedFaultInHandshake) {
            self.report_cleared(cleared);
            self.send_status();
        } else {
            self.send_status();
            self.report_cleared(cleared);
        }
    }

    fn start(&mut self, now: Duration, seq: u16) {
        let ty = MessageType::Start;
        let reason = match self.state {
            DeviceState::Idle => match self.slot.state {
                CartridgeState::Absent => Some(NackReason::NoCartridge),
                CartridgeState::Locked => Some(NackReason::CartridgeLocked),
                CartridgeState::Ready if self.critical_active() => Some(NackReason::FaultActive),
                CartridgeState::Ready => None,
            },
            DeviceState::Faulted
                if self.bugs.has(PlantedBug::FaultedStartNoCartridge)
                    && self.slot.state == CartridgeState::Absent =>
            {
                Some(NackReason::NoCartridge)
            }
            DeviceState::Faulted => Some(NackReason::FaultActive),
            _ => Some(NackReason::WrongState),
        };
        if let Some(reason) = reason {
            return self.nack(seq, ty.code(), reason);
        }
        self.used.insert(self.slot.id);
        if self.bugs.has(PlantedBug::StrikeCountRestarts) {
            self.next_strike = 0;
        }
        self.drive(now);
        if self.bugs.has(PlantedBug::StatusBeforeAck) {
            self.set_state(DeviceState::Running);
            self.ack(seq, ty);
        } else {
            self.ack(seq, ty);
            self.set_state(DeviceState::Running);
        }
    }

    fn stop(&mut self, now: Duration, seq: u16) {
        let ty = MessageType::Stop;
        let was_running = self.state == DeviceState::Running;
        if was_running && self.bugs.has(PlantedBug::StopNotAckedWhileRunning) {
            tracing::warn!("planted bug: Stop not acknowledged");
            self.stop_motor(now);
        } else if was_running && self.bugs.has(PlantedBug::MotorStopsAfterAck) {
            tracing::warn!("planted bug: the motor stops after the Ack");
            self.ack(seq, ty);
            self.stop_due = Some(now + STOP_LAG);
        } else if was_running && self.bugs.has(PlantedBug::StatusBeforeAck) {
            self.stop_motor(now);
            self.set_state(DeviceState::Idle);
            self.ack(seq, ty);
        } else {
            self.stop_and_ack(now, seq, ty);
        }
        let cleared = self.clear_gone_faults();
        self.report_cleared(cleared);
        if was_running || (self.state == DeviceState::Faulted && !self.critical_active()) {
            self.set_state(DeviceState::Idle);
        }
    }

    /// Stops the motor and acknowledges: the last strike batch goes first
    /// (R-RUN-6), unless `strikes-after-stop-ack` is planted.
    fn stop_and_ack(&mut self, now: Duration, seq: u16, ty: MessageType) {
        if self.driven && self.bugs.has(PlantedBug::StrikesAfterStopAck) {
            self.ack(seq, ty);
            self.stop_motor(now);
        } else {
            self.stop_motor(now);
            self.ack(seq, ty);
        }
    }
}
