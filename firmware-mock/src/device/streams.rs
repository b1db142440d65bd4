//! Time passing: the physics, strokes, and the frames a running pen sends
//! on its own (`PROTOCOL.md` §8.5): strike batches and telemetry on
//! absolute deadlines, and the last batch when the motor stops.

use std::time::Duration;

use penlab_protocol::message::{DeviceState, MAX_STRIKES, Message, Strike, StrikeBatch, Telemetry};

use super::Device;
use crate::bugs::PlantedBug;

/// Time between two `StrikeBatch` frames while striking: 80 ms, leaving
/// 20 ms of the 100 ms limit for the scheduler's lateness (R-RUN-1,
/// R-RUN-2).
pub const STRIKE_BATCH_INTERVAL: Duration = Duration::from_millis(80);
/// The batch interval of the `slow-batches` bug.
pub const SLOW_BATCH_INTERVAL: Duration = Duration::from_millis(150);
/// What the `telemetry-drift` bug adds to each telemetry interval: one tick.
const DRIFT: Duration = Duration::from_millis(10);

impl Device {
    /// The pen's clock: uptime in µs from the profile's starting value,
    /// wrapping modulo 2³² (R-TIME-3).
    pub(super) fn time_us(&self, micros_since_power_up: u64) -> u32 {
        self.profile
            .timing
            .clock_start_us
            .wrapping_add(micros_since_power_up as u32)
    }

    fn telemetry_period(&self) -> Duration {
        Duration::from_millis(u64::from(self.caps.telemetry_period_ms))
    }

    fn batch_interval(&self) -> Duration {
        if self.bugs.has(PlantedBug::SlowBatches) {
            SLOW_BATCH_INTERVAL
        } else {
            STRIKE_BATCH_INTERVAL
        }
    }

    /// Whether `Telemetry` is due in this state (with the
    /// `telemetry-outside-running` bug, in every session state).
    fn telemetry_on(&self) -> bool {
        self.driven
            || (self.bugs.has(PlantedBug::TelemetryOutsideRunning)
                && self.state != DeviceState::AwaitingHello)
    }

    /// Drives the motor at the rate set point and starts the run's
    /// schedules: the first batch and telemetry are due one interval after
    /// `now`, the `Ack` of `Start`.
    pub(super) fn drive(&mut self, now: Duration) {
        self.motor.target_hz = f64::from(self.rate_set_chz) / 100.0;
        self.driven = true;
        self.last_batch = now;
        self.next_telemetry = now + self.telemetry_period();
    }

    /// Cuts the motor, sending the strokes made so far first (R-RUN-6).
    pub(super) fn stop_motor(&mut self, now: Duration) {
        if self.driven {
            self.flush_strikes(now);
        }
        self.motor.halt();
        self.driven = false;
        self.stop_due = None;
    }

    /// The deadlines of the periodic frames, for [`Device::next_deadline`].
    pub(super) fn stream_deadlines(&self) -> [Option<Duration>; 2] {
        let batch = self.driven && !self.pending.is_empty();
        [
            batch.then(|| self.last_batch + self.batch_interval()),
            self.telemetry_on().then_some(self.next_telemetry),
        ]
    }

    pub(super) fn advance(&mut self, now: Duration) {
        if now <= self.last_tick {
            return;
        }
        let t0 = self.last_tick;
        let dt = (now - t0).as_secs_f64();
        self.last_tick = now;
        self.actuator.step(dt);
        let strokes = self.motor.step(dt);
        if self.driven {
            let noise_um = self.profile.actuator.strike_noise_um;
            for frac in strokes {
                let t = t0.as_micros() as u64 + (frac * dt * 1e6).round() as u64;
                let depth = (self.actuator.position_um + self.noise.normal(noise_um))
                    .round()
                    .clamp(0.0, f64::from(u16::MAX)) as u16;
                self.pending.push((t, depth));
                if self.pending.len() == MAX_STRIKES {
                    self.flush_strikes(now); // R-RUN-3
                }
            }
        }
        let m = &self.profile.motor;
        self.current_ma = if !self.driven {
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
        if self.stop_due.is_some_and(|due| now >= due) {
            self.stop_motor(now);
        }
        self.check_faults(now);
        if self.driven && now >= self.last_batch + self.batch_interval() {
            // Only strokes make a batch (R-MSG-8); with none held, the next
            // stroke goes out at the tick that makes it (R-RUN-1).
            if !self.pending.is_empty() || self.bugs.has(PlantedBug::EmptyBatches) {
                self.flush_strikes(now);
            }
        }
        if self.telemetry_on() && now >= self.next_telemetry {
            // Sampled at its deadline, as a pen's timer interrupt takes it;
            // a late wake-up delays the frame, not the sample's time
            // (R-RUN-4 is judged by time_us).
            let sampled_at = if self.bugs.has(PlantedBug::TelemetryDrift) {
                now
            } else {
                self.next_telemetry
            };
            self.send_telemetry(sampled_at);
            let period = self.telemetry_period();
            if self.bugs.has(PlantedBug::TelemetryDrift) {
                self.next_telemetry = now + period + DRIFT;
            } else {
                // The absolute schedule: k periods after the start of the
                // run, whatever this wake-up's lateness (R-RUN-4). A wake
                // more than a period late skips the missed frame rather
                // than sending two at once.
                let behind = (now - self.next_telemetry).as_micros() / period.as_micros().max(1);
                self.next_telemetry += period * (behind as u32 + 1);
            }
        }
        self.watchdog(now);
    }

    fn send_telemetry(&mut self, now: Duration) {
        let t = Telemetry {
            time_us: self.time_us(now.as_micros() as u64),
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

    /// Sends the strokes held, if any (with `empty-batches`, also none).
    fn flush_strikes(&mut self, now: Duration) {
        if self.pending.is_empty() && !self.bugs.has(PlantedBug::EmptyBatches) {
            return;
        }
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
        let time_us = self.time_us(base);
        self.send(Message::StrikeBatch(StrikeBatch {
            first_strike,
            time_us,
            strikes,
        }));
    }
}
