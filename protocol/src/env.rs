//! The environment channel's commands: what the physical world does to a
//! pen on a test bench (skin contact, cartridges fitted and taken off,
//! faults), kept apart from the device protocol.
//!
//! A mock pen takes them in process or as JSON lines (one command a line);
//! a host sends them to whatever pen can act on them. The JSON form:
//!
//! ```text
//! {"cmd":"set_force","newtons":2.5}
//! {"cmd":"insert_cartridge","id":4097,"needles":14}
//! {"cmd":"remove_cartridge"}
//! {"cmd":"inject_fault","code":"motor_stall"}
//! {"cmd":"clear_fault","code":"motor_stall"}
//! {"cmd":"set_battery","pct":12.0}
//! {"cmd":"set_temperature","dc":700}
//! ```

use serde::{Deserialize, Serialize};

use crate::message::FaultCode;

/// Something the physical world does to the pen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum EnvCommand {
    /// Contact force of the pen on the skin, newtons.
    SetForce {
        /// Force, N (0 or more).
        newtons: f64,
    },
    /// A cartridge is fitted.
    InsertCartridge {
        /// The cartridge's identity.
        id: u32,
        /// Its needles.
        needles: u8,
    },
    /// The cartridge is taken off.
    RemoveCartridge,
    /// Makes the cause of a fault present (e.g. the motor seizes).
    InjectFault {
        /// Which fault (`motor_stall`, `over_current`, `over_temperature`,
        /// `depth_drive_jam`, `cartridge_removed_while_running`,
        /// `low_battery`, `watchdog_expired`).
        code: FaultCode,
    },
    /// Removes the cause of a fault. A latched fault stays active until a
    /// `Stop` or `Hello` clears it.
    ClearFault {
        /// Which fault.
        code: FaultCode,
    },
    /// Sets the battery charge, percent.
    SetBattery {
        /// Charge, 0 to 100.
        pct: f64,
    },
    /// Sets the motor temperature, 0.1 °C (it then follows the thermal
    /// model again).
    SetTemperature {
        /// Temperature, 0.1 °C.
        dc: i16,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_round_trip() {
        let cases = [
            (
                r#"{"cmd":"set_force","newtons":2.5}"#,
                EnvCommand::SetForce { newtons: 2.5 },
            ),
            (
                r#"{"cmd":"insert_cartridge","id":7,"needles":14}"#,
                EnvCommand::InsertCartridge { id: 7, needles: 14 },
            ),
            (r#"{"cmd":"remove_cartridge"}"#, EnvCommand::RemoveCartridge),
            (
                r#"{"cmd":"inject_fault","code":"motor_stall"}"#,
                EnvCommand::InjectFault {
                    code: FaultCode::MotorStall,
                },
            ),
            (
                r#"{"cmd":"clear_fault","code":"depth_drive_jam"}"#,
                EnvCommand::ClearFault {
                    code: FaultCode::DepthDriveJam,
                },
            ),
            (
                r#"{"cmd":"set_battery","pct":12.0}"#,
                EnvCommand::SetBattery { pct: 12.0 },
            ),
            (
                r#"{"cmd":"set_temperature","dc":700}"#,
                EnvCommand::SetTemperature { dc: 700 },
            ),
        ];
        for (text, cmd) in cases {
            assert_eq!(serde_json::from_str::<EnvCommand>(text).unwrap(), cmd);
            assert_eq!(serde_json::to_string(&cmd).unwrap(), text);
        }
        assert!(serde_json::from_str::<EnvCommand>(r#"{"cmd":"explode"}"#).is_err());
    }
}
