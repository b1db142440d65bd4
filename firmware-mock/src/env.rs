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
//!
//! Clients are served side by side. A line longer than [`MAX_LINE`] bytes
//! gets an error line back and that client's connection is closed; a
//! client that misbehaves or goes away ends only its own connection.

pub use penlab_protocol::env::EnvCommand;
use serde::Serialize;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
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

/// The longest command line, in bytes (without its newline). The longest
/// real command is under 100 bytes.
pub const MAX_LINE: usize = 4096;

/// How long a connection refused for an over-long line is drained before it
/// is closed, so that the client reads the error instead of a reset.
const LINGER: Duration = Duration::from_secs(1);

/// Serves the environment channel as JSON lines on `listener`, every client
/// on its own task, until the mock is gone.
pub async fn serve_tcp(listener: TcpListener, handle: EnvHandle) -> std::io::Result<()> {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = handle.0.closed() => return Ok(()),
        };
        match accepted {
            Ok((socket, peer)) => {
                tracing::info!(%peer, "environment client connected");
                let handle = handle.clone();
                tokio::spawn(async move {
                    match serve_client(socket, &handle).await {
                        Ok(()) => tracing::info!(%peer, "environment client gone"),
                        Err(e) => tracing::warn!(%peer, error = %e, "environment client dropped"),
                    }
                });
            }
            // Out of file descriptors and the like: this client is lost,
            // the next may not be.
            Err(e) => {
                tracing::warn!(error = %e, "accepting an environment client");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One client's commands, until it goes, sends an over-long line or the
/// mock is gone.
async fn serve_client(socket: TcpStream, handle: &EnvHandle) -> std::io::Result<()> {
    let (rd, mut wr) = socket.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = Vec::new();
    loop {
        line.clear();
        // At most one byte past the limit: enough to know it is exceeded.
        let n = (&mut rd)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if line.last() != Some(&b'\n') && line.len() > MAX_LINE {
            let error = format!("line longer than {MAX_LINE} bytes; closing the connection");
            reply(&mut wr, Err(error)).await?;
            wr.shutdown().await?;
            // Read what is still coming for a moment, so that closing
            // does not reset the connection before the client has the
            // error line.
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(LINGER, async {
                while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            return Ok(());
        }
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text.trim(),
            Err(e) => {
                reply(&mut wr, Err(format!("not UTF-8: {e}"))).await?;
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<EnvCommand>(text) {
            Ok(cmd) => {
                tracing::info!(?cmd, "environment");
                if let Err(e) = handle.send(cmd) {
                    reply(&mut wr, Err(e.to_string())).await?;
                    return Ok(());
                }
                reply(&mut wr, Ok(())).await?;
            }
            Err(e) => reply(&mut wr, Err(e.to_string())).await?,
        }
    }
}

async fn reply(wr: &mut OwnedWriteHalf, result: Result<(), String>) -> std::io::Result<()> {
    let reply = Reply {
        ok: result.is_ok(),
        error: result.err(),
    };
    let mut text = serde_json::to_string(&reply).map_err(std::io::Error::other)?;
    text.push('\n');
    wr.write_all(text.as_bytes()).await
}
