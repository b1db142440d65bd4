//! The end of every session: `Stop`, then its `Ack` or the pen's watchdog
//! timeout before the link may close (PROTOCOL.md §14), and the last-resort
//! `Stop` of a host that must leave at once.

use std::time::Duration;

use penlab_protocol::message::Message;
use penlab_protocol::timing;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::{Reply, Session, SessionError, encode};

impl<L: AsyncRead + AsyncWrite + Unpin> Session<L> {
    /// Sends `Stop` (never refused by a conforming pen) and waits for its
    /// answer, as any command. The end of a session is
    /// [`Session::stop_motor_safely`].
    pub async fn stop_motor(&mut self) -> Result<Reply, SessionError> {
        self.command_unchecked(Message::Stop).await
    }

    /// The teardown of every session (PROTOCOL.md §14: send `Stop` and wait
    /// for its `Ack`, or the watchdog timeout, before closing the link).
    ///
    /// Sends `Stop` as [`Session::stop_motor`] does. If a write stalls, it
    /// tries again while the pen's watchdog may still be running (that is,
    /// until the declared watchdog timeout has passed since the last frame
    /// that reached the link), so that a line that starts moving again
    /// carries the `Stop` at once. If the pen reads but does not answer, the
    /// host sends nothing more until its watchdog timeout has passed, so
    /// that the watchdog stops the motor before the link closes. Bounded
    /// either way by the watchdog timeout (at most 65.5 s, from the pen's
    /// `Capabilities`) plus one write deadline.
    pub async fn stop_motor_safely(&mut self) -> Result<Reply, UnconfirmedStop> {
        self.quiet = false;
        let watchdog = self.watchdog_timeout();
        let mut error = match self.stop_motor().await {
            Ok(reply) => return Ok(reply),
            Err(e) => e,
        };
        loop {
            let watchdog_end = self.last_sent + watchdog;
            let left = watchdog_end.saturating_duration_since(Instant::now());
            match error {
                SessionError::Stalled { .. } if !left.is_zero() => {
                    let full = self.options.write_deadline;
                    self.options.write_deadline = full.min(left);
                    let retry = self.stop_motor().await;
                    self.options.write_deadline = full;
                    match retry {
                        Ok(reply) => return Ok(reply),
                        Err(e) => error = e,
                    }
                }
                SessionError::Stalled { .. } => {
                    return Err(UnconfirmedStop {
                        error,
                        watchdog,
                        watchdog_ran_out: true,
                    });
                }
                SessionError::NoReply { .. } if self.pen_answered && !self.closed => {
                    // Anything sent now would feed the watchdog: stay quiet.
                    let wait = self.silent(left).await;
                    let watchdog_ran_out = wait.is_ok() && Instant::now() >= watchdog_end;
                    return Err(UnconfirmedStop {
                        error,
                        watchdog,
                        watchdog_ran_out,
                    });
                }
                _ => {
                    return Err(UnconfirmedStop {
                        error,
                        watchdog,
                        watchdog_ran_out: false,
                    });
                }
            }
        }
    }

    /// Writes `Stop` once, waiting at most `within` for the write and not at
    /// all for the answer: the last thing a host does when it must leave at
    /// once (a second Ctrl-C), so that a pen that can still read stops.
    pub async fn send_stop_now(&mut self, within: Duration) -> Result<(), SessionError> {
        let seq = self.seq.next_seq();
        self.write_within("Stop", &encode(seq, Message::Stop), within)
            .await
    }

    /// The pen's declared watchdog timeout (this session's handshake, or an
    /// earlier one's), or the protocol's default when neither told.
    pub fn watchdog_timeout(&self) -> Duration {
        self.handshake
            .as_ref()
            .map(|h| &h.limits)
            .or(self.known_limits.as_ref())
            .map_or(timing::DEFAULT_WATCHDOG_TIMEOUT, |l| {
                Duration::from_millis(u64::from(l.watchdog_timeout_ms))
            })
    }
}

/// A teardown whose `Stop` the pen did not acknowledge
/// ([`Session::stop_motor_safely`]).
#[derive(Debug)]
pub struct UnconfirmedStop {
    /// What went wrong with the last `Stop`.
    pub error: SessionError,
    /// The pen's watchdog timeout the host went by.
    pub watchdog: Duration,
    /// Whether the pen has been sent nothing for a whole watchdog timeout
    /// since, so that a pen whose watchdog works has stopped its motor.
    pub watchdog_ran_out: bool,
}

impl std::fmt::Display for UnconfirmedStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        match (&self.error, self.watchdog_ran_out) {
            (SessionError::NoReply { .. }, true) => write!(
                f,
                "; the host then sent nothing for the pen's watchdog timeout ({} ms) before closing the link (PROTOCOL.md §14)",
                self.watchdog.as_millis()
            ),
            (_, true) => write!(
                f,
                "; Stop was not acknowledged, and nothing has reached the pen for its whole watchdog timeout ({} ms), so its watchdog should have stopped the motor",
                self.watchdog.as_millis()
            ),
            (_, false) => Ok(()),
        }
    }
}

impl std::error::Error for UnconfirmedStop {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
