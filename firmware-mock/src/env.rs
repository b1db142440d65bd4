//! The environment channel: what the physical world does to the pen (skin
//! contact, cartridges fitted and taken off, faults), kept apart from the
//! device protocol.
//!
//! In process it is a tokio channel ([`channel`]); over the wire it is JSON
//! lines on a TCP socket ([`serve_tcp`]), one command a line, each answered
//! with `{"ok":true}` or `{"ok":false,"error":"…"}`:
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

use penlab_protocol::message::FaultCode;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

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

/// The sending end of the environment channel.
#[derive(Debug, Clone)]
pub struct EnvHandle(mpsc::UnboundedSender<EnvCommand>);

/// The receiving end, owned by the mock's runner.
pub type EnvReceiver = mpsc::UnboundedReceiver<EnvCommand>;

/// The mock has stopped listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the mock pen is gone")]
pub struct MockGone;

impl EnvHandle {
    /// Sends a command to the mock.
    pub fn send(&self, cmd: EnvCommand) -> Result<(), MockGone> {
        self.0.send(cmd).map_err(|_| MockGone)
    }
}

/// A new environment channel.
pub fn channel() -> (EnvHandle, EnvReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    (EnvHandle(tx), rx)
}

#[derive(Serialize)]
struct Reply {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Serves the environment channel as JSON lines on `listener`, one client
/// after another, until the mock is gone.
pub async fn serve_tcp(listener: TcpListener, handle: EnvHandle) -> std::io::Result<()> {
    loop {
        let (socket, peer) = listener.accept().await?;
        tracing::info!(%peer, "environment client connected");
        let (rd, mut wr) = socket.into_split();
        let mut lines = BufReader::new(rd).lines();
        while let Some(line) = lines.next_line().await? {
            if line.trim().is_empty() {
                continue;
            }
            let reply = match serde_json::from_str::<EnvCommand>(&line) {
                Ok(cmd) => {
                    tracing::info!(?cmd, "environment");
                    match handle.send(cmd) {
                        Ok(()) => Reply {
                            ok: true,
                            error: None,
                        },
                        Err(e) => return Err(std::io::Error::other(e)),
                    }
                }
                Err(e) => Reply {
                    ok: false,
                    error: Some(e.to_string()),
                },
            };
            let mut text = serde_json::to_string(&reply).map_err(std::io::Error::other)?;
            text.push('\n');
            wr.write_all(text.as_bytes()).await?;
        }
        tracing::info!(%peer, "environment client gone");
    }
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
