//! The pen on the line, on its own thread: the built-in mock in process or a
//! real pen on any [`Transport`], driven through the host's protocol
//! [`Session`] on a small tokio runtime.
//!
//! A view talks to it without ever blocking: [`PenLink::send`] queues a
//! [`LinkCommand`], [`PenLink::try_recv`] (or [`PenLink::drain`]) takes the
//! [`LinkEvent`]s that arrived since. Every session ends with the motor
//! stopped: [`PenLink::shutdown`] (and dropping the link) sends `Stop` before
//! the line is closed, and so does a session that ends with an error or a
//! panic on the link's thread. Commands beyond the pen's declared limits
//! are refused by the session and never sent.
//!
//! The view's main loop must keep polling: every [`PenLink::send`],
//! [`PenLink::try_recv`] and [`PenLink::drain`] shows the link it is alive.
//! When it has not for [`LinkOptions::unpolled_limit`] (a second by
//! default: a frozen window, a long file read on its thread), the link's
//! thread sends `Stop`, waits a bounded time for its `Ack` and sends nothing
//! more, heartbeats included, so that the pen's own watchdog is the
//! backstop; [`LinkEvent::MotorStoppedUnpolled`] tells the view. When the
//! view polls again, the pen gets a fresh `Hello`.

mod line;
mod trouble;

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::{BUILTIN, Profile};
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_host::env::{EnvCommand, EnvLink};
use penlab_host::limits::PenLimits;
use penlab_host::transport::{Connection, Transport};
use penlab_protocol::message::{
    CartridgeEvent, Fault, Identity, Pose, Status, StrikeBatch, Telemetry,
};
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
/// The default [`LinkOptions::unpolled_limit`].
pub const UNPOLLED_LIMIT: Duration = Duration::from_secs(1);

/// How a link behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOptions {
    /// How long the view may go without polling the link before the link's
    /// thread stops the motor and its heartbeats.
    pub unpolled_limit: Duration,
    /// When the line goes (a USB pen resetting and coming back, perhaps
    /// under another name; a PTY re-created; an exporter restarted), wait
    /// this long for the pen to come back and go on with a fresh `Hello`
    /// ([`Transport::reopen`]). `None`: the link ends when the line goes.
    pub reattach: Option<Duration>,
    /// A fault to inject into the link's thread: for the tests that prove
    /// it still leaves the pen safe. `None` in every real use.
    pub fault: Option<LinkFault>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            unpolled_limit: UNPOLLED_LIMIT,
            reattach: None,
            fault: None,
        }
    }
}

/// A fault the link's thread can be told to inject into itself (tests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    /// The thread panics right after the pen acknowledges a `Start`.
    PanicAfterStart,
}

/// How a `Stop` sent by the link itself (at the end of a session, or for a
/// view that stopped polling) went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// The pen acknowledged it.
    Acknowledged {
        /// From sending it to the `Ack`.
        latency: Duration,
    },
    /// The pen refused it (a conforming pen never does).
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// No answer came within the bound.
    Unconfirmed {
        /// What went wrong.
        reason: String,
    },
    /// The line was gone: nothing could reach the pen.
    LineGone,
}

impl StopOutcome {
    /// Whether the pen acknowledged the `Stop`.
    pub fn acknowledged(&self) -> bool {
        matches!(self, StopOutcome::Acknowledged { .. })
    }
}

impl fmt::Display for StopOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopOutcome::Acknowledged { latency } => {
                write!(f, "Stop acknowledged in {} ms", latency.as_millis())
            }
            StopOutcome::Refused { reason } => write!(f, "Stop refused: {reason}"),
            StopOutcome::Unconfirmed { reason } => write!(f, "Stop not acknowledged: {reason}"),
            StopOutcome::LineGone => f.write_str("the line was gone, no Stop could be sent"),
        }
    }
}

/// When the view last polled the link, as the link's thread sees it. The
/// watch starts at the first poll: a view still opening its window has
/// commanded nothing yet.
#[derive(Debug)]
struct Liveness {
    epoch: Instant,
    /// Microseconds since `epoch`; [`Liveness::NEVER`] before the first poll.
    last_us: AtomicU64,
}

impl Liveness {
    const NEVER: u64 = u64::MAX;

    fn new() -> Self {
        Liveness {
            epoch: Instant::now(),
            last_us: AtomicU64::new(Self::NEVER),
        }
    }

    fn touch(&self) {
        let now = self.epoch.elapsed().as_micros() as u64;
        self.last_us.store(now, Ordering::Relaxed);
    }

    /// How long since the last poll (zero before the first).
    fn unpolled_for(&self) -> Duration {
        match self.last_us.load(Ordering::Relaxed) {
            Self::NEVER => Duration::ZERO,
            last => self
                .epoch
                .elapsed()
                .saturating_sub(Duration::from_micros(last)),
        }
    }
}

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
    /// The view did not poll the link for longer than
    /// [`LinkOptions::unpolled_limit`]: the link sent `Stop` and went quiet
    /// (no heartbeats). The pen gets a fresh `Hello` (and the view a new
    /// [`LinkEvent::Connected`]) when the view polls again.
    MotorStoppedUnpolled {
        /// How long the view had not polled.
        unpolled: Duration,
        /// How the `Stop` went.
        stop: StopOutcome,
        /// When its answer came (or the wait ended), on the host's clock.
        at: Instant,
    },
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
    /// The line went and the link waits for the pen to come back
    /// ([`LinkOptions::reattach`]); commands meanwhile are refused.
    PenAway {
        /// Why the line went.
        reason: String,
        /// How long the link waits.
        within: Duration,
    },
    /// The pen is back after [`LinkEvent::PenAway`]; a fresh handshake
    /// follows (a new [`LinkEvent::Connected`]).
    PenBack {
        /// Where it was found (a `usb:` address's path this time).
        at: String,
        /// How long it was away.
        waited: Duration,
    },
    /// The line is gone (unplugged, port closed, handshake failed, or the
    /// link shut down) and is not coming back. The last event: the thread
    /// has ended.
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
    watch: Arc<Liveness>,
    /// How the closing `Stop` went, once the thread has sent it.
    teardown: Arc<Mutex<Option<StopOutcome>>>,
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
        PenLink::start_with(transport, LinkOptions::default())
    }

    /// [`PenLink::start`] with options other than the defaults.
    pub fn start_with(transport: Transport, options: LinkOptions) -> PenLink {
        let mock = transport.is_in_process();
        // A panel shows a port's line speed too: `/dev/ttyUSB0 @ 115200`.
        let description = match transport.baud() {
            Some(baud) => format!("{} @ {baud}", transport.describe()),
            None => transport.describe().to_owned(),
        };
        let (commands, command_rx) = tokio_mpsc::unbounded_channel();
        let (event_tx, events) = std_mpsc::channel();
        let spare = event_tx.clone();
        let watch = Arc::new(Liveness::new());
        let teardown = Arc::new(Mutex::new(None));
        let thread_side = Served {
            commands: command_rx,
            events: event_tx,
            watch: Arc::clone(&watch),
            teardown: Arc::clone(&teardown),
            options,
        };
        let spawned = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || run_thread(transport, thread_side));
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
            watch,
            teardown,
        }
    }

    /// Queues a command; its outcome comes back as an event.
    pub fn send(&self, cmd: LinkCommand) -> Result<(), LinkClosed> {
        self.watch.touch();
        self.commands
            .send(Control::Command(cmd))
            .map_err(|_| LinkClosed)
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<LinkEvent> {
        self.watch.touch();
        self.lock_events().try_recv().ok()
    }

    /// Every event waiting now, oldest first. The queue is held while the
    /// iterator lives: do not call [`PenLink::try_recv`] inside the loop.
    pub fn drain(&self) -> impl Iterator<Item = LinkEvent> + '_ {
        self.watch.touch();
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
    /// for the thread; returns how the closing `Stop` went (`None` if the
    /// thread did not finish in time, or never opened the line).
    pub fn shutdown(mut self) -> Option<StopOutcome> {
        self.close();
        self.teardown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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

/// What the link's thread is handed.
struct Served {
    commands: tokio_mpsc::UnboundedReceiver<Control>,
    events: Events,
    watch: Arc<Liveness>,
    teardown: Arc<Mutex<Option<StopOutcome>>>,
    options: LinkOptions,
}

fn run_thread(transport: Transport, served: Served) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            emit(
                &served.events,
                LinkEvent::Disconnected {
                    reason: format!("could not start the link's runtime: {e}"),
                },
            );
            return;
        }
    };
    let events = served.events.clone();
    // A panic on the line is caught inside, around the session, so that the
    // closing `Stop` still goes out; this one is for the rest. Whatever
    // happens, the view must learn the link is gone.
    let reason = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(transport, served))
    }))
    .unwrap_or_else(|_| "the link's thread failed (a bug: see the log)".to_owned());
    emit(&events, LinkEvent::Disconnected { reason });
}

/// Runs the link to its end, across re-attaches; returns why it ended.
async fn drive(transport: Transport, served: Served) -> String {
    let Served {
        mut commands,
        events,
        watch,
        teardown,
        options,
    } = served;
    let mut connection = match transport.open().await {
        Ok(connection) => connection,
        Err(e) => return format!("could not open {e}"),
    };
    loop {
        let ended = line::serve(
            connection.link,
            connection.env,
            &mut commands,
            &events,
            Arc::clone(&watch),
            options.clone(),
        )
        .await;
        *teardown.lock().unwrap_or_else(|e| e.into_inner()) = Some(ended.stop);
        // An in-process mock runs on this runtime: let it see its line
        // close and return rather than be cut off mid-write.
        if let Some(finished) = connection.finished {
            let _ = tokio::time::timeout(MOCK_WAIT, finished).await;
        }
        let Some(within) = options.reattach.filter(|_| ended.line_gone) else {
            return ended.reason;
        };
        emit(
            &events,
            LinkEvent::PenAway {
                reason: ended.reason.clone(),
                within,
            },
        );
        let reopened = tokio::select! {
            reopened = transport.reopen(within) => reopened,
            () = refuse_until_shutdown(&mut commands, &events) => {
                return "the link was shut down while the pen was away".to_owned();
            }
        };
        match reopened {
            Ok(back) => {
                emit(
                    &events,
                    LinkEvent::PenBack {
                        at: back.at,
                        waited: back.waited,
                    },
                );
                connection = back.connection;
            }
            Err(e) => return format!("{}, and it did not come back: {e}", ended.reason),
        }
    }
}

/// While the pen is away: refuses commands until the view shuts the link.
async fn refuse_until_shutdown(
    commands: &mut tokio_mpsc::UnboundedReceiver<Control>,
    events: &Events,
) {
    loop {
        match commands.recv().await {
            Some(Control::Command(cmd)) => emit(
                events,
                LinkEvent::Refused {
                    command: cmd.to_string(),
                    reason: "the pen is away; waiting for it to come back".to_owned(),
                },
            ),
            Some(Control::Shutdown) | None => return,
        }
    }
}
