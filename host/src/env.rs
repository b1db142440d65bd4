//! The environment channel from the host's side: what the physical world
//! does to a pen on a bench (force, cartridges, faults), for a pen that can
//! be told (a mock, in process or over its JSON-lines socket). A real pen
//! has none; tests that need it are skipped or turned into operator prompts.

use std::time::Duration;

pub use penlab_protocol::env::EnvCommand;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;

/// How long a remote environment channel may take to answer a command.
pub const REPLY_DEADLINE: Duration = Duration::from_secs(2);

/// Why an environment command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The pen behind the channel has gone away.
    #[error("the pen's environment channel is closed")]
    Gone,
    /// The far end refused the command.
    #[error("the environment channel refused {command}: {reason}")]
    Refused {
        /// The command, as JSON.
        command: String,
        /// What the far end said.
        reason: String,
    },
    /// No answer in time.
    #[error("no answer from the environment channel within {REPLY_DEADLINE:?}")]
    Timeout,
    /// The socket failed.
    #[error("environment channel: {0}")]
    Io(#[from] std::io::Error),
}

/// A host's end of a pen's environment channel.
#[derive(Debug)]
pub struct EnvLink {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    InProcess(UnboundedSender<EnvCommand>),
    Socket(BufReader<TcpStream>),
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

impl EnvLink {
    /// The channel of a pen in this process.
    pub fn in_process(sender: UnboundedSender<EnvCommand>) -> Self {
        EnvLink {
            inner: Inner::InProcess(sender),
        }
    }

    /// The JSON-lines channel a mock serves on `addr` (`penlab mock --env`).
    pub async fn connect(addr: &str) -> Result<Self, EnvError> {
        let stream = tokio::time::timeout(REPLY_DEADLINE, TcpStream::connect(addr))
            .await
            .map_err(|_| EnvError::Timeout)??;
        stream.set_nodelay(true)?;
        Ok(EnvLink {
            inner: Inner::Socket(BufReader::new(stream)),
        })
    }

    /// Sends one command; for a socket, waits for its answer.
    pub async fn send(&mut self, command: EnvCommand) -> Result<(), EnvError> {
        match &mut self.inner {
            Inner::InProcess(sender) => sender.send(command).map_err(|_| EnvError::Gone),
            Inner::Socket(stream) => {
                let mut line = serde_json::to_string(&command).map_err(std::io::Error::other)?;
                line.push('\n');
                let exchange = async {
                    stream.get_mut().write_all(line.as_bytes()).await?;
                    let mut answer = String::new();
                    if stream.read_line(&mut answer).await? == 0 {
                        return Err(EnvError::Gone);
                    }
                    Ok(answer)
                };
                let answer = tokio::time::timeout(REPLY_DEADLINE, exchange)
                    .await
                    .map_err(|_| EnvError::Timeout)??;
                let answer: Answer =
                    serde_json::from_str(answer.trim()).map_err(std::io::Error::other)?;
                if answer.ok {
                    Ok(())
                } else {
                    Err(EnvError::Refused {
                        command: line.trim().to_owned(),
                        reason: answer.error.unwrap_or_default(),
                    })
                }
            }
        }
    }
}
