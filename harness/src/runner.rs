//! Runs scenario suites against a pen and reports what it found.
//!
//! Every test gets a fresh session (a mock pen of its own, or the same real
//! pen after a new `Hello`), runs its steps, and always ends with the motor
//! stopped, whether it passed, failed or timed out. Beyond its own steps,
//! every test also checks the link: frames that fail to decode, repeated
//! sequence numbers, and answers later than the acknowledgement deadline
//! fail it, naming the problem.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use penlab_firmware_mock::bugs::BugSet;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_host::env::{EnvCommand, EnvLink};
use penlab_host::limits::PenLimits;
use penlab_host::transport::{Connection, Link, Transport};
use penlab_protocol::message::{Message, Packet};
use penlab_protocol::timing::ACK_DEADLINE;

use crate::measure::{Limit, Measurement};
use crate::partition::Partition;
use crate::report::{DeviceInfo, Outcome, RunReport, TestRecord};
use crate::scenario::{Action, ExpectReply, Quantity, Step, Suite, Sweep, TestCase, Vars};
use penlab_host::capture::{CaptureWriter, Header};
use penlab_host::session::{Inbound, Reply, Session, SessionError, SessionOptions};

/// Longest a single test may run (virtual time for a mock in virtual time).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// What the suites run against.
#[derive(Debug, Clone)]
pub struct Target {
    /// How to reach the pen. An in-process pen is started afresh for every
    /// test; any other keeps its state from one test to the next.
    pub transport: Transport,
    /// Run on tokio's paused clock: deterministic and much faster than real
    /// time. Only for an in-process pen.
    pub virtual_time: bool,
    description: String,
}

impl Target {
    /// A pen reached through `transport`, in real time.
    pub fn new(transport: Transport) -> Self {
        Target {
            description: transport.describe().to_owned(),
            transport,
            virtual_time: false,
        }
    }

    /// The mock pen in process, a fresh one for every test: `name` is its
    /// profile's name for reports.
    pub fn mock(profile: Profile, name: &str, bugs: BugSet, seed: u64, virtual_time: bool) -> Self {
        let planted: Vec<&str> = bugs.iter().map(|b| b.name()).collect();
        let description = if planted.is_empty() {
            format!("mock:{name}")
        } else {
            format!("mock:{name} (bugs: {})", planted.join(", "))
        };
        let mut device = DeviceConfig::new(profile);
        device.seed = seed;
        device.bugs = bugs;
        let config = MockConfig::new(device);
        let transport = Transport::in_process(description.clone(), move || {
            let (host, env, task) = spawn_duplex(config.clone());
            Connection {
                link: Box::new(host),
                env: Some(EnvLink::in_process(env.into())),
                finished: Some(Box::pin(async move {
                    let _ = task.await;
                })),
            }
        });
        Target {
            transport,
            virtual_time,
            description,
        }
    }

    /// How reports name the target.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Whether the pen is real hardware (or anything else that keeps its
    /// state between tests), rather than a fresh in-process mock.
    pub fn is_persistent(&self) -> bool {
        !self.transport.is_in_process()
    }
}

/// How a run behaves.
#[derive(Default)]
pub struct RunOptions {
    /// Write a capture per test into this directory.
    pub capture_dir: Option<PathBuf>,
    /// Run only this shard.
    pub partition: Option<Partition>,
    /// Run only tests with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Called as each test starts (with its full id) and ends.
    pub on_event: Option<ProgressFn>,
}

/// A callback for progress.
pub type ProgressFn = Box<dyn FnMut(RunEvent<'_>) + Send>;

/// Progress, for live output.
pub enum RunEvent<'a> {
    /// The run knows how many tests it will run.
    Planned(usize),
    /// A test starts.
    Started(&'a str),
    /// A test ended.
    Finished(&'a TestRecord),
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// The capture directory could not be made.
    #[error("capture directory {}: {source}", path.display())]
    CaptureDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One test at one sweep point.
struct Instance<'a> {
    suite: &'a Suite,
    test: &'a TestCase,
    /// `depth=1250`, for swept tests.
    point: Option<(Sweep, f64)>,
    id: String,
}

/// Runs `suites` against `target`.
pub fn run(
    suites: &[Suite],
    target: &Target,
    mut options: RunOptions,
) -> Result<RunReport, RunError> {
    if let Some(dir) = &options.capture_dir {
        std::fs::create_dir_all(dir).map_err(|source| RunError::CaptureDir {
            path: dir.clone(),
            source,
        })?;
    }
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if target.virtual_time && target.transport.is_in_process() {
        builder.start_paused(true);
    }
    let runtime = builder.build().map_err(RunError::Runtime)?;
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut report = RunReport {
        tool: format!("penlab {}", env!("CARGO_PKG_VERSION")),
        target: target.describe(),
        device: None,
        started_unix_ms,
        partition: options.partition.map(|p| p.to_string()),
        tests: Vec::new(),
    };
    runtime.block_on(async {
        // Sweeps need the pen's limits: ask once, up front.
        let (pen, unreachable) = match probe(target).await {
            Ok((device, pen)) => {
                report.device = Some(device);
                (Some(pen), None)
            }
            Err(e) => (None, Some(e)),
        };
        let instances = plan(suites, pen.as_ref().map(|p| &p.vars), &options);
        if let Some(cb) = options.on_event.as_mut() {
            cb(RunEvent::Planned(instances.len()));
        }
        for instance in &instances {
            if let Some(cb) = options.on_event.as_mut() {
                cb(RunEvent::Started(&instance.id));
            }
            let record = match &unreachable {
                Some(e) => unreachable_record(instance, target, e),
                None => {
                    run_instance(
                        instance,
                        target,
                        pen.as_ref(),
                        options.capture_dir.as_deref(),
                    )
                    .await
                }
            };
            if let Some(cb) = options.on_event.as_mut() {
                cb(RunEvent::Finished(&record));
            }
            report.tests.push(record);
        }
    });
    Ok(report)
}

/// The tests to run, swept and filtered, in suite order.
fn plan<'a>(suites: &'a [Suite], vars: Option<&Vars>, options: &RunOptions) -> Vec<Instance<'a>> {
    let mut all = Vec::new();
    for suite in suites {
        for test in &suite.tests {
            if !options.tags.is_empty() && !test.tags.iter().any(|t| options.tags.contains(t)) {
                continue;
            }
            let points: Vec<Option<(Sweep, f64)>> = match (test.sweep, vars) {
                (Some(sweep), Some(vars)) => vars
                    .sweep_points(sweep)
                    .into_iter()
                    .map(|p| Some((sweep, p)))
                    .collect(),
                _ => vec![None],
            };
            for point in points {
                let id = match point {
                    Some((Sweep::Depth, p)) => format!("{}::{}[depth={p}]", suite.name, test.id),
                    Some((Sweep::Rate, p)) => {
                        format!("{}::{}[rate={}Hz]", suite.name, test.id, p / 100.0)
                    }
                    None => format!("{}::{}", suite.name, test.id),
                };
                all.push(Instance {
                    suite,
                    test,
                    point,
                    id,
                });
            }
        }
    }
    match options.partition {
        Some(p) => all
            .into_iter()
            .enumerate()
            .filter(|(i, t)| p.includes(&t.id, *i))
            .map(|(_, t)| t)
            .collect(),
        None => all,
    }
}

async fn connect(target: &Target) -> Result<Connection, SessionError> {
    target
        .transport
        .open()
        .await
        .map_err(|e| SessionError::Io(std::io::Error::new(e.source.kind(), e.to_string())))
}

/// What one handshake told about the pen, for every test after it.
struct Pen {
    vars: Vars,
    limits: PenLimits,
}

/// Handshakes once to learn who the pen is and its limits.
async fn probe(target: &Target) -> Result<(DeviceInfo, Pen), SessionError> {
    let connection = connect(target).await?;
    let mut session = Session::new(connection.link, SessionOptions::default());
    let h = session.open().await?.clone();
    let _ = session.stop_motor().await;
    let device = DeviceInfo {
        model: h.identity.model.to_string(),
        firmware: h.identity.firmware.to_string(),
        serial: h.identity.serial.to_string(),
        protocol: format!(
            "{}.{}",
            h.identity.protocol_major, h.identity.protocol_minor
        ),
    };
    let pen = Pen {
        vars: Vars::from_limits(&h.limits),
        limits: h.limits,
    };
    Ok((device, pen))
}

/// Why a test stopped early.
enum Stop {
    /// The pen did not behave as required.
    Fail(String),
    /// The test could not be carried out.
    Error(String),
}

fn from_session(e: SessionError, at: &Step) -> Stop {
    match e {
        SessionError::NoReply { .. } | SessionError::Handshake(_) => {
            Stop::Fail(format!("{}: {e}", at.location))
        }
        other => Stop::Error(format!("{}: {other}", at.location)),
    }
}

/// What a running test keeps.
struct Ctx {
    session: Session<Box<dyn Link>>,
    env: Option<EnvLink>,
    vars: Vars,
    log: Vec<String>,
    measurements: Vec<Measurement>,
    last_reply: Option<Reply>,
    /// What arrived during waits, for a later `await` to find.
    backlog: std::collections::VecDeque<Inbound>,
    /// The pen's declared watchdog timeout.
    watchdog_ms: u16,
}

async fn run_instance(
    instance: &Instance<'_>,
    target: &Target,
    pen: Option<&Pen>,
    captures: Option<&std::path::Path>,
) -> TestRecord {
    let test = instance.test;
    let mut record = TestRecord {
        suite: instance.suite.name.clone(),
        id: instance
            .id
            .split_once("::")
            .map_or(instance.id.clone(), |(_, id)| id.to_owned()),
        title: test.title.clone(),
        requirements: test.requirements.clone(),
        tags: test.tags.clone(),
        outcome: Outcome::Passed,
        measurements: Vec::new(),
        duration: Duration::ZERO,
        log: Vec::new(),
    };
    let started = tokio::time::Instant::now();
    let Some(Pen { vars, limits }) = pen else {
        record.outcome = Outcome::Error {
            message: format!("could not reach the pen ({})", target.describe()),
        };
        return record;
    };
    let Connection { link, env, .. } = match connect(target).await {
        Ok(c) => c,
        Err(e) => {
            record.outcome = Outcome::Error {
                message: e.to_string(),
            };
            return record;
        }
    };
    if let Some(missing) = test.requires.iter().find(|f| !vars.declares(**f)) {
        record.outcome = Outcome::Skipped {
            reason: format!("the pen does not declare the {missing:?} feature"),
        };
        return record;
    }
    if test.needs_env() && env.is_none() {
        record.outcome = Outcome::Skipped {
            reason: "needs the mock's environment channel (force, cartridge or fault injection): run it with --mock, or by hand".into(),
        };
        return record;
    }
    let mut session = Session::new(link, SessionOptions::default());
    if let Some(dir) = captures {
        let file_name = instance
            .id
            .replace("::", "--")
            .replace(['[', ']', '=', '/'], "_")
            + ".capture";
        match std::fs::File::create(dir.join(file_name)) {
            Ok(file) => {
                let unix_us = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as u64);
                let writer: Box<dyn std::io::Write + Send> = Box::new(file);
                if let Ok(c) =
                    CaptureWriter::new(writer, &Header::new(target.describe(), unix_us, None))
                {
                    session.capture_to(c);
                }
            }
            Err(e) => record.log.push(format!("capture not written: {e}")),
        }
    }
    session.set_known_limits(limits.clone());
    let mut vars = vars.clone();
    match instance.point {
        Some((Sweep::Depth, p)) => vars.set("depth", p),
        Some((Sweep::Rate, p)) => {
            vars.set("rate", p);
            vars.set("rate_hz", p / 100.0);
        }
        None => {}
    }
    let mut ctx = Ctx {
        session,
        env,
        vars,
        log: Vec::new(),
        measurements: Vec::new(),
        last_reply: None,
        backlog: Default::default(),
        watchdog_ms: limits.watchdog_timeout_ms,
    };
    let body = tokio::time::timeout(
        TEST_TIMEOUT,
        run_steps(&mut ctx, test, target.is_persistent()),
    )
    .await;
    let mut outcome = match body {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(Stop::Fail(message))) => Outcome::Failed { message },
        Ok(Err(Stop::Error(message))) => Outcome::Error { message },
        Err(_) => Outcome::Failed {
            message: format!("timed out after {TEST_TIMEOUT:?}"),
        },
    };
    // Teardown: the motor stops whatever happened above.
    match ctx.session.stop_motor().await {
        Ok(reply @ Reply::Ack { .. }) => {
            ctx.log.push("teardown: Stop acknowledged".into());
            if let (Some(problem), Outcome::Passed) = (late(&reply), &outcome) {
                outcome = Outcome::Failed {
                    message: format!("teardown: Stop: {problem}"),
                };
            }
        }
        Ok(Reply::Nack { reason, .. }) => {
            ctx.log.push(format!("teardown: Stop refused ({reason:?})"));
            if outcome == Outcome::Passed {
                outcome = Outcome::Failed {
                    message: format!(
                        "teardown: the pen refused Stop ({reason:?}); PROTOCOL.md §7 says Stop is never refused"
                    ),
                };
            }
        }
        Err(SessionError::Disconnected) if matches!(outcome, Outcome::Error { .. }) => {}
        Err(e) => {
            ctx.log.push(format!("teardown: {e}"));
            if outcome == Outcome::Passed {
                outcome = Outcome::Failed {
                    message: format!("teardown: {e}"),
                };
            }
        }
    }
    if outcome == Outcome::Passed
        && let Some(problem) = link_problems(&ctx.session)
    {
        outcome = Outcome::Failed { message: problem };
    }
    record.outcome = outcome;
    record.measurements = ctx.measurements;
    record.log = ctx.log;
    record.duration = started.elapsed();
    record
}

/// A test that could not run because the first handshake failed: a failure
/// of the pen when the pen answered wrongly, an error when nothing answered.
fn unreachable_record(instance: &Instance<'_>, target: &Target, e: &SessionError) -> TestRecord {
    let message = format!("the first handshake with {} failed: {e}", target.describe());
    let outcome = match e {
        SessionError::Handshake(_) | SessionError::Limits(_) | SessionError::NoReply { .. } => {
            Outcome::Failed { message }
        }
        _ => Outcome::Error { message },
    };
    TestRecord {
        suite: instance.suite.name.clone(),
        id: instance
            .id
            .split_once("::")
            .map_or(instance.id.clone(), |(_, id)| id.to_owned()),
        title: instance.test.title.clone(),
        requirements: instance.test.requirements.clone(),
        tags: instance.test.tags.clone(),
        outcome,
        measurements: Vec::new(),
        duration: Duration::ZERO,
        log: Vec::new(),
    }
}

/// The checks every test makes of the link itself.
fn link_problems(session: &Session<Box<dyn Link>>) -> Option<String> {
    let stats = session.link_stats();
    if !stats.decode_errors.is_empty() {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for code in &stats.decode_errors {
            match counts.iter_mut().find(|(c, _)| c == code) {
                Some((_, n)) => *n += 1,
                None => counts.push((code, 1)),
            }
        }
        let list: Vec<String> = counts.iter().map(|(c, n)| format!("{n} × {c}")).collect();
        return Some(format!(
            "frames from the pen failed to decode: {}",
            list.join(", ")
        ));
    }
    if stats.seq_duplicates > 0 {
        return Some(format!(
            "the pen repeated its sequence number {} time(s): it must number every frame anew (PROTOCOL.md §3)",
            stats.seq_duplicates
        ));
    }
    None
}

async fn run_steps(ctx: &mut Ctx, test: &TestCase, persistent: bool) -> Result<(), Stop> {
    if !test.handshake && persistent {
        // A real pen may still hold the previous test's session: stay quiet
        // until its watchdog ends it, so the test starts before any Hello.
        let quiet = Duration::from_millis(u64::from(ctx.watchdog_ms) + 500);
        ctx.log.push(format!(
            "silent {} ms so the pen's watchdog ends any earlier session",
            quiet.as_millis()
        ));
        ctx.session
            .silent(quiet)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
    }
    if test.handshake {
        let h = ctx.session.open().await.map_err(|e| match e {
            SessionError::Disconnected | SessionError::Io(_) => {
                Stop::Error(format!("handshake: {e}"))
            }
            other => Stop::Fail(format!("{other}")),
        })?;
        ctx.log.push(format!(
            "handshake in {:?}: {} {}",
            h.took,
            h.identity.model.as_str(),
            h.identity.firmware.as_str()
        ));
    }
    for step in &test.steps {
        run_step(ctx, step).await?;
    }
    Ok(())
}

fn ms(ctx: &Ctx, step: &Step, value: &toml::Value) -> Result<Duration, Stop> {
    match ctx.vars.fill(value) {
        Ok(toml::Value::Integer(n)) if n >= 0 => Ok(Duration::from_millis(n as u64)),
        Ok(other) => Err(Stop::Error(format!(
            "{}: {other} is not a number of milliseconds",
            step.location
        ))),
        Err(e) => Err(Stop::Error(format!("{}: {e}", step.location))),
    }
}

fn fill<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    step: &Step,
    value: &toml::Value,
) -> Result<T, Stop> {
    let filled = ctx
        .vars
        .fill(value)
        .map_err(|e| Stop::Error(format!("{}: {e}", step.location)))?;
    filled.try_into().map_err(|e: toml::de::Error| {
        Stop::Error(format!("{}: {}", step.location, e.message().trim()))
    })
}

fn describe_message(m: &Message) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| m.msg_type().name().to_owned())
}

async fn run_step(ctx: &mut Ctx, step: &Step) -> Result<(), Stop> {
    let at = &step.location;
    match &step.action {
        Action::Send {
            message,
            expect,
            allow_out_of_limits,
        } => {
            let message: Message = fill(ctx, step, message)?;
            let shown = describe_message(&message);
            ctx.session.options_mut().allow_out_of_limits = *allow_out_of_limits;
            let reply = ctx.session.command(message).await;
            ctx.session.options_mut().allow_out_of_limits = false;
            let reply = reply.map_err(|e| match e {
                SessionError::OutOfLimits { .. } => Stop::Error(format!("{at}: {e}")),
                other => from_session(other, step),
            })?;
            check_reply(ctx, step, &shown, *expect, reply)?;
        }
        Action::SendFrame {
            msg_type,
            payload,
            expect,
        } => {
            let shown = format!(
                "a frame of type {msg_type:#04x} with payload {}",
                hex::encode(payload)
            );
            let reply = ctx
                .session
                .command_frame(*msg_type, payload)
                .await
                .map_err(|e| from_session(e, step))?;
            check_reply(ctx, step, &shown, *expect, reply)?;
        }
        Action::ResendLast { expect } => {
            let reply = ctx
                .session
                .resend_last()
                .await
                .map_err(|e| from_session(e, step))?;
            check_reply(
                ctx,
                step,
                "the last command, resent with its sequence number",
                *expect,
                reply,
            )?;
        }
        Action::Await {
            message_type,
            filter,
            within_ms,
        } => {
            let within = ms(ctx, step, within_ms)?;
            let filter = ctx
                .vars
                .fill(&toml::Value::Table(filter.clone()))
                .map_err(|e| Stop::Error(format!("{at}: {e}")))?;
            let want = serde_json::to_value(&filter).unwrap_or_default();
            let wanted =
                |p: &Packet| p.message.msg_type() == *message_type && fields_match(p, &want);
            if let Some(i) = ctx
                .backlog
                .iter()
                .position(|e| e.result.as_ref().is_ok_and(&wanted))
            {
                let found = ctx.backlog.drain(..=i).next_back();
                if let Some(Inbound { result: Ok(p), .. }) = found {
                    ctx.log.push(format!(
                        "got {} (while waiting)",
                        describe_message(&p.message)
                    ));
                }
                return Ok(());
            }
            ctx.backlog.clear();
            let deadline = tokio::time::Instant::now() + within;
            let mut seen = Vec::new();
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let event = ctx
                    .session
                    .recv(left)
                    .await
                    .map_err(|e| from_session(e, step))?;
                let Some(Inbound {
                    result: Ok(packet), ..
                }) = event
                else {
                    if event.is_none() {
                        let filter_text = if want.as_object().is_some_and(|o| o.is_empty()) {
                            String::new()
                        } else {
                            format!(" with {want}")
                        };
                        return Err(Stop::Fail(format!(
                            "{at}: no {}{filter_text} within {} ms (saw: {})",
                            message_type.name(),
                            within.as_millis(),
                            summarise(&seen)
                        )));
                    }
                    continue;
                };
                if wanted(&packet) {
                    ctx.log
                        .push(format!("got {}", describe_message(&packet.message)));
                    break;
                }
                seen.push(packet.message.msg_type().name());
            }
        }
        Action::Refute {
            message_type,
            for_ms,
        } => {
            let window = ms(ctx, step, for_ms)?;
            let events = ctx
                .session
                .idle(window)
                .await
                .map_err(|e| from_session(e, step))?;
            if let Some(Inbound {
                result: Ok(p),
                at: when,
                ..
            }) = events
                .iter()
                .find(|e| matches!(&e.result, Ok(p) if p.message.msg_type() == *message_type))
            {
                return Err(Stop::Fail(format!(
                    "{at}: {} arrived at {when:?} although none may within {} ms: {}",
                    message_type.name(),
                    window.as_millis(),
                    describe_message(&p.message)
                )));
            }
        }
        Action::Wait(v) | Action::Silent(v) => {
            // Silent: not even heartbeats, as a host that has gone quiet.
            let quiet = matches!(step.action, Action::Silent(_));
            let d = ms(ctx, step, v)?;
            let events = if quiet {
                ctx.session.silent(d).await
            } else {
                ctx.session.idle(d).await
            }
            .map_err(|e| from_session(e, step))?;
            let what = if quiet { "silent for" } else { "waited" };
            ctx.log.push(format!(
                "{what} {} ms: {} frame(s) from the pen",
                d.as_millis(),
                events.len()
            ));
            ctx.backlog.extend(events);
        }
        Action::Env(v) => {
            let command: EnvCommand = fill(ctx, step, v)?;
            let env = ctx
                .env
                .as_mut()
                .ok_or_else(|| Stop::Error(format!("{at}: no environment channel")))?;
            env.send(command.clone())
                .await
                .map_err(|e| Stop::Error(format!("{at}: {e}")))?;
            ctx.log.push(format!("environment: {command:?}"));
            // Let the mock act on it before the next step.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Action::Measure {
            quantity,
            name,
            over_ms,
            limit,
            target_um,
            within_um,
        } => {
            let window = ms(ctx, step, over_ms)?;
            let limit: Limit = fill(ctx, step, limit)?;
            let value = measure(
                ctx,
                step,
                *quantity,
                window,
                target_um.as_ref(),
                within_um.as_ref(),
            )
            .await?;
            let m = Measurement::new(name.clone(), value, quantity.unit(), limit);
            ctx.log.push(m.describe());
            let passed = m.passed;
            let text = m.describe();
            ctx.measurements.push(m);
            if !passed {
                return Err(Stop::Fail(format!("{at}: {text}")));
            }
        }
    }
    Ok(())
}

/// Checks an answer against what the step expects, and the deadline.
fn check_reply(
    ctx: &mut Ctx,
    step: &Step,
    shown: &str,
    expect: ExpectReply,
    reply: Reply,
) -> Result<(), Stop> {
    let at = &step.location;
    ctx.log.push(format!("send {shown}: {reply:?}"));
    ctx.last_reply = Some(reply);
    let ok = match (expect, reply) {
        (ExpectReply::Ack, Reply::Ack { .. }) | (ExpectReply::AnyNack, Reply::Nack { .. }) => true,
        (ExpectReply::Nack(want), Reply::Nack { reason, .. }) => want == reason,
        _ => false,
    };
    if !ok {
        let got = match reply {
            Reply::Ack { .. } => "Ack".to_owned(),
            Reply::Nack { reason, .. } => format!("Nack({reason:?})"),
        };
        let want = match expect {
            ExpectReply::Ack => "Ack".to_owned(),
            ExpectReply::AnyNack => "a Nack".to_owned(),
            ExpectReply::Nack(r) => format!("Nack({r:?})"),
        };
        return Err(Stop::Fail(format!(
            "{at}: {shown} was answered with {got}; expected {want}"
        )));
    }
    if let Some(problem) = late(&reply) {
        return Err(Stop::Fail(format!("{at}: {shown}: {problem}")));
    }
    Ok(())
}

/// `Telemetry ×3, StrikeBatch ×2` for the messages a failed wait saw.
fn summarise(seen: &[&str]) -> String {
    if seen.is_empty() {
        return "nothing".into();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for name in seen {
        match counts.iter_mut().find(|(n, _)| n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(n, k)| {
            if *k == 1 {
                (*n).to_owned()
            } else {
                format!("{n} ×{k}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An answer that missed the deadline, in words: PROTOCOL.md §8 wants every
/// command answered within 50 ms of its last byte, first time.
fn late(reply: &Reply) -> Option<String> {
    let retransmissions = match *reply {
        Reply::Ack {
            retransmissions, ..
        }
        | Reply::Nack {
            retransmissions, ..
        } => retransmissions,
    };
    if retransmissions > 0 {
        Some(format!(
            "no answer within the {} ms deadline; answered only after {retransmissions} retransmission(s) (PROTOCOL.md §8)",
            ACK_DEADLINE.as_millis()
        ))
    } else if reply.latency() > ACK_DEADLINE {
        Some(format!(
            "the answer took {} ms; the deadline is {} ms (PROTOCOL.md §8)",
            reply.latency().as_millis(),
            ACK_DEADLINE.as_millis()
        ))
    } else {
        None
    }
}

fn fields_match(packet: &Packet, want: &serde_json::Value) -> bool {
    let Some(want) = want.as_object() else {
        return true;
    };
    let body = serde_json::to_value(&packet.message).unwrap_or_default();
    // Messages serialise as { "name": { fields } }.
    let fields = body
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or_default();
    want.iter().all(|(k, v)| fields.get(k) == Some(v))
}

async fn measure(
    ctx: &mut Ctx,
    step: &Step,
    quantity: Quantity,
    window: Duration,
    target_um: Option<&toml::Value>,
    within_um: Option<&toml::Value>,
) -> Result<f64, Stop> {
    let number = |ctx: &Ctx, v: Option<&toml::Value>| -> Result<f64, Stop> {
        match v.map(|v| ctx.vars.fill(v)) {
            Some(Ok(toml::Value::Integer(n))) => Ok(n as f64),
            Some(Ok(toml::Value::Float(x))) => Ok(x),
            _ => Err(Stop::Error(format!("{}: needs a number", step.location))),
        }
    };
    if quantity == Quantity::AckLatencyMs {
        let reply = ctx
            .last_reply
            .ok_or_else(|| Stop::Error(format!("{}: no command sent yet", step.location)))?;
        return Ok(reply.latency().as_secs_f64() * 1e3);
    }
    if quantity == Quantity::DepthSettleMs {
        let (target, within) = (number(ctx, target_um)?, number(ctx, within_um)?);
        let start = tokio::time::Instant::now();
        let deadline = start + window;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ctx
                .session
                .recv(left)
                .await
                .map_err(|e| from_session(e, step))?
            {
                None => return Ok(f64::INFINITY),
                Some(Inbound {
                    result:
                        Ok(Packet {
                            message: Message::Telemetry(t),
                            ..
                        }),
                    ..
                }) if (f64::from(t.depth_um) - target).abs() <= within => {
                    return Ok(start.elapsed().as_secs_f64() * 1e3);
                }
                Some(_) => {}
            }
        }
    }
    let events = ctx
        .session
        .idle(window)
        .await
        .map_err(|e| from_session(e, step))?;
    let packets = events.iter().filter_map(|e| e.result.as_ref().ok());
    Ok(match quantity {
        Quantity::StrikeRateHz => {
            let times: Vec<f64> = packets
                .filter_map(|p| match &p.message {
                    Message::StrikeBatch(b) => Some(b),
                    _ => None,
                })
                .flat_map(|b| {
                    b.strikes
                        .iter()
                        .map(move |s| f64::from(b.time_us) + f64::from(s.offset_10us) * 10.0)
                })
                .collect();
            match (times.first(), times.last()) {
                (Some(first), Some(last)) if times.len() > 1 && last > first => {
                    (times.len() - 1) as f64 / ((last - first) / 1e6)
                }
                _ => f64::NAN,
            }
        }
        Quantity::StrikeDepthUm => mean(
            packets
                .filter_map(|p| match &p.message {
                    Message::StrikeBatch(b) => Some(
                        b.strikes
                            .iter()
                            .map(|s| f64::from(s.depth_um))
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten(),
        ),
        Quantity::TelemetryDepthUm => mean(packets.filter_map(|p| match &p.message {
            Message::Telemetry(t) => Some(f64::from(t.depth_um)),
            _ => None,
        })),
        Quantity::AckLatencyMs | Quantity::DepthSettleMs => unreachable!("handled above"),
    })
}

/// The mean, or NaN (which no limit accepts) when there is nothing.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / f64::from(n) }
}
