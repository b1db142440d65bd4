//! The link thread's side of the line: the handshake, commands, what the
//! pen sends, the watch on the view's main loop, and the closing `Stop`
//! that ends every session (after an error or a panic too).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use penlab_host::env::{EnvCommand, EnvLink};
use penlab_host::session::{Inbound, Reply, Session, SessionError, SessionOptions};
use penlab_protocol::message::{Message, MessageType, NackReason, SetDepth, SetRate};
use penlab_protocol::seq::SeqEvent;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc as tokio_mpsc;

use super::trouble::{Trouble, nack_text};
use super::{
    Control, Events, LinkCommand, LinkEvent, LinkFault, LinkOptions, Liveness, POLL, STOP_WAIT,
    StopOutcome, emit,
};

/// How a session on one line ended.
pub(super) struct Ended {
    /// Why, in words for a panel.
    pub(super) reason: String,
    /// How the closing `Stop` went.
    pub(super) stop: StopOutcome,
    /// The line itself went (unplugged, closed): the pen may come back.
    pub(super) line_gone: bool,
}

/// Runs a session on `link` to its end, the closing `Stop` included.
pub(super) async fn serve<L: AsyncRead + AsyncWrite + Unpin>(
    link: L,
    env: Option<EnvLink>,
    commands: &mut tokio_mpsc::UnboundedReceiver<Control>,
    events: &Events,
    watch: Arc<Liveness>,
    options: LinkOptions,
) -> Ended {
    let mut line = Line {
        session: Session::new(link, SessionOptions::default()),
        env,
        events,
        trouble: Trouble::default(),
        last_forwarded: None,
        dead: false,
        parked: false,
        watch,
        options,
    };
    // A panic anywhere in the session is caught here, so that the closing
    // `Stop` below still goes out on the same line.
    let served = AssertUnwindSafe(async {
        match line.handshake().await {
            Ok(()) => line.run(commands).await,
            Err(reason) => reason,
        }
    })
    .catch_unwind()
    .await;
    let panicked = served.is_err();
    let reason = served.unwrap_or_else(|panic| {
        format!(
            "the link's thread failed (a bug: see the log): {}",
            panic_text(panic.as_ref())
        )
    });
    let stop = line.stop_motor().await;
    line.trouble.report(events);
    let reason = if panicked {
        format!("{reason}; closing Stop: {stop}")
    } else {
        reason
    };
    Ended {
        reason,
        stop,
        line_gone: line.dead,
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// The thread's side of the link.
struct Line<'a, L> {
    session: Session<L>,
    env: Option<EnvLink>,
    events: &'a Events,
    trouble: Trouble,
    /// The last frame passed on, to drop a duplicated copy of it.
    last_forwarded: Option<penlab_protocol::message::Message>,
    /// The line is known to be gone: no closing `Stop` can reach the pen.
    dead: bool,
    /// The view stopped polling: the motor was stopped and nothing is sent
    /// (no heartbeats) until it polls again.
    parked: bool,
    watch: Arc<Liveness>,
    options: LinkOptions,
}

impl<L: AsyncRead + AsyncWrite + Unpin> Line<'_, L> {
    fn emit(&self, event: LinkEvent) {
        emit(self.events, event);
    }

    /// Why the line ended, if `error` says it did.
    fn gone(&mut self, error: &SessionError) -> Option<String> {
        match error {
            SessionError::Disconnected => {
                self.dead = true;
                Some("the pen disconnected (unplugged, or the port closed)".to_owned())
            }
            SessionError::Io(e) => {
                self.dead = true;
                Some(format!("the line failed: {e}"))
            }
            _ => None,
        }
    }

    async fn handshake(&mut self) -> Result<(), String> {
        match self.session.open().await {
            Ok(h) => {
                let event = LinkEvent::Connected {
                    identity: h.identity.clone(),
                    limits: h.limits.clone(),
                    status: h.status.clone(),
                    took: h.took,
                };
                self.last_forwarded = None;
                self.emit(event);
                Ok(())
            }
            Err(e) => Err(self
                .gone(&e)
                .unwrap_or_else(|| format!("the handshake failed: {e}"))),
        }
    }

    /// Serves commands and forwards what the pen sends until the view shuts
    /// the link or the line goes.
    async fn run(&mut self, commands: &mut tokio_mpsc::UnboundedReceiver<Control>) -> String {
        loop {
            // Before the commands: a command queued means the view is
            // polling again, and the pen needs a fresh handshake first.
            if let Err(reason) = self.watch_main_loop().await {
                return reason;
            }
            loop {
                match commands.try_recv() {
                    Ok(Control::Command(cmd)) => {
                        if let Err(reason) = self.execute(cmd).await {
                            return reason;
                        }
                    }
                    Ok(Control::Shutdown) | Err(tokio_mpsc::error::TryRecvError::Disconnected) => {
                        return "the link was shut down".to_owned();
                    }
                    Err(tokio_mpsc::error::TryRecvError::Empty) => break,
                }
            }
            // Not raced against the command queue: `Session::recv` may be
            // writing a heartbeat, and dropping it there would cut a frame.
            // Whatever arrived while a command waited for its answer is kept
            // by the session and comes out here, in order.
            let received = if self.parked {
                // No heartbeats: the pen's watchdog is the backstop while
                // nobody watches.
                self.session.silent(POLL).await
            } else {
                self.session
                    .recv(POLL)
                    .await
                    .map(|one| one.into_iter().collect())
            };
            match received {
                Ok(inbound) => inbound.into_iter().for_each(|i| self.forward(i)),
                Err(e) => {
                    return self
                        .gone(&e)
                        .unwrap_or_else(|| format!("reading the pen failed: {e}"));
                }
            }
            if self.trouble.due() {
                self.trouble.report(self.events);
            }
        }
    }

    /// The view's main loop must poll the link: when it has not for longer
    /// than [`LinkOptions::unpolled_limit`] (a frozen window, a long file
    /// read on its thread), the motor is stopped and the heartbeats end;
    /// when it polls again, the pen gets a fresh `Hello`. `Err` when the
    /// line is gone.
    async fn watch_main_loop(&mut self) -> Result<(), String> {
        let unpolled = self.watch.unpolled_for();
        let frozen = unpolled > self.options.unpolled_limit;
        if frozen && !self.parked {
            let stop = self.stop_motor().await;
            self.parked = true;
            tracing::warn!(
                "the view has not polled the pen for {} ms: motor stopped ({stop}), heartbeats paused",
                unpolled.as_millis()
            );
            self.emit(LinkEvent::MotorStoppedUnpolled {
                unpolled,
                stop,
                at: Instant::now(),
            });
            if self.dead {
                return Err("the pen disconnected while the view was not polling".to_owned());
            }
        } else if !frozen && self.parked {
            self.parked = false;
            self.handshake().await?;
        }
        Ok(())
    }

    /// Carries out one command; `Err` when the line is gone.
    async fn execute(&mut self, cmd: LinkCommand) -> Result<(), String> {
        let name = cmd.to_string();
        let is_start = cmd == LinkCommand::Start;
        let message = match cmd {
            LinkCommand::Force { newtons } => {
                let Some(env) = &mut self.env else {
                    return Ok(());
                };
                let refused = if !newtons.is_finite() || newtons < 0.0 {
                    Some("a force must be finite and 0 or more".to_owned())
                } else {
                    env.send(EnvCommand::SetForce {
                        newtons: f64::from(newtons),
                    })
                    .await
                    .err()
                    .map(|e| e.to_string())
                };
                if let Some(reason) = refused {
                    self.emit(LinkEvent::Refused {
                        command: name,
                        reason,
                    });
                }
                return Ok(());
            }
            LinkCommand::Env(env_cmd) => {
                let refused = match &mut self.env {
                    Some(env) => env.send(env_cmd).await.err().map(|e| e.to_string()),
                    None => Some("environment commands need the mock".to_owned()),
                };
                if let Some(reason) = refused {
                    self.emit(LinkEvent::Refused {
                        command: name,
                        reason,
                    });
                }
                return Ok(());
            }
            LinkCommand::Hello => return self.handshake().await,
            LinkCommand::SetDepth { depth_um } => Message::SetDepth(SetDepth { depth_um }),
            LinkCommand::SetRate { rate_chz } => Message::SetRate(SetRate { rate_chz }),
            LinkCommand::Start => Message::Start,
            LinkCommand::Stop => Message::Stop,
            LinkCommand::EmergencyStop => Message::EmergencyStop,
            LinkCommand::StatusRequest => Message::StatusRequest,
        };
        let event = match self.session.command(message).await {
            Ok(Reply::Ack { latency, .. }) => LinkEvent::Accepted {
                command: name,
                latency,
            },
            Ok(Reply::Nack { reason, .. }) => LinkEvent::Refused {
                command: name,
                reason: format!("the pen refused it: {}", nack_text(reason)),
            },
            Err(SessionError::OutOfLimits { limits, .. }) => LinkEvent::Refused {
                command: name,
                reason: format!("outside the pen's declared limits ({limits}); not sent"),
            },
            Err(e) => match self.gone(&e) {
                Some(reason) => return Err(reason),
                None => LinkEvent::Refused {
                    command: name,
                    reason: e.to_string(),
                },
            },
        };
        let accepted = matches!(event, LinkEvent::Accepted { .. });
        self.emit(event);
        if is_start && accepted && self.options.fault == Some(LinkFault::PanicAfterStart) {
            panic!("injected fault: the link's thread panics with the motor running");
        }
        Ok(())
    }

    /// Passes on one thing the pen sent.
    fn forward(&mut self, inbound: Inbound) {
        let behind = self.session.elapsed().saturating_sub(inbound.at);
        let now = Instant::now();
        let at = now.checked_sub(behind).unwrap_or(now);
        let duplicate = match inbound.seq {
            Some(SeqEvent::Gap { lost }) => {
                self.trouble.lost += u32::from(lost);
                false
            }
            Some(SeqEvent::Duplicate) => {
                self.trouble.duplicates += 1;
                true
            }
            _ => false,
        };
        let packet = match inbound.result {
            Ok(packet) => packet,
            Err(e) => {
                *self.trouble.undecoded.entry(e.code()).or_default() += 1;
                return;
            }
        };
        // A frame repeated on the line (same number, same content) would
        // count its strikes twice.
        if duplicate && self.last_forwarded.as_ref() == Some(&packet.message) {
            return;
        }
        self.last_forwarded = Some(packet.message.clone());
        let event = match packet.message {
            Message::Status(status) => LinkEvent::Status(status),
            Message::Telemetry(telemetry) => LinkEvent::Telemetry { at, telemetry },
            Message::StrikeBatch(batch) => LinkEvent::Strikes { at, batch },
            Message::Pose(pose) => LinkEvent::Pose { at, pose },
            Message::Fault(fault) => LinkEvent::Fault { at, fault },
            Message::Cartridge(event) => LinkEvent::Cartridge(event),
            Message::Nack(nack) => {
                // Refusals of commands are answered where they are sent; one
                // here refused a heartbeat (the pen lost the session) or came
                // after its command gave up.
                let command = MessageType::from_code(nack.command)
                    .map_or_else(|| format!("type {:#04x}", nack.command), |t| t.to_string());
                self.trouble.note(format!(
                    "the pen refused {command} (seq {}): {}{}",
                    nack.ack_seq,
                    nack_text(nack.reason),
                    if nack.reason == NackReason::WrongState {
                        "; it may have lost the session (send Hello)"
                    } else {
                        ""
                    }
                ));
                return;
            }
            Message::Ack(_) | Message::Identity(_) | Message::Capabilities(_) => {
                // A late answer to a command already answered or given up
                // on: nothing new for the view.
                tracing::debug!(?packet.seq, "stray answer from the pen");
                return;
            }
            other => {
                self.trouble.note(format!(
                    "the pen sent a host's message: {}",
                    other.msg_type()
                ));
                return;
            }
        };
        self.emit(event);
        if self.trouble.due() {
            self.trouble.report(self.events);
        }
    }

    /// `Stop`, waiting a bounded time for its answer: the teardown of every
    /// session, and what a frozen view gets. Nothing is sent when the line
    /// is known to be gone.
    async fn stop_motor(&mut self) -> StopOutcome {
        if self.dead {
            return StopOutcome::LineGone;
        }
        let outcome = match tokio::time::timeout(STOP_WAIT, self.session.stop_motor()).await {
            Ok(Ok(Reply::Ack { latency, .. })) => StopOutcome::Acknowledged { latency },
            Ok(Ok(Reply::Nack { reason, .. })) => StopOutcome::Refused {
                reason: nack_text(reason),
            },
            Ok(Err(e)) => {
                let reason = e.to_string();
                if self.gone(&e).is_some() {
                    StopOutcome::LineGone
                } else {
                    StopOutcome::Unconfirmed { reason }
                }
            }
            Err(_) => StopOutcome::Unconfirmed {
                reason: format!("no answer within {STOP_WAIT:?}"),
            },
        };
        match &outcome {
            StopOutcome::Acknowledged { .. } => tracing::debug!("motor stopped"),
            other => tracing::warn!("the Stop was not acknowledged: {other}"),
        }
        outcome
    }
}
