//! One live session: the coverage, the pen that drives it (if any), the
//! pen's clock, the recording and what a panel shows about the pen.
//!
//! Call [`LiveSession::push_pose`] as the tool moves and
//! [`LiveSession::poll`] once a frame: the pen's strikes then land where
//! the tool was when they happened, at the depth the pen measured.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use penlab_host::limits::PenLimits;
use penlab_protocol::message::{DeviceState, FaultCode, Identity, Status, Telemetry};
use penlab_simulator::pose::Pose;
use penlab_simulator::session::{Event, StrikeSource};

use crate::clock::{DeviceClock, strike_times};
use crate::coverage::LiveCoverage;
use crate::link::{LinkCommand, LinkEvent, PenLink, StopOutcome};
use crate::record::Recorder;

/// How many strike depths the depth-over-time series keeps.
const DEPTH_SERIES: usize = 4096;
/// How long a strike reported ahead of the latest pose waits for the pose
/// that covers it, s; after that the tool is taken to have stood still.
const STRIKE_WAIT_S: f64 = 0.25;
/// How many messages the pen log keeps.
const LOG_LINES: usize = 200;
/// Most placed strikes kept for [`LiveSession::take_strikes`] between two
/// calls (the oldest go first when nobody takes them).
const PLACED_KEPT: usize = 100_000;

/// Where the pen connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// No pen: strikes come from the tool itself (rollers, stamps, scripts).
    NoPen,
    /// Waiting for the handshake.
    Connecting,
    /// Handshake done.
    Connected,
    /// The line went; the link waits for the pen to come back (`--reattach`).
    Away(String),
    /// The pen went away; the session so far is kept.
    Disconnected(String),
}

/// How bad a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Informational.
    Info,
    /// Something the user should notice.
    Warning,
    /// A fault or a lost pen.
    Error,
}

/// What the panel shows about the pen.
#[derive(Debug, Clone)]
pub struct PenView {
    /// Where the pen is (mock or port).
    pub source: String,
    /// Connection state.
    pub connection: Connection,
    /// Who the pen is.
    pub identity: Option<Identity>,
    /// What it declares, checked at the handshake.
    pub limits: Option<PenLimits>,
    /// Its latest status.
    pub status: Option<Status>,
    /// Its latest telemetry.
    pub telemetry: Option<Telemetry>,
    /// Faults active now.
    pub active_faults: Vec<FaultCode>,
    /// Strikes reported.
    pub strikes: u64,
    /// Strikes reported while the tool was off the skin or unknown.
    pub strikes_in_air: u64,
    /// Recent messages, oldest first: (session time s, severity, text).
    pub log: VecDeque<(f64, Severity, String)>,
}

impl PenView {
    /// Whether the motor runs, as the pen last said.
    pub fn running(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| s.state == DeviceState::Running)
    }
}

/// A live session.
pub struct LiveSession {
    /// The coverage and heatmap.
    pub coverage: LiveCoverage,
    pen: Option<PenLink>,
    view: PenView,
    clock: DeviceClock,
    epoch: Instant,
    /// Set: the session's time is this, moved by hand (tests), not the wall
    /// clock's.
    manual_now: Option<f64>,
    recorder: Option<(PathBuf, Recorder<BufWriter<File>>)>,
    depth_series: VecDeque<(f64, f32)>,
    force_sent: Option<f32>,
    pen_poses: Vec<Pose>,
    /// Strikes later than the latest pose: (t, depth mm).
    waiting: VecDeque<(f64, f32)>,
    /// Strikes placed since the last [`LiveSession::take_strikes`].
    placed: VecDeque<(f64, f32)>,
    pen_strikes: bool,
    tool_name: String,
    surface_name: String,
}

impl LiveSession {
    /// A session on `coverage`, driven by `pen` if there is one; times are
    /// seconds since `epoch`.
    pub fn new(coverage: LiveCoverage, pen: Option<PenLink>, epoch: Instant) -> Self {
        let view = PenView {
            source: pen
                .as_ref()
                .map_or_else(|| "no pen".to_owned(), PenLink::describe),
            connection: if pen.is_some() {
                Connection::Connecting
            } else {
                Connection::NoPen
            },
            identity: None,
            limits: None,
            status: None,
            telemetry: None,
            active_faults: Vec::new(),
            strikes: 0,
            strikes_in_air: 0,
            log: VecDeque::new(),
        };
        let tool_name = coverage.session().tool().profile.name.clone();
        let surface_name = coverage.session().surface().name.clone();
        LiveSession {
            coverage,
            pen,
            view,
            clock: DeviceClock::with_epoch(epoch),
            epoch,
            manual_now: None,
            recorder: None,
            depth_series: VecDeque::new(),
            force_sent: None,
            pen_poses: Vec::new(),
            waiting: VecDeque::new(),
            placed: VecDeque::new(),
            pen_strikes: true,
            tool_name,
            surface_name,
        }
    }

    /// Seconds since the session's epoch.
    pub fn now(&self) -> f64 {
        self.manual_now
            .unwrap_or_else(|| self.time_of(Instant::now()))
    }

    /// Stops the session's clock at `t` s, to be moved only by
    /// [`LiveSession::set_now`]: for tests that must not depend on how fast
    /// the machine draws frames. Only for sessions without a pen, whose
    /// events carry the wall clock's instants.
    pub fn set_now(&mut self, t: f64) {
        debug_assert!(
            self.pen.is_none(),
            "a pen's events are timed by the wall clock"
        );
        self.manual_now = Some(t);
    }

    /// An instant as seconds since the session's epoch.
    pub fn time_of(&self, at: Instant) -> f64 {
        at.checked_duration_since(self.epoch).map_or_else(
            || -self.epoch.duration_since(at).as_secs_f64(),
            |d| d.as_secs_f64(),
        )
    }

    /// What the panel shows about the pen.
    pub fn pen(&self) -> &PenView {
        &self.view
    }

    /// Whether a pen decides the strikes (else the tool strikes by itself).
    pub fn pen_drives_strikes(&self) -> bool {
        self.pen.is_some()
    }

    /// Whether the pen's strikes land (set aside while a recording replays).
    pub fn set_pen_strikes(&mut self, on: bool) {
        self.pen_strikes = on;
    }

    /// Whether the pen is the built-in mock (its environment can be changed).
    pub fn pen_is_mock(&self) -> bool {
        self.pen.as_ref().is_some_and(PenLink::is_mock)
    }

    /// Recent strike depths: (session time s, depth mm), oldest first.
    pub fn depth_series(&self) -> &VecDeque<(f64, f32)> {
        &self.depth_series
    }

    /// Feeds a tool pose.
    pub fn push_pose(&mut self, pose: Pose) {
        self.coverage.push_pose(pose);
        self.release_waiting(pose.t);
        if let Some((_, rec)) = &mut self.recorder
            && let Err(e) = rec.pose(&pose)
        {
            self.stop_recording_after(e);
        }
    }

    /// Feeds a scripted event (a pose, or a strike of a stamp or a replay).
    pub fn push_event(&mut self, event: &Event) {
        match event {
            Event::Pose(p) => self.push_pose(*p),
            Event::Strike { t, depth_mm } => {
                let depth = depth_mm
                    .or_else(|| self.coverage.pose_at(*t).map(|p| p.depth_mm))
                    .unwrap_or(0.0);
                self.strike(*t, depth);
            }
            Event::Header { .. } => {}
        }
    }

    /// Sends a command to the pen (a new depth or rate is followed by a
    /// status request); without a pen it is dropped with a note.
    pub fn command(&mut self, command: LinkCommand) {
        // A new set point shows in the pen's next status: ask for it.
        let then_status = matches!(
            command,
            LinkCommand::SetDepth { .. } | LinkCommand::SetRate { .. }
        );
        let sent = self.pen.as_ref().map(|p| {
            p.send(command.clone()).and_then(|()| {
                if then_status {
                    p.send(LinkCommand::StatusRequest)
                } else {
                    Ok(())
                }
            })
        });
        match sent {
            Some(Ok(())) => {}
            Some(Err(_)) => self.log(
                Severity::Warning,
                format!("{command:?}: the pen link is closed"),
            ),
            None => self.log(Severity::Info, format!("{command:?}: no pen attached")),
        }
    }

    /// Tells the (mock) pen the contact force, N, when it changed.
    pub fn set_contact_force(&mut self, newtons: f32) {
        if self.force_sent != Some(newtons) && self.view.connection == Connection::Connected {
            self.force_sent = Some(newtons);
            if let Some(pen) = &self.pen {
                let _ = pen.send(LinkCommand::Force { newtons });
            }
        }
    }

    /// Starts recording the session's poses and strikes to `path`.
    pub fn start_recording(&mut self, path: &Path) -> std::io::Result<()> {
        let file = File::create(path)?;
        let rec = Recorder::new(BufWriter::new(file), &self.tool_name, &self.surface_name)?;
        self.stop_recording()?;
        self.recorder = Some((path.to_owned(), rec));
        self.log(Severity::Info, format!("recording to {}", path.display()));
        Ok(())
    }

    /// Stops recording; returns the file written, if one was.
    pub fn stop_recording(&mut self) -> std::io::Result<Option<PathBuf>> {
        match self.recorder.take() {
            Some((path, rec)) => {
                let events = rec.events();
                rec.finish()?;
                self.log(
                    Severity::Info,
                    format!("recorded {events}+ events to {}", path.display()),
                );
                Ok(Some(path))
            }
            None => Ok(None),
        }
    }

    /// Where the session is being recorded, if it is.
    pub fn recording(&self) -> Option<&Path> {
        self.recorder.as_ref().map(|(p, _)| p.as_path())
    }

    /// Drains what the pen sent since the last call: strikes land on the
    /// surface, the rest updates [`LiveSession::pen`]. Then folds the new
    /// punctures into the heatmap. Returns the texels that changed.
    pub fn poll(&mut self) -> usize {
        let mut events = Vec::new();
        if let Some(pen) = &self.pen {
            while let Some(event) = pen.try_recv() {
                events.push(event);
            }
        }
        for event in events {
            self.handle(event);
        }
        let stale = self.now() - STRIKE_WAIT_S;
        self.release_waiting(stale);
        self.coverage.update()
    }

    fn handle(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Connected {
                identity,
                limits,
                status,
                took,
            } => {
                self.log(
                    Severity::Info,
                    format!(
                        "connected to {} {} (serial {}) in {} ms",
                        identity.model,
                        identity.firmware,
                        identity.serial,
                        took.as_millis()
                    ),
                );
                self.view.connection = Connection::Connected;
                self.view.identity = Some(identity);
                self.view.limits = Some(limits);
                self.view.status = Some(status);
                self.force_sent = None;
            }
            LinkEvent::Status(status) => self.view.status = Some(status),
            LinkEvent::Telemetry { at, telemetry } => {
                self.clock.observe(telemetry.time_us, at);
                self.view.telemetry = Some(telemetry);
            }
            LinkEvent::Strikes { at, batch } => {
                self.clock.observe_batch(&batch, at);
                if !self.pen_strikes {
                    return;
                }
                let arrived = self.time_of(at);
                for (device_us, depth_um) in strike_times(&batch) {
                    let t = self.clock.host_secs(device_us).unwrap_or(arrived);
                    self.strike(t, f32::from(depth_um) / 1000.0);
                }
            }
            LinkEvent::Pose { at, pose } => {
                self.clock.observe(pose.time_us, at);
                let arrived = self.time_of(at);
                let t = self.clock.host_secs(pose.time_us).unwrap_or(arrived);
                let pose = self.tracked_pose(t, &pose);
                self.pen_poses.push(pose);
            }
            LinkEvent::Fault { fault, .. } => {
                let code = fault.code;
                if fault.active {
                    if !self.view.active_faults.contains(&code) {
                        self.view.active_faults.push(code);
                    }
                    let severity = if code.is_critical() {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    self.log(
                        severity,
                        format!("fault: {code:?} (detail {})", fault.detail),
                    );
                } else {
                    self.view.active_faults.retain(|&c| c != code);
                    self.log(Severity::Info, format!("fault cleared: {code:?}"));
                }
            }
            LinkEvent::Cartridge(event) => {
                self.log(Severity::Info, format!("cartridge: {:?}", event.event));
            }
            LinkEvent::MotorStoppedUnpolled { unpolled, stop, .. } => {
                self.log(
                    Severity::Warning,
                    format!(
                        "the view did not poll the pen for {:.1} s: the link stopped the motor ({stop}) and its heartbeats; it shakes hands again now",
                        unpolled.as_secs_f64()
                    ),
                );
                // The pen's watchdog may have fired meanwhile: settle again
                // once the new handshake is done.
                self.view.connection = Connection::Connecting;
                if stop.acknowledged()
                    && let Some(status) = &mut self.view.status
                {
                    status.state = DeviceState::Idle;
                }
            }
            LinkEvent::PenAway { reason, within } => {
                self.log(
                    Severity::Error,
                    format!(
                        "pen away: {reason}; waiting up to {:.0} s for it to come back",
                        within.as_secs_f64()
                    ),
                );
                self.view.connection = Connection::Away(reason);
                self.view.active_faults.clear();
                if let Some(status) = &mut self.view.status {
                    status.state = DeviceState::Idle;
                }
            }
            LinkEvent::PenBack { at, waited } => {
                self.log(
                    Severity::Info,
                    format!(
                        "the pen is back at {at} after {:.1} s: shaking hands again",
                        waited.as_secs_f64()
                    ),
                );
                self.view.connection = Connection::Connecting;
                // A pen that reset has a clock of its own again.
                self.clock = DeviceClock::with_epoch(self.epoch);
            }
            LinkEvent::Accepted { .. } => {}
            LinkEvent::Refused { command, reason } => {
                self.log(Severity::Warning, format!("{command} refused: {reason}"));
            }
            LinkEvent::LinkTrouble { what } => self.log(Severity::Warning, what),
            LinkEvent::Disconnected { reason } => {
                self.log(
                    Severity::Error,
                    format!("pen disconnected: {reason}; the session so far is kept"),
                );
                self.view.connection = Connection::Disconnected(reason);
                if let Some(status) = &mut self.view.status {
                    status.state = DeviceState::Idle;
                }
            }
        }
    }

    /// Strikes placed since the last call, in the order placed: (session
    /// time s, depth mm), the pen's (landed or in the air) and a
    /// demonstration's recorded ones. A tool striking at its own rate
    /// strikes inside the coverage engine and is not listed. For watchers
    /// such as the view's technique cues, which take them once a frame.
    pub fn take_strikes(&mut self) -> Vec<(f64, f32)> {
        self.placed.drain(..).collect()
    }

    /// Poses the pen's tracker reported since the last call, oldest first.
    pub fn take_pen_poses(&mut self) -> Vec<Pose> {
        std::mem::take(&mut self.pen_poses)
    }

    /// A tracker pose in the engine's frame: the tracker's frame is the
    /// surface's, in micrometres. Contact is the pen's measured force when
    /// it has a sensor, else the tool counts as pressed while tracked.
    fn tracked_pose(&self, t: f64, pose: &penlab_protocol::message::Pose) -> Pose {
        let [x, y, z] = pose.position_um.map(|c| c as f32 / 1000.0);
        let [w, qx, qy, qz] = pose.orientation_q15.map(|c| f32::from(c) / 32767.0);
        let q = glam::Quat::from_xyzw(qx, qy, qz, w);
        let orientation = if q.length_squared() > 1e-6 {
            q.normalize()
        } else {
            glam::Quat::IDENTITY
        };
        let has_force = self
            .view
            .limits
            .as_ref()
            .is_some_and(|c| c.features & penlab_protocol::message::FEATURE_FORCE != 0);
        let force_n = match (&self.view.telemetry, has_force) {
            (Some(tel), true) => f32::from(tel.force_mn) / 1000.0,
            _ => self.coverage.session().tool().profile.full_contact_force_n,
        };
        let depth_mm = self
            .view
            .status
            .as_ref()
            .map_or(0.0, |s| f32::from(s.depth_set_um) / 1000.0);
        Pose {
            t,
            position: glam::Vec3::new(x, y, z),
            orientation,
            force_n,
            depth_mm,
        }
    }

    /// A strike at `t`: placed now if the poses reach `t`, else held until
    /// they do. A pen's batch can be fresher than the latest frame's pose,
    /// and a strike pinned to that pose would pile up where the tool was.
    fn strike(&mut self, t: f64, depth_mm: f32) {
        let ahead = self.coverage.latest_pose().is_none_or(|p| p.t < t);
        if ahead && self.waiting.len() < 100_000 {
            let at = self.waiting.partition_point(|&(w, _)| w <= t);
            self.waiting.insert(at, (t, depth_mm));
        } else {
            self.place_strike(t, depth_mm);
        }
    }

    /// Places the held strikes up to `t`.
    fn release_waiting(&mut self, t: f64) {
        while let Some(&(w, d)) = self.waiting.front() {
            if w > t {
                break;
            }
            self.waiting.pop_front();
            self.place_strike(w, d);
        }
    }

    fn place_strike(&mut self, t: f64, depth_mm: f32) {
        self.view.strikes += 1;
        if self.placed.len() == PLACED_KEPT {
            self.placed.pop_front();
        }
        self.placed.push_back((t, depth_mm));
        let landed = self.coverage.pose_at(t).is_some_and(|p| p.force_n > 0.0);
        if !landed {
            self.view.strikes_in_air += 1;
        }
        if self.depth_series.len() == DEPTH_SERIES {
            self.depth_series.pop_front();
        }
        self.depth_series.push_back((t, depth_mm));
        if landed {
            self.coverage.strike(t, depth_mm);
            if let Some((_, rec)) = &mut self.recorder
                && let Err(e) = rec.strike(t, depth_mm)
            {
                self.stop_recording_after(e);
            }
        }
    }

    fn stop_recording_after(&mut self, error: std::io::Error) {
        if let Some((path, _)) = self.recorder.take() {
            self.log(
                Severity::Error,
                format!("recording to {} stopped: {error}", path.display()),
            );
        }
    }

    fn log(&mut self, severity: Severity, text: String) {
        match severity {
            Severity::Error => tracing::error!("{text}"),
            Severity::Warning => tracing::warn!("{text}"),
            Severity::Info => tracing::info!("{text}"),
        }
        if self.view.log.len() == LOG_LINES {
            self.view.log.pop_front();
        }
        let now = self.now();
        self.view.log.push_back((now, severity, text));
    }

    /// Stops the pen's motor and closes the link (also done on drop);
    /// returns how the closing `Stop` went, if there was a pen on a line.
    pub fn shutdown(&mut self) -> Option<StopOutcome> {
        if let Err(e) = self.stop_recording() {
            tracing::error!("finishing the recording: {e}");
        }
        self.pen.take().and_then(PenLink::shutdown)
    }

    /// Starts the coverage afresh on the same surface and tool: strikes
    /// from the pen when one drives them, else at the tool's own rate.
    pub fn reset_coverage(&mut self) -> penlab_simulator::Result<()> {
        self.coverage = self.coverage.fresh(self.own_strike_source())?;
        Ok(())
    }

    /// Where strikes come from outside a demonstration: the pen when one
    /// drives them, else the tool's own rate.
    fn own_strike_source(&self) -> StrikeSource {
        if self.pen_drives_strikes() {
            StrikeSource::Events
        } else {
            let profile = &self.coverage.session().tool().profile;
            StrikeSource::Rate(f64::from(profile.rate_hz.unwrap_or(100.0)))
        }
    }

    /// Readies the session for a recording's replay: fresh coverage whose
    /// strikes are the recording's, the pen's own strikes set aside until
    /// [`LiveSession::set_pen_strikes`] takes them back. Returns the session
    /// time the replay starts at, s.
    pub fn start_replay(&mut self) -> penlab_simulator::Result<f64> {
        self.start_demo(StrikeSource::Events)
    }

    /// Readies the session for a demonstration that plays on its own
    /// timeline (a replay, a script without a pen, or one of them sought
    /// back to its start): fresh coverage whose strikes come from `source`,
    /// the pen's own strikes set aside. Returns the session time now, s.
    pub fn start_demo(&mut self, source: StrikeSource) -> penlab_simulator::Result<f64> {
        self.coverage = self.coverage.fresh(source)?;
        self.set_pen_strikes(false);
        self.waiting.clear();
        Ok(self.now())
    }

    /// Ends a demonstration: its passes are closed, and the coverage goes
    /// back to the session's clock and strike source (a demonstration's
    /// times may have run ahead of the wall clock when played fast), with
    /// the pen's strikes landing again.
    pub fn end_demo(&mut self) {
        self.coverage.finish();
        let source = self.own_strike_source();
        self.coverage.rejoin_clock(source);
        self.waiting.clear();
        self.set_pen_strikes(true);
    }

    /// How long the session has run.
    pub fn elapsed(&self) -> Duration {
        self.epoch.elapsed()
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl LiveSession {
    /// Replaces the pen (after a disconnect, say); the coverage is kept.
    pub fn reconnect(&mut self, pen: PenLink) {
        if let Some(old) = self.pen.take() {
            old.shutdown();
        }
        self.view.source = pen.describe();
        self.view.connection = Connection::Connecting;
        self.view.active_faults.clear();
        self.clock = DeviceClock::with_epoch(self.epoch);
        self.pen = Some(pen);
    }
}
