//! `penlab test`: run conformance scenarios against a pen (real or mock)
//! and report them as CI systems expect.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use console::style;
use indicatif::{ProgressBar, ProgressStyle};
use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::profile::Profile;
use penlab_harness::partition::Partition;
use penlab_harness::report::{Outcome, RunReport};
use penlab_harness::runner::{self, RunEvent, RunOptions, Target};
use penlab_harness::scenario::{load_suites, shipped_suite_dir};
use penlab_host::transport::Transport;

/// Arguments of `penlab test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files or directories (default: the shipped conformance
    /// suite, harness/conformance).
    paths: Vec<PathBuf>,
    /// Run against a mock pen in process with this profile (name or file).
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["port", "tcp"])]
    mock: Option<String>,
    /// Run against the pen on this port: a serial path, `usb:VID:PID[:SERIAL]`,
    /// `socket://HOST:PORT` or `rfc2217://HOST:PORT`; repeat for a bench of
    /// pens (they run at once).
    #[arg(long, value_name = "PORT")]
    port: Vec<String>,
    /// Line speed for UART bridges (USB CDC-ACM pens ignore it).
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Run against a pen (or `penlab mock --tcp`) at this address.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "port")]
    tcp: Option<String>,
    /// With --mock: plant this bug (repeatable), to see the suite catch it.
    #[arg(long, value_name = "NAME", requires = "mock")]
    bug: Vec<PlantedBug>,
    /// With --mock: seed of its random draws.
    #[arg(long, default_value_t = 1, requires = "mock")]
    seed: u64,
    /// With --mock: run in real time instead of on the virtual clock.
    #[arg(long, requires = "mock")]
    real_time: bool,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the JSON record (device, measurements, traceability) here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a capture of every test's bytes into this directory.
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
    /// Run one shard: hash:K/N or count:K/N.
    #[arg(long, value_name = "SPEC")]
    partition: Option<Partition>,
    /// Run only tests with this tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
}

/// Runs the suites; exit code 0 all passed, 1 a test failed, 2 a test could
/// not be carried out (or bad usage).
pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![shipped_suite_dir()]
    } else {
        args.paths.clone()
    };
    let suites = load_suites(&paths)?;
    let targets = targets(&args)?;
    let options = |label: Option<String>| -> RunOptions {
        RunOptions {
            capture_dir: args.capture.clone(),
            partition: args.partition,
            tags: args.tag.clone(),
            on_event: Some(progress(label)),
        }
    };
    let reports: Vec<RunReport> = if targets.len() == 1 {
        vec![runner::run(&suites, &targets[0], options(None))?]
    } else {
        // A bench of pens: one thread each, at once.
        std::thread::scope(|scope| {
            let handles: Vec<_> = targets
                .iter()
                .map(|t| {
                    let opts = options(Some(t.describe()));
                    let suites = &suites;
                    scope.spawn(move || runner::run(suites, t, opts))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("a runner thread panicked"))?
                        .map_err(Into::into)
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })?
    };
    write_outputs(&args, &reports)?;
    let mut code = 0;
    for report in &reports {
        let t = report.totals();
        let device = report
            .device
            .as_ref()
            .map(|d| format!(" ({} {} s/n {})", d.model, d.firmware, d.serial))
            .unwrap_or_default();
        println!(
            "{}{device}: {} passed, {} failed, {} skipped, {} error(s)",
            report.target, t.passed, t.failed, t.skipped, t.errors
        );
        code = code.max(report.exit_code());
    }
    Ok(ExitCode::from(code))
}

fn targets(args: &TestArgs) -> anyhow::Result<Vec<Target>> {
    if let Some(profile) = &args.mock {
        let loaded = Profile::load(profile).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(vec![Target::mock(
            loaded,
            profile,
            args.bug.iter().copied().collect::<BugSet>(),
            args.seed,
            !args.real_time,
        )]);
    }
    if let Some(addr) = &args.tcp {
        return Ok(vec![Target::new(Transport::tcp(addr.clone()))]);
    }
    if !args.port.is_empty() {
        return args
            .port
            .iter()
            .map(|p| {
                let transport = Transport::for_port(p, args.baud)?;
                transport.check()?;
                Ok(Target::new(transport))
            })
            .collect();
    }
    bail!("say what to test: --mock PROFILE, --port PATH or --tcp HOST:PORT")
}

/// Live output: a progress bar on a terminal, one line a finished test.
fn progress(label: Option<String>) -> runner::ProgressFn {
    let bar = ProgressBar::hidden();
    let prefix = label.map(|l| format!("[{l}] ")).unwrap_or_default();
    Box::new(move |event| match event {
        RunEvent::Planned(n) => {
            if console::Term::stderr().is_term() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(n as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        RunEvent::Started(id) => bar.set_message(id.to_owned()),
        RunEvent::Finished(record) => {
            let id = format!("{}::{}", record.suite, record.id);
            let ms = record.duration.as_secs_f64() * 1e3;
            let line = match &record.outcome {
                Outcome::Passed => format!("{} {id} ({ms:.0} ms)", style("PASS").green()),
                Outcome::Skipped { reason } => format!("{} {id}: {reason}", style("SKIP").yellow()),
                Outcome::Failed { message } => {
                    format!("{} {id}: {message}", style("FAIL").red().bold())
                }
                Outcome::Error { message } => {
                    format!("{} {id}: {message}", style("ERROR").red().bold())
                }
            };
            bar.suspend(|| println!("{prefix}{line}"));
            bar.inc(1);
            if bar.position() == bar.length().unwrap_or(0) {
                bar.finish_and_clear();
            }
        }
    })
}

fn write_outputs(args: &TestArgs, reports: &[RunReport]) -> anyhow::Result<()> {
    if let Some(path) = &args.junit {
        let mut merged = quick_junit::Report::new("penlab");
        for report in reports {
            let mut junit = report.to_junit();
            if reports.len() > 1 {
                for suite in &mut junit.test_suites {
                    suite.name = format!("{} :: {}", report.target, suite.name.as_str()).into();
                }
            }
            merged.add_test_suites(junit.test_suites);
        }
        let xml = merged.to_string().context("writing JUnit XML")?;
        std::fs::write(path, xml).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        let value = match reports {
            [one] => one.to_json(),
            many => {
                serde_json::json!({ "runs": many.iter().map(RunReport::to_json).collect::<Vec<_>>() })
            }
        };
        let text = serde_json::to_string_pretty(&value).context("writing JSON")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
