//! `Fault`: a fault raised or cleared.

use crate::wire::{wire_open_enum, wire_struct};

wire_open_enum! {
    /// A fault the pen detects.
    pub enum FaultCode {
        /// The motor does not turn although driven.
        MotorStall = 1,
        /// Motor current above the declared limit.
        OverCurrent = 2,
        /// Motor or driver too hot.
        OverTemperature = 3,
        /// The depth drive does not reach its set point.
        DepthDriveJam = 4,
        /// The cartridge came off while the motor ran.
        CartridgeRemovedWhileRunning = 5,
        /// Battery low: a warning, the motor keeps running.
        LowBattery = 6,
        /// The host fell silent past the watchdog timeout.
        WatchdogExpired = 7,
    }
}

impl FaultCode {
    /// Whether this fault stops the motor and latches. Unknown faults are
    /// treated as critical: the safe reading.
    pub fn is_critical(self) -> bool {
        !matches!(self, FaultCode::LowBattery)
    }

    /// The bit of this fault in [`Status::active_faults`](super::Status::active_faults),
    /// if it has one.
    pub fn bit(self) -> Option<u16> {
        match self.code() {
            code @ 1..=16 => Some(1 << (code - 1)),
            _ => None,
        }
    }
}

wire_struct! {
    /// A fault was raised or cleared.
    pub struct Fault {
        /// Which fault.
        pub code: FaultCode,
        /// Raised (`true`) or cleared (`false`).
        pub active: bool,
        /// Fault-specific detail (e.g. current in mA, temperature in 0.1 °C).
        pub detail: u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bits_and_severity() {
        assert_eq!(FaultCode::MotorStall.bit(), Some(1));
        assert_eq!(FaultCode::WatchdogExpired.bit(), Some(1 << 6));
        assert_eq!(FaultCode::Other(200).bit(), None);
        assert!(!FaultCode::LowBattery.is_critical());
        assert!(FaultCode::Other(99).is_critical());
        assert_eq!(FaultCode::from_code(3), FaultCode::OverTemperature);
        assert_eq!(FaultCode::from_code(42), FaultCode::Other(42));
    }
}
