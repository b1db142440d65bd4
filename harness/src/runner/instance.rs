//! One test at one sweep point, from opening the pen to its record: skips,
//! the capture, the body under a [`MotorGuard`], the teardown's verdict and
//! the checks every test makes of the link.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use penlab_host::capture::{CaptureWriter, Header};
use penlab_host::limits::PenLimits;
use penlab_host::session::{Reply, Session, SessionError, SessionOptions};
use penlab_host::transport::{Connection, Link};

use super::TEST_TIMEOUT;
use super::interrupt::Interrupt;
use super::pen::{Pen, Unreachable, connect};
use super::plan::Instance;
use super::target::Target;
use super::teardown::{BodyEnd, MotorGuard, TeardownEnd, panic_message};
use crate::operator::Operator;
use crate::report::{Outcome, TestRecord};
use crate::scenario::TestCase;
use crate::steps::{Step, StepError, StepFuture, TestCtx, late};
use crate::transcript::{Transcript, frames, rules};

/// How the harness's sessions behave: a command is retransmitted only once
/// the host-side deadline (50 ms and the link allowance) has passed
/// (R-HOST-3).
pub(crate) fn host_options() -> SessionOptions {
    SessionOptions {
        ack_deadline: penlab_protocol::timing::ACK_DEADLINE
            + penlab_protocol::timing::HOST_LINK_ALLOWANCE,
        ..SessionOptions::default()
    }
}

/// A test's record, and why the run must not go on after it, if so.
pub(crate) struct Ran {
    pub record: TestRecord,
    pub abort: Option<String>,
}

fn blank_record(instance: &Instance<'_>) -> TestRecord {
    let test = instance.test;
    TestRecord {
        suite: instance.suite.name.clone(),
        id: instance.test_id(),
        title: test.title.clone(),
        requirements: test.requirements.clone(),
        tags: test.tags.clone(),
        outcome: Outcome::Passed,
        measurements: Vec::new(),
        duration: Duration::ZERO,
        wall_duration: Duration::ZERO,
        virtual_time: false,
        earlier_tries: Vec::new(),
        flaky: false,
        log: Vec::new(),
    }
}

/// Runs one test.
pub(crate) async fn run_instance(
    instance: &Instance<'_>,
    target: &Target,
    pen: Option<&Pen>,
    captures: Option<&Path>,
    pcapng: bool,
    operator: Option<&Arc<dyn Operator>>,
    interrupt: &Interrupt,
) -> Ran {
    let test = instance.test;
    let mut record = blank_record(instance);
    let ran = |record| Ran {
        record,
        abort: None,
    };
    let started = tokio::time::Instant::now();
    let wall = std::time::Instant::now();
    record.virtual_time = target.virtual_time && target.transport.is_in_process();
    let Some(Pen { vars, limits }) = pen else {
        record.outcome = Outcome::Error {
            message: format!("could not reach the pen ({})", target.describe()),
        };
        return ran(record);
    };
    let Connection { link, env, .. } = match connect(target).await {
        Ok(c) => c,
        Err(e) => {
            record.outcome = Outcome::Error {
                message: e.to_string(),
            };
            return ran(record);
        }
    };
    if let Some(missing) = test.requires.iter().find(|f| !vars.declares(**f)) {
        record.outcome = Outcome::Skipped {
            reason: format!("the pen does not declare the {missing:?} feature"),
        };
        return ran(record);
    }
    if test.needs_env() && env.is_none() && operator.is_none() {
        record.outcome = Outcome::Skipped {
            reason: "needs the mock's environment channel (force, cartridge or fault injection) or an operator: run it with --mock, or at a terminal without --no-prompts".into(),
        };
        return ran(record);
    }
    // Every byte both ways, for the rules every test is held to.
    let transcript = Transcript::new();
    let link = transcript.tee(link);
    let mut session = Session::new(link, host_options());
    if let Some(dir) = captures {
        capture_into(&mut session, dir, pcapng, instance, target, &mut record.log);
    }
    session.set_known_limits(limits.clone());
    let mut vars = vars.clone();
    vars.set_sweep_point(instance.point);
    let body = TestBody {
        test,
        persistent: target.is_persistent(),
        watchdog_ms: limits.watchdog_timeout_ms,
        limits,
    };
    let mut ctx = TestCtx::new(session, env, vars);
    ctx.transcript = Some(transcript.clone());
    ctx.operator = operator.cloned();
    let guarded = MotorGuard::new(ctx, interrupt, TEST_TIMEOUT)
        .run(&body)
        .await;
    let mut ctx = guarded.ctx;
    let (mut outcome, interrupted) = match guarded.body {
        BodyEnd::Finished(Ok(())) => (Outcome::Passed, None),
        BodyEnd::Finished(Err(StepError::Fail(message))) => (Outcome::Failed { message }, None),
        BodyEnd::Finished(Err(StepError::Error(message))) => (Outcome::Error { message }, None),
        BodyEnd::TimedOut(after) => (
            Outcome::Failed {
                message: format!("timed out after {after:?}"),
            },
            None,
        ),
        BodyEnd::Panicked(m) => (
            Outcome::Error {
                message: format!("the test panicked: {m}"),
            },
            None,
        ),
        BodyEnd::Interrupted(signal) => (
            Outcome::Error {
                message: format!("interrupted by {signal}"),
            },
            Some(signal),
        ),
    };
    let mut abort = interrupted.map(|signal| format!("interrupted by {signal}"));
    let said = match guarded.teardown {
        TeardownEnd::Answered(reply @ Reply::Ack { .. }) => {
            if let (Some(problem), Outcome::Passed) = (late(&reply), &outcome) {
                outcome = Outcome::Failed {
                    message: format!("teardown: Stop: {problem}"),
                };
            }
            Some("teardown: Stop acknowledged".to_owned())
        }
        TeardownEnd::Answered(Reply::Nack { reason, .. }) => {
            if outcome == Outcome::Passed {
                outcome = Outcome::Failed {
                    message: format!(
                        "teardown: the pen refused Stop ({reason:?}); PROTOCOL.md §7 says Stop is never refused"
                    ),
                };
            }
            Some(format!("teardown: Stop refused ({reason:?})"))
        }
        TeardownEnd::Unconfirmed(u)
            if matches!(u.error, SessionError::Disconnected)
                && matches!(outcome, Outcome::Error { .. }) =>
        {
            None
        }
        TeardownEnd::Unconfirmed(u) => {
            let said = format!("teardown: {u}");
            if let SessionError::Stalled { .. } = u.error {
                // The link carries nothing: no verdict on the pen, and no
                // further test on it.
                outcome = Outcome::Error {
                    message: match outcome {
                        Outcome::Passed => said.clone(),
                        Outcome::Failed { message } | Outcome::Error { message } => {
                            format!("{message}; {said}")
                        }
                        Outcome::Skipped { reason } => reason,
                    },
                };
                abort = Some("the link to the pen stalled and Stop was not acknowledged".into());
            } else if outcome == Outcome::Passed {
                outcome = Outcome::Failed {
                    message: said.clone(),
                };
            }
            Some(said)
        }
        TeardownEnd::Forced { signal, sent } => {
            abort = Some(format!("interrupted by {signal}"));
            Some(match sent {
                Ok(()) => {
                    "teardown: a second signal: Stop sent, not waiting for its Ack".to_owned()
                }
                Err(e) => format!("teardown: a second signal: Stop could not be sent: {e}"),
            })
        }
    };
    if let Some(said) = said {
        if interrupted.is_some()
            && let Outcome::Error { message } = &mut outcome
        {
            message.push_str(&format!("; {said}"));
        }
        ctx.log.push(said);
    }
    if outcome == Outcome::Passed
        && let Some(problem) = link_problems(&ctx.session)
    {
        outcome = Outcome::Failed { message: problem };
    }
    let broken = rules::check(&frames(&transcript), transcript.now());
    for v in &broken {
        ctx.log.push(format!("rule broken: {v}"));
    }
    if outcome == Outcome::Passed
        && let Some(first) = broken.first()
    {
        let more = match broken.len() {
            1 => String::new(),
            n => format!(" (and {} more in the log)", n - 1),
        };
        outcome = Outcome::Failed {
            message: format!("{first}{more}"),
        };
    }
    record.outcome = outcome;
    record.measurements = ctx.measurements;
    record.log = ctx.log;
    record.duration = started.elapsed();
    record.wall_duration = wall.elapsed();
    Ran { record, abort }
}

/// Starts a capture of the session in `dir`, one file per test, as JSON
/// lines or as pcapng.
fn capture_into(
    session: &mut Session<Box<dyn Link>>,
    dir: &Path,
    pcapng: bool,
    instance: &Instance<'_>,
    target: &Target,
    log: &mut Vec<String>,
) {
    let file_name = instance
        .id
        .replace("::", "--")
        .replace(['[', ']', '=', '/'], "_")
        + if pcapng { ".pcapng" } else { ".capture" };
    if let Err(e) = capture_session(session, &dir.join(file_name), target, pcapng) {
        log.push(format!("capture not written: {e}"));
    }
}

/// Records every byte of `session` into a capture file at `path`.
pub(crate) fn capture_session(
    session: &mut Session<Box<dyn Link>>,
    path: &Path,
    target: &Target,
    pcapng: bool,
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let writer: Box<dyn std::io::Write + Send> = Box::new(file);
    let header = Header::new(target.describe(), unix_us, None);
    let capture = if pcapng {
        CaptureWriter::pcapng(writer, &header)?
    } else {
        CaptureWriter::new(writer, &header)?
    };
    session.capture_to(capture);
    Ok(())
}

/// A test that could not run because the first handshake failed: a failure
/// of the pen when the pen answered wrongly, an error when nothing answered.
pub(crate) fn unreachable_record(
    instance: &Instance<'_>,
    target: &Target,
    e: &Unreachable,
) -> TestRecord {
    let mut record = blank_record(instance);
    let failed = |m: &str| format!("the first handshake with {} failed: {m}", target.describe());
    record.outcome = match e {
        StepError::Fail(m) => Outcome::Failed { message: failed(m) },
        StepError::Error(m) => Outcome::Error { message: failed(m) },
    };
    record
}

/// A test's steps, after the handshake (or the silence before a test that
/// starts without one).
#[derive(Debug)]
struct TestBody<'t> {
    test: &'t TestCase,
    persistent: bool,
    watchdog_ms: u16,
    /// What the first handshake declared: every later one must declare the
    /// same (R-MSG-5).
    limits: &'t PenLimits,
}

impl Step for TestBody<'_> {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let test = self.test;
            if !test.handshake && self.persistent {
                // A real pen may still hold the previous test's session: stay
                // quiet until its watchdog ends it, so the test starts before
                // any Hello.
                let quiet = Duration::from_millis(u64::from(self.watchdog_ms) + 500);
                cx.log.push(format!(
                    "silent {} ms so the pen's watchdog ends any earlier session",
                    quiet.as_millis()
                ));
                cx.session
                    .silent(quiet)
                    .await
                    .map_err(|e| StepError::Error(e.to_string()))?;
            }
            if test.handshake {
                let h = cx.session.open().await.map_err(|e| match e {
                    SessionError::Disconnected
                    | SessionError::Io(_)
                    | SessionError::Stalled { .. } => StepError::Error(format!("handshake: {e}")),
                    other => StepError::Fail(format!("{other}")),
                })?;
                if h.limits != *self.limits {
                    return Err(StepError::Fail(format!(
                        "R-MSG-5: the pen declared other Capabilities than at the first handshake ({:?}, then {:?}); they never change while it is powered",
                        self.limits, h.limits
                    )));
                }
                cx.last_set_point = Some(tokio::time::Instant::now());
                cx.log.push(format!(
                    "handshake in {:?}: {} {}",
                    h.took,
                    h.identity.model.as_str(),
                    h.identity.firmware.as_str()
                ));
            }
            for step in &test.steps {
                // A panic in a step is that step's error; the guard's
                // teardown follows as after any other.
                match AssertUnwindSafe(step.step.run(cx)).catch_unwind().await {
                    Ok(done) => done.map_err(|e| e.at(&step.location))?,
                    Err(panic) => {
                        return Err(StepError::Error(format!(
                            "{}: the step panicked: {}",
                            step.location,
                            panic_message(&*panic)
                        )));
                    }
                }
            }
            Ok(())
        })
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
