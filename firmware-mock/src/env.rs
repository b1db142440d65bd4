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

pub use penlab_protocol::env::EnvCommand;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

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

impl From<EnvHandle> for mpsc::UnboundedSender<EnvCommand> {
    fn from(handle: EnvHandle) -> Self {
        handle.0
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
