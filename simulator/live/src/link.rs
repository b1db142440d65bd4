//! The pen on the line, on its own thread: the built-in mock in process or a
//! real pen on any [`Transport`], driven through the host's protocol
//! [`Session`] on a small tokio runtime.
//!
//! A view talks to it without ever blocking: [`PenLink::send`] queues a
//! [`LinkCommand`], [`PenLink::try_recv`] (or [`PenLink::drain`]) takes the
//! [`LinkEvent`]s that arrived since. Every session ends with the motor
//! stopped: [`PenLink::shutdown`] (and dropping the link) sends `Stop` before
//! the line is closed. Commands beyond the pen's declared limits are refused
//! by the session and never sent.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::{BUILTIN, Profile};
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_host::env::{EnvCommand, EnvLink};
use penlab_host::limits::PenLimits;
use penlab_host::session::{Inbound, Reply, Session, SessionError, SessionOptions};
use penlab_host::transport::{Connection, Transport};
use penlab_protocol::message::{
    CartridgeEvent, Fault, Identity, Message, MessageType, NackReason, Pose, SetDepth, SetRate,
    Status, StrikeBatch, Telemetry,
};
use penlab_protocol::seq::SeqEvent;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc as tokio_mpsc;

/// The name of the link's thread, as debuggers and `top -H` show it.
pub const THREAD_NAME: &str = "penlab-pen-link";
/// How long one wait for the pen lasts before queued commands are looked at
/// again: the worst added latency of a command.
const POLL: Duration = Duration::from_millis(10);
/// How long [`PenLink::shutdown`] waits for the thread; a dead port must not
/// hang the view.
const JOIN_WAIT: Duration = Duration::from_secs(2);
/// How long the closing `Stop` may take (its own retransmissions included),
/// kept under [`JOIN_WAIT`].
const STOP_WAIT: Duration = Duration::from_secs(1);
/// How long the in-process mock gets to see its line close and return.
const MOCK_WAIT: Duration = Duration::from_millis(300);
/// At most one [`LinkEvent::LinkTrouble`] per this period: a burst of noise
/// is one summary, not an event per bad byte.
const TROUBLE_PERIOD: Duration = Duration::from_millis(500);

/// The built-in mock pen with `profile`, run in process on the link's
/// thread, as a [`Transport`] for [`PenLink::start`].
pub fn mock_pen(profile: Profile, seed: u64) -> Transport {
    // A profile keeps no name; a shipped one is recognised by its contents,
    // any other by the model it declares.
    let name = BUILTIN
        .iter()
        .map(|(name, _)| *name)
        .find(|name| Profile::builtin(name).as_ref() == Some(&profile))
        .map_or_else(|| profile.identity.model.clone(), str::to_owned);
    let mut device = DeviceConfig::new(profile);
    device.seed = seed;
    let config = MockConfig::new(device);
    Transport::in_process(format!("built-in mock ({name})"), move || {
        let (host, env, task) = spawn_duplex(config.clone());
        Connection {
            link: Box::new(host),
            env: Some(EnvLink::in_process(env.into())),
            finished: Some(Box::pin(async move {
                let _ = task.await;
            })),
        }
    })
}

/// Something to do with the pen.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCommand {
    /// Sets the depth, µm. The pen sends no `Status` for it: send
    /// [`LinkCommand::StatusRequest`] to see the new set point.
    SetDepth {
        /// Depth, micrometres.
        depth_um: u16,
    },
    /// Sets the stroke rate, centihertz.
    SetRate {
        /// Rate, 0.01 Hz.
        rate_chz: u16,
    },
    /// Starts the motor.
    Start,
    /// Stops the motor (never refused by a conforming pen).
    Stop,
    /// Stops the motor at once; latched until [`LinkCommand::Hello`].
    EmergencyStop,
    /// Asks for a `Status` (it arrives as [`LinkEvent::Status`]).
    StatusRequest,
    /// Contact force of the pen on the skin, newtons: for the mock, whose
    /// force sensor reads what the world does. A real pen measures force
    /// itself, so there it is ignored. Sent often by a view, so it answers
    /// with no event unless refused.
    Force {
        /// Force, N (finite, 0 or more).
        newtons: f32,
    },
    /// Something the physical world does to the mock (cartridges, faults,
    /// battery, temperature). A real pen refuses it. Its effect shows in the
    /// pen's own events (a `Fault`, a `Cartridge` event), so success has no
    /// event of its own.
    Env(EnvCommand),
    /// A new handshake: clears a latched emergency stop and gives a new
    /// [`LinkEvent::Connected`].
    Hello,
}

impl fmt::Display for LinkCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkCommand::SetDepth { depth_um } => write!(f, "SetDepth({depth_um} µm)"),
            LinkCommand::SetRate { rate_chz } => write!(f, "SetRate({rate_chz} cHz)"),
            LinkCommand::Start => f.write_str("Start"),
            LinkCommand::Stop => f.write_str("Stop"),
            LinkCommand::EmergencyStop => f.write_str("EmergencyStop"),
            LinkCommand::StatusRequest => f.write_str("StatusRequest"),
            LinkCommand::Force { newtons } => write!(f, "Force({newtons} N)"),
            LinkCommand::Env(cmd) => write!(f, "Env({cmd:?})"),
            LinkCommand::Hello => f.write_str("Hello"),
        }
    }
}

/// What happened on the line.
#[derive(Debug, Clone)]
pub enum LinkEvent {
    /// The handshake is done (again, after [`LinkCommand::Hello`]).
    Connected {
        /// Who the pen is.
        identity: Identity,
        /// What it declares it can do, checked at the handshake; commands
        /// are held to these limits.
        limits: PenLimits,
        /// Its state after the handshake.
        status: Status,
        /// From `Hello` to the last answer.
        took: Duration,
    },
    /// The pen's settings and state (after a state change or a
    /// `StatusRequest`).
    Status(Status),
    /// Periodic measurements, while running.
    Telemetry {
        /// When the frame was read, on the host's clock.
        at: Instant,
        /// The measurements.
        telemetry: Telemetry,
    },
    /// Strikes, in device time (see [`crate::clock`] for host time).
    Strikes {
        /// When the frame was read, on the host's clock.
        at: Instant,
        /// The strikes.
        batch: StrikeBatch,
    },
    /// Where a pen with a tracker is.
    Pose {
        /// When the frame was read, on the host's clock.
        at: Instant,
        /// The tracker's pose.
        pose: Pose,
    },
    /// A fault raised or cleared.
    Fault {
        /// When the frame was read, on the host's clock.
        at: Instant,
        /// The fault.
        fault: Fault,
    },
    /// A cartridge was fitted, taken off or locked out.
    Cartridge(CartridgeEvent),
    /// The pen accepted a command.
    Accepted {
        /// The command, as [`LinkCommand`]'s `Display` writes it.
        command: String,
        /// From sending it to the `Ack`.
        latency: Duration,
    },
    /// A command was not carried out: the pen refused it, it was outside
    /// the pen's declared limits (not sent), or no answer came.
    Refused {
        /// The command, as [`LinkCommand`]'s `Display` writes it.
        command: String,
        /// Why, in words for a panel.
        reason: String,
    },
    /// Frames that failed to decode, were lost or duplicated, or stray
    /// refusals: a summary, at most one every half second.
    LinkTrouble {
        /// What went wrong since the last report.
        what: String,
    },
    /// The line is gone (unplugged, port closed, handshake failed, or the
    /// link shut down). The last event: the thread has ended.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// [`PenLink::send`] after the link's thread has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pen link is closed")]
pub struct LinkClosed;

/// What the view's side asks of the thread.
enum Control {
    Command(LinkCommand),
    Shutdown,
}

/// A pen on the line, served by its own thread.
///
/// `Send + Sync`, so a view can keep it as a shared resource; nothing on
/// this side blocks except [`PenLink::shutdown`] and `drop`, which wait a
/// bounded time for the closing `Stop`.
pub struct PenLink {
    commands: tokio_mpsc::UnboundedSender<Control>,
    // `mpsc::Receiver` is not `Sync`; the lock is never contended in
    // practice (one view drains it).
    events: Mutex<std_mpsc::Receiver<LinkEvent>>,
    thread: Option<JoinHandle<()>>,
    mock: bool,
    description: String,
}

impl fmt::Debug for PenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PenLink")
            .field("source", &self.description)
            .field(
                "running",
                &self.thread.as_ref().is_some_and(|t| !t.is_finished()),
            )
            .finish()
    }
}

impl PenLink {
    /// Starts the link's thread: opens the pen (a port, or the mock in
    /// process) and shakes hands. Failures arrive as
    /// [`LinkEvent::Disconnected`].
    pub fn start(transport: Transport) -> PenLink {
        let mock = transport.is_in_process();
        // A panel shows a port's line speed too: `/dev/ttyUSB0 @ 115200`.
        let description = match transport.baud() {
            Some(baud) => format!("{} @ {baud}", transport.describe()),
            None => transport.describe().to_owned(),
        };
        let (commands, command_rx) = tokio_mpsc::unbounded_channel();
        let (event_tx, events) = std_mpsc::channel();
        let spare = event_tx.clone();
        let spawned = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || run_thread(transport, command_rx, event_tx));
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(e) => {
                let _ = spare.send(LinkEvent::Disconnected {
                    reason: format!("could not start the link's thread: {e}"),
                });
                None
            }
        };
        PenLink {
            commands,
            events: Mutex::new(events),
            thread,
            mock,
            description,
        }
    }

    /// Queues a command; its outcome comes back as an event.
    pub fn send(&self, cmd: LinkCommand) -> Result<(), LinkClosed> {
        self.commands
            .send(Control::Command(cmd))
            .map_err(|_| LinkClosed)
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<LinkEvent> {
        self.lock_events().try_recv().ok()
    }

    /// Every event waiting now, oldest first. The queue is held while the
    /// iterator lives: do not call [`PenLink::try_recv`] inside the loop.
    pub fn drain(&self) -> impl Iterator<Item = LinkEvent> + '_ {
        let events = self.lock_events();
        std::iter::from_fn(move || events.try_recv().ok())
    }

    /// Whether the pen is the built-in mock.
    pub fn is_mock(&self) -> bool {
        self.mock
    }

    /// Where the pen is, for a panel: `built-in mock (skinpen-like)` or
    /// `/dev/ttyACM0`.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Whether the link's thread has ended (after
    /// [`LinkEvent::Disconnected`]).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the motor, closes the line and waits (at most two seconds)
    /// for the thread.
    pub fn shutdown(mut self) {
        self.close();
    }

    fn lock_events(&self) -> std::sync::MutexGuard<'_, std_mpsc::Receiver<LinkEvent>> {
        // A panic elsewhere while holding the lock leaves the receiver
        // intact: go on with it.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let _ = self.commands.send(Control::Shutdown);
        // `JoinHandle` has no timed join: poll, so that a pen that never
        // answers cannot freeze the caller.
        let deadline = Instant::now() + JOIN_WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!(
                "the pen link ({}) did not close within {JOIN_WAIT:?}; left to finish on its own",
                self.description
            );
        }
    }
}

impl Drop for PenLink {
    fn drop(&mut self) {
        self.close();
    }
}

type Events = std_mpsc::Sender<LinkEvent>;

fn emit(events: &Events, event: LinkEvent) {
    // The view may be gone already; then nobody is listening.
    let _ = events.send(event);
}

fn run_thread(
    transport: Transport,
    commands: tokio_mpsc::UnboundedReceiver<Control>,
    events: Events,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            emit(
                &events,
                LinkEvent::Disconnected {
                    reason: format!("could not start the link's runtime: {e}"),
                },
            );
            return;
        }
    };
    // Whatever happens on the line, the view must learn the link is gone.
    let reason = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(transport, commands, &events))
    }))
    .unwrap_or_else(|_| "the link's thread failed (a bug: see the log)".to_owned());
    emit(&events, LinkEvent::Disconnected { reason });
}

/// Runs the link to its end; returns why it ended.
async fn drive(
    transport: Transport,
    commands: tokio_mpsc::UnboundedReceiver<Control>,
    events: &Events,
) -> String {
    let connection = match transport.open().await {
        Ok(connection) => connection,
        Err(e) => return format!("could not open {e}"),
    };
    let reason = serve(connection.link, connection.env, commands, events).await;
    // An in-process mock runs on this runtime: let it see its line close and
    // return rather than be cut off mid-write.
    if let Some(finished) = connection.finished {
        let _ = tokio::time::timeout(MOCK_WAIT, finished).await;
    }
    reason
}

async fn serve<L: AsyncRead + AsyncWrite + Unpin>(
    link: L,
    env: Option<EnvLink>,
    mut commands: tokio_mpsc::UnboundedReceiver<Control>,
    events: &Events,
) -> String {
    let mut line = Line {
        session: Session::new(link, SessionOptions::default()),
        env,
        events,
        trouble: Trouble::default(),
        last_forwarded: None,
        dead: false,
    };
    let reason = match line.handshake().await {
        Ok(()) => line.run(&mut commands).await,
        Err(reason) => reason,
    };
    line.stop_motor().await;
    line.trouble.report(events);
    reason
}

/// The thread's side of the link.
struct Line<'a, L> {
    session: Session<L>,
    env: Option<EnvLink>,
    events: &'a Events,
    trouble: Trouble,
    /// The last frame passed on, to drop a duplicated copy of it.
    last_forwarded: Option<Message>,
    /// The line is known to be gone: no closing `Stop` can reach the pen.
    dead: bool,
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
            match self.session.recv(POLL).await {
                Ok(Some(inbound)) => self.forward(inbound),
                Ok(None) => {}
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

    /// Carries out one command; `Err` when the line is gone.
    async fn execute(&mut self, cmd: LinkCommand) -> Result<(), String> {
        let name = cmd.to_string();
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
        self.emit(event);
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

    /// The teardown of every session: the motor stops before the line
    /// closes, unless the line is already gone.
    async fn stop_motor(&mut self) {
        if self.dead {
            return;
        }
        match tokio::time::timeout(STOP_WAIT, self.session.stop_motor()).await {
            Ok(Ok(Reply::Ack { .. })) => tracing::debug!("motor stopped"),
            Ok(Ok(Reply::Nack { reason, .. })) => {
                tracing::warn!(?reason, "the pen refused the closing Stop");
            }
            Ok(Err(e)) => tracing::warn!("the closing Stop failed: {e}"),
            Err(_) => tracing::warn!("no answer to the closing Stop within {STOP_WAIT:?}"),
        }
    }
}

/// Link trouble since the last report.
#[derive(Debug, Default)]
struct Trouble {
    undecoded: BTreeMap<&'static str, u32>,
    lost: u32,
    duplicates: u32,
    notes: Vec<String>,
    notes_dropped: u32,
    last_report: Option<Instant>,
}

impl Trouble {
    const MAX_NOTES: usize = 4;

    fn note(&mut self, note: String) {
        if self.notes.len() < Self::MAX_NOTES {
            self.notes.push(note);
        } else {
            self.notes_dropped += 1;
        }
    }

    fn pending(&self) -> bool {
        !self.undecoded.is_empty()
            || self.lost > 0
            || self.duplicates > 0
            || !self.notes.is_empty()
            || self.notes_dropped > 0
    }

    /// The first trouble is reported at once, later trouble at most once a
    /// period.
    fn due(&self) -> bool {
        self.pending()
            && self
                .last_report
                .is_none_or(|t| t.elapsed() >= TROUBLE_PERIOD)
    }

    fn report(&mut self, events: &Events) {
        if !self.pending() {
            return;
        }
        let mut parts = Vec::new();
        if !self.undecoded.is_empty() {
            let total: u32 = self.undecoded.values().sum();
            let kinds: Vec<String> = self
                .undecoded
                .iter()
                .map(|(code, n)| format!("{code} ×{n}"))
                .collect();
            parts.push(format!(
                "{total} frame(s) failed to decode ({})",
                kinds.join(", ")
            ));
        }
        if self.lost > 0 {
            parts.push(format!("{} frame(s) lost (sequence gaps)", self.lost));
        }
        if self.duplicates > 0 {
            parts.push(format!("{} duplicated frame(s)", self.duplicates));
        }
        parts.append(&mut self.notes);
        if self.notes_dropped > 0 {
            parts.push(format!("{} more like these", self.notes_dropped));
        }
        emit(
            events,
            LinkEvent::LinkTrouble {
                what: parts.join("; "),
            },
        );
        *self = Trouble {
            last_report: Some(Instant::now()),
            ..Trouble::default()
        };
    }
}

fn nack_text(reason: NackReason) -> String {
    match reason {
        NackReason::OutOfRange => "out of range (outside its limits or off its step)".to_owned(),
        NackReason::WrongState => "not allowed in its current state".to_owned(),
        NackReason::Busy => "busy".to_owned(),
        NackReason::CartridgeLocked => "the cartridge was used before and is locked out".to_owned(),
        NackReason::UnknownMessage => "it does not know this command".to_owned(),
        NackReason::Malformed => "malformed".to_owned(),
        NackReason::NoCartridge => "no cartridge fitted".to_owned(),
        NackReason::FaultActive => "a fault is active".to_owned(),
        NackReason::UnsupportedVersion => "it does not speak this protocol version".to_owned(),
        NackReason::Other(code) => format!("reason code {code}"),
    }
}
