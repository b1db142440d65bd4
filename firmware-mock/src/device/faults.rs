//! Faults (`PROTOCOL.md` §10.1): what causes each, raising, latching and
//! clearing.

use std::time::Duration;

use penlab_protocol::message::{DeviceState, Fault, FaultCode, Message};

use super::{Device, bit};
use crate::bugs::PlantedBug;

/// Hysteresis of the low-battery warning, percent above `low_pct`.
const LOW_BATTERY_HYSTERESIS_PCT: f64 = 2.0;

impl Device {
    /// Whether a latched critical fault is active.
    pub(super) fn critical_active(&self) -> bool {
        FaultCode::ALL
            .iter()
            .any(|c| c.is_critical() && self.active_faults & bit(*c) != 0)
    }

    /// Whether the cause of `code` is present now. Events
    /// (`cartridge_removed_while_running`, `watchdog_expired`) have no
    /// lasting cause unless injected (R-FAULT-5).
    fn cause_present(&self, code: FaultCode) -> bool {
        if self.injected & bit(code) != 0 {
            return true;
        }
        match code {
            FaultCode::OverTemperature => {
                self.thermal.temperature_dc > f64::from(self.profile.thermal.limit_dc)
            }
            FaultCode::OverCurrent => {
                self.driven && self.current_ma > f64::from(self.profile.motor.max_current_ma)
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

    /// Raises every fault whose cause appeared; clears the low-battery
    /// warning once the charge is back (R-FAULT-6).
    pub(super) fn check_faults(&mut self, now: Duration) {
        for &code in FaultCode::ALL {
            let active = self.active_faults & bit(code) != 0;
            if !active && self.cause_present(code) {
                let detail = self.detail(code);
                self.raise(now, code, detail);
            }
        }
        let low = bit(FaultCode::LowBattery);
        if self.active_faults & low != 0
            && self.injected & low == 0
            && self.battery.pct()
                > f64::from(self.profile.battery.low_pct) + LOW_BATTERY_HYSTERESIS_PCT
            && !self.bugs.has(PlantedBug::LowBatteryLatches)
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

    pub(super) fn raise_bit(&mut self, code: FaultCode, detail: u16) {
        tracing::warn!(?code, detail, "fault raised");
        self.active_faults |= bit(code);
        self.send(Message::Fault(Fault {
            code,
            active: true,
            detail,
        }));
    }

    /// Raises `code`; a critical one in `idle` or `running` stops the motor
    /// first (its last strikes before the `Fault`, R-RUN-6) and moves to
    /// `faulted` (R-STATE-15).
    pub(super) fn raise(&mut self, now: Duration, code: FaultCode, detail: u16) {
        if code.is_critical() && matches!(self.state, DeviceState::Idle | DeviceState::Running) {
            self.stop_motor(now);
            self.raise_bit(code, detail);
            self.set_state(DeviceState::Faulted);
        } else {
            if code.is_critical() {
                // Whatever the state, a critical fault cuts the drive.
                self.stop_motor(now);
            }
            self.raise_bit(code, detail);
        }
    }

    /// Clears latched faults whose cause is gone (R-FAULT-4); returns them.
    /// Warnings are not latched and clear themselves, unless planted
    /// `low-battery-latches` makes them latch.
    pub(super) fn clear_gone_faults(&mut self) -> Vec<FaultCode> {
        let latches = |code: FaultCode, bugs: &crate::bugs::BugSet| {
            code.is_critical()
                || (code == FaultCode::LowBattery && bugs.has(PlantedBug::LowBatteryLatches))
        };
        let mut cleared = Vec::new();
        for &code in FaultCode::ALL {
            if latches(code, &self.bugs)
                && self.active_faults & bit(code) != 0
                && !self.cause_present(code)
            {
                self.active_faults &= !bit(code);
                cleared.push(code);
            }
        }
        cleared
    }

    /// One `Fault { active: false }` for each fault cleared (R-FAULT-1).
    pub(super) fn report_cleared(&mut self, cleared: Vec<FaultCode>) {
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
