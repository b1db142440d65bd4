//! Runs scenario suites against a pen and reports what it found.
//!
//! Every test gets a fresh session (a mock pen of its own, or the same real
//! pen after a new `Hello`), runs its steps, and always ends with the motor
//! stopped, whether it passed, failed, panicked, timed out or was
//! interrupted ([`teardown`]). Beyond its own steps, every test also checks
//! the link: frames that fail to decode, repeated sequence numbers, and
//! answers later than the acknowledgement deadline fail it, naming the
//! problem.
//!
//! The runner emits [`RunEvent`]s as it goes and returns a
//! [`RunReport`]; the reporters ([`crate::report`]) are views of them.
//!
//! * [`target`]: what a run is against.
//! * `plan`: which tests, at which sweep points, in which order.
//! * `pen`: opening the pen and the first handshake.
//! * `instance`: one test, from opening the pen to its record.
//! * [`teardown`]: the guard that stops the motor after every test.
//! * [`interrupt`]: Ctrl-C and SIGTERM, across the threads of a bench.

mod instance;
pub mod interrupt;
mod pen;
mod plan;
pub mod target;
pub mod teardown;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use instance::capture_session;
pub use interrupt::{Interrupt, InterruptHandle, InterruptState, Signal};
pub use pen::CONNECT_TIMEOUT;
pub(crate) use pen::{connect, device_info};
pub use target::Target;

use crate::operator::Operator;
use crate::partition::Partition;
use crate::report::{Outcome, RunReport, TestRecord};
use crate::scenario::Suite;

/// Longest a single test may run (virtual time for a mock in virtual time).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How a run behaves.
#[derive(Default)]
pub struct RunOptions {
    /// Write a capture per test into this directory.
    pub capture_dir: Option<PathBuf>,
    /// Write those captures as pcapng (`<test>.pcapng`) instead of JSON lines.
    pub capture_pcapng: bool,
    /// Run only this shard.
    pub partition: Option<Partition>,
    /// Run only tests with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Run only tests whose id (`suite::test`, with its sweep point)
    /// matches one of these globs (`*`, `?`; all when empty).
    pub filters: Vec<String>,
    /// Run a test that did not pass again, up to this many times; one that
    /// passes on a retry is reported flaky.
    pub retries: u32,
    /// Called as the run goes (see [`RunEvent`]).
    pub on_event: Option<ProgressFn>,
    /// What interrupts the run (never, when `None`).
    pub interrupt: Option<Interrupt>,
    /// Who carries out the environment steps on a pen without an
    /// environment channel (they are skipped without one).
    pub operator: Option<Arc<dyn Operator>>,
    /// The operator's name, for the reports.
    pub operator_name: Option<String>,
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
    /// The run stopped early: `count` planned tests will not run.
    NotRun {
        /// How many.
        count: usize,
        /// Why (`interrupted by SIGINT`).
        reason: &'a str,
    },
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

/// The runtime a run on `target` runs on: one thread, on the paused clock
/// (virtual time) for an in-process pen that asks for it.
pub(crate) fn runtime_for(target: &Target) -> Result<tokio::runtime::Runtime, RunError> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if target.virtual_time && target.transport.is_in_process() {
        builder.start_paused(true);
    }
    builder.build().map_err(RunError::Runtime)
}

/// A test as `penlab test --list` shows it: what would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `suite::test`, with `[depth=*]` or `[rate=*]` for a swept test (its
    /// points come from the pen).
    pub id: String,
    /// What it checks.
    pub title: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Whether it needs the mock's environment channel (or an operator).
    pub needs_env: bool,
}

/// The tests a run with these filters would run, in order, without
/// reaching a pen (so sweeps are not expanded).
pub fn list(
    suites: &[Suite],
    tags: &[String],
    filters: &[String],
    partition: Option<Partition>,
) -> Vec<Listed> {
    plan::plan(suites, None, tags, filters, partition)
        .into_iter()
        .map(|i| Listed {
            id: match i.test.sweep {
                Some(crate::scenario::Sweep::Depth) => format!("{}[depth=*]", i.id),
                Some(crate::scenario::Sweep::Rate) => format!("{}[rate=*]", i.id),
                None => i.id.clone(),
            },
            title: i.test.title.clone(),
            tags: i.test.tags.clone(),
            needs_env: i.test.needs_env(),
        })
        .collect()
}

/// Runs `suites` against `target`. An interrupted run returns the report
/// of what ran (the test it cut short recorded as an error).
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
    let runtime = runtime_for(target)?;
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut report = RunReport {
        tool: format!("penlab {}", env!("CARGO_PKG_VERSION")),
        target: target.describe(),
        device: None,
        started_unix_ms,
        partition: options.partition.map(|p| p.to_string()),
        operator: options.operator_name.clone(),
        tests: Vec::new(),
    };
    let interrupt = options.interrupt.take().unwrap_or_else(Interrupt::never);
    let mut emit = |event: RunEvent<'_>| {
        if let Some(cb) = options.on_event.as_mut() {
            cb(event);
        }
    };
    runtime.block_on(async {
        // Sweeps need the pen's limits: ask once, up front.
        let (pen, unreachable) = match pen::probe(target, &interrupt).await {
            Ok((device, pen)) => {
                report.device = Some(device);
                (Some(pen), None)
            }
            Err(e) => (None, Some(e)),
        };
        let instances = plan::plan(
            suites,
            pen.as_ref().map(|p| &p.vars),
            &options.tags,
            &options.filters,
            options.partition,
        );
        emit(RunEvent::Planned(instances.len()));
        for (i, instance) in instances.iter().enumerate() {
            if let Some(signal) = interrupt.signal() {
                let reason = format!("interrupted by {signal}");
                emit(RunEvent::NotRun {
                    count: instances.len() - i,
                    reason: &reason,
                });
                break;
            }
            emit(RunEvent::Started(&instance.id));
            let mut earlier = Vec::new();
            let ran = loop {
                let mut ran = match &unreachable {
                    Some(e) => instance::Ran {
                        record: instance::unreachable_record(instance, target, e),
                        abort: None,
                    },
                    None => {
                        instance::run_instance(
                            instance,
                            target,
                            pen.as_ref(),
                            options.capture_dir.as_deref(),
                            options.capture_pcapng,
                            options.operator.as_ref(),
                            &interrupt,
                        )
                        .await
                    }
                };
                let retry = matches!(
                    ran.record.outcome,
                    Outcome::Failed { .. } | Outcome::Error { .. }
                ) && ran.abort.is_none()
                    && unreachable.is_none()
                    && interrupt.signal().is_none()
                    && (earlier.len() as u32) < options.retries;
                if !retry {
                    ran.record.flaky = ran.record.outcome == Outcome::Passed && !earlier.is_empty();
                    ran.record.earlier_tries = earlier;
                    break ran;
                }
                earlier.push(ran.record.outcome);
            };
            emit(RunEvent::Finished(&ran.record));
            report.tests.push(ran.record);
            if let Some(reason) = ran.abort {
                let left = instances.len() - i - 1;
                if left > 0 {
                    emit(RunEvent::NotRun {
                        count: left,
                        reason: &reason,
                    });
                }
                break;
            }
        }
    });
    Ok(report)
}
