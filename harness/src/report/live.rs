//! Live output, as the run's events come: a progress bar on a terminal
//! (standard error) and a line per finished test on standard output
//! (`PASS`; `MARGINAL` with the measurements near their limits; `FAIL` with
//! the step's `file:line:column` and what was wrong; `SKIP` with why),
//! coloured unless colours are off (`console`); then a summary line per run.

use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Outcome, RunReport};
use crate::runner::{ProgressFn, RunEvent};

/// The live reporter of one run; `label` (a bench's pen) prefixes its
/// lines when several runs share the output.
pub fn reporter(label: Option<String>) -> ProgressFn {
    let bar = ProgressBar::hidden();
    let prefix = label.map(|l| format!("[{l}] ")).unwrap_or_default();
    Box::new(move |event| match event {
        RunEvent::Planned(n) => {
            if console::Term::stderr().is_term() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
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
                Outcome::Passed if record.flaky => format!(
                    "{} {id} ({ms:.0} ms): passed on try {} of {}; before: {}",
                    style("FLAKY").magenta().bold(),
                    record.earlier_tries.len() + 1,
                    record.earlier_tries.len() + 1,
                    record
                        .earlier_tries
                        .iter()
                        .map(|o| match o {
                            Outcome::Failed { message } | Outcome::Error { message } => {
                                message.as_str()
                            }
                            _ => "",
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Outcome::Passed if record.is_marginal() => {
                    let what: Vec<String> = record
                        .marginal_measurements()
                        .map(|m| m.describe())
                        .collect();
                    format!(
                        "{} {id} ({ms:.0} ms): {}",
                        style("MARGINAL").yellow().bold(),
                        what.join("; ")
                    )
                }
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
        RunEvent::NotRun { count, reason } => {
            bar.finish_and_clear();
            println!(
                "{prefix}{} {count} test(s) not run: {reason}",
                style("STOP").red().bold()
            );
        }
    })
}

/// `TARGET (MODEL FIRMWARE s/n SERIAL): N passed, N failed, N skipped, N error(s)`,
/// with `(N marginal)` after the passes when some were.
pub fn summary(report: &RunReport) -> String {
    let t = report.totals();
    let device = report
        .device
        .as_ref()
        .map(|d| format!(" ({} {} s/n {})", d.model, d.firmware, d.serial))
        .unwrap_or_default();
    let marginal = if t.marginal > 0 {
        format!(" ({} marginal)", t.marginal)
    } else {
        String::new()
    };
    let flaky = if t.flaky > 0 {
        format!(" ({} flaky)", t.flaky)
    } else {
        String::new()
    };
    let operator = report
        .operator
        .as_ref()
        .map(|o| format!(" [operator {o}]"))
        .unwrap_or_default();
    format!(
        "{}{device}{operator}: {} passed{marginal}{flaky}, {} failed, {} skipped, {} error(s)",
        report.target, t.passed, t.failed, t.skipped, t.errors
    )
}
