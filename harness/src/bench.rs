//! A whole `penlab test`: suites against one pen or a bench of pens at
//! once, live output, the JUnit and JSON reports, and the exit code.

use std::path::PathBuf;

use crate::operator::Terminal;
use crate::partition::Partition;
use crate::report::{RunReport, json, junit, live};
use crate::runner::{self, Interrupt, RunError, RunOptions, Target};
use crate::scenario::Suite;

/// How a bench runs and what it writes.
#[derive(Debug, Default, Clone)]
pub struct BenchOptions {
    /// Write a capture per test into this directory.
    pub capture_dir: Option<PathBuf>,
    /// Write those captures as pcapng (`<test>.pcapng`) instead of JSON lines.
    pub capture_pcapng: bool,
    /// Run only this shard.
    pub partition: Option<Partition>,
    /// Run only tests with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Run only tests whose id matches one of these globs (all when empty).
    pub filters: Vec<String>,
    /// Run a test that did not pass again up to this many times (flaky if
    /// it then passes).
    pub retries: u32,
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Write the JSON record here.
    pub json: Option<PathBuf>,
    /// What interrupts the runs (Ctrl-C, SIGTERM).
    pub interrupt: Option<Interrupt>,
    /// Ask an operator at this terminal to carry out environment steps on
    /// pens without an environment channel (only with a terminal).
    pub prompts: bool,
    /// The operator's name, recorded in the reports.
    pub operator: Option<String>,
}

/// Why a bench could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A run could not start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A run's thread panicked.
    #[error("a runner thread panicked")]
    Panicked,
    /// A report could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The report.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a bench found.
#[derive(Debug)]
pub struct BenchEnd {
    /// One report per target, in the order given.
    pub reports: Vec<RunReport>,
    /// 0 all passed, 1 a test failed, 2 a test could not be carried out;
    /// 130 or 143 when SIGINT or SIGTERM interrupted it.
    pub exit_code: u8,
}

/// Runs `suites` on every target (at once, one thread each, when there are
/// several), with live output; writes the reports and a summary line per
/// target.
pub fn run(
    suites: &[Suite],
    targets: &[Target],
    options: &BenchOptions,
) -> Result<BenchEnd, BenchError> {
    // One terminal for the whole bench.
    let operator = if options.prompts {
        Terminal::attach()
    } else {
        None
    };
    let run_options = |label: Option<String>| RunOptions {
        operator: operator.clone(),
        operator_name: options.operator.clone(),
        capture_dir: options.capture_dir.clone(),
        capture_pcapng: options.capture_pcapng,
        partition: options.partition,
        tags: options.tags.clone(),
        filters: options.filters.clone(),
        retries: options.retries,
        on_event: Some(live::reporter(label)),
        interrupt: options.interrupt.clone(),
    };
    let reports: Vec<RunReport> = match targets {
        [one] => vec![runner::run(suites, one, run_options(None))?],
        many => std::thread::scope(|scope| {
            let handles: Vec<_> = many
                .iter()
                .map(|t| {
                    let opts = run_options(Some(t.describe()));
                    scope.spawn(move || runner::run(suites, t, opts))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| BenchError::Panicked)?
                        .map_err(Into::into)
                })
                .collect::<Result<Vec<_>, BenchError>>()
        })?,
    };
    let written = |path: &PathBuf, result: std::io::Result<()>| {
        result.map_err(|source| BenchError::Write {
            path: path.clone(),
            source,
        })
    };
    if let Some(path) = &options.junit {
        written(path, junit::write(path, &reports))?;
    }
    if let Some(path) = &options.json {
        written(path, json::write(path, &reports))?;
    }
    let mut exit_code = 0;
    for report in &reports {
        println!("{}", live::summary(report));
        exit_code = exit_code.max(report.exit_code());
    }
    if let Some(signal) = options.interrupt.as_ref().and_then(Interrupt::signal) {
        exit_code = signal.exit_code();
    }
    Ok(BenchEnd { reports, exit_code })
}
