//! Why a session operation failed.

use std::time::Duration;

use crate::limits::LimitsError;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The link closed: the pen was unplugged or the peer went away.
    #[error("the pen disconnected")]
    Disconnected,
    /// No `Ack` or `Nack` after every retransmission.
    #[error("no answer to {command} (seq {seq}) after {attempts} attempt(s) of {deadline:?} each")]
    NoReply {
        /// The command's name (or type code, when unknown).
        command: String,
        /// Its sequence number.
        seq: u16,
        /// Times it was sent.
        attempts: u8,
        /// Deadline per attempt.
        deadline: Duration,
    },
    /// The command is outside the pen's declared limits (§14).
    #[error(
        "refused to send {what}: outside the pen's declared limits ({limits}); allow out-of-limit commands to test the pen's own refusal"
    )]
    OutOfLimits {
        /// The command and value.
        what: String,
        /// The declared limits.
        limits: String,
    },
    /// A command that needs the pen's limits before the handshake.
    #[error("no handshake yet: the pen's limits are unknown")]
    NotOpen,
    /// The handshake went wrong.
    #[error("handshake: {0}")]
    Handshake(String),
    /// The pen declared limits that make no sense; nothing is sent to it.
    #[error("handshake: {0}")]
    Limits(#[from] LimitsError),
    /// A write did not complete within the write deadline: the pen is not
    /// reading, or the line is held.
    #[error(
        "the link stalled: writing {what} did not complete within {after:?} (the pen is not reading, or its line is held)"
    )]
    Stalled {
        /// What was being written (`Heartbeat`, `Stop`).
        what: String,
        /// The write deadline.
        after: Duration,
    },
    /// Reading or writing the link failed.
    #[error("link: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the capture failed.
    #[error("capture: {0}")]
    Capture(std::io::Error),
}
