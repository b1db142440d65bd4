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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use interrupt::{Interrupt, InterruptHandle, InterruptState, Signal};
pub use pen::CONNECT_TIMEOUT;
pub use target::Target;

use crate::partition::Partition;
use crate::report::{RunReport, TestRecord};
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
    /// Called as the run goes (see [`RunEvent`]).
    pub on_event: Option<ProgressFn>,
    /// What interrupts the run (never, when `None`).
    pub interrupt: Option<Interrupt>,
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
            let ran = match &unreachable {
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
                        &interrupt,
                    )
                    .await
                }
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
