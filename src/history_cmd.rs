//! `penlab history`: the runs in a history database, by device serial and
//! firmware, and `penlab history diff A B`: what changed between two runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, Subcommand};
use penlab_store::diff::RunDiff;
use penlab_store::{RunFilter, RunSummary, Store, StoredRun};

use crate::history_db::{open_existing, print_table};

/// Arguments of `penlab history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history database (SQLite), as given to `penlab test --db`.
    #[arg(long, value_name = "FILE", env = "PENLAB_DB", global = true)]
    db: Option<PathBuf>,
    /// Only runs of the pen with this serial number.
    #[arg(long, value_name = "SERIAL")]
    serial: Option<String>,
    /// Only runs of this firmware version.
    #[arg(long, value_name = "VERSION")]
    firmware: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Option<HistoryAction>,
}

#[derive(Debug, Subcommand)]
enum HistoryAction {
    /// The tests whose verdict changed from run A to run B and the
    /// measurements that moved by more than their limit's tolerance; exit
    /// code 0 when nothing did, 1 when something did.
    Diff {
        /// The earlier run's id (from `penlab history`).
        run_a: i64,
        /// The later run's id.
        run_b: i64,
    },
}

/// Lists runs (exit 0) or diffs two (0 the same, 1 changed); 2 when the
/// database cannot be read or a run is not in it.
pub fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let (store, path) = open_existing(args.db.as_deref(), "penlab test --db FILE")?;
    match args.action {
        None => list(&store, path, &args),
        Some(HistoryAction::Diff { run_a, run_b }) => diff(&store, run_a, run_b, args.json),
    }
}

/// Columns of the `penlab history` table.
const COLUMNS: usize = 13;

fn list(store: &Store, path: &Path, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let runs = store.runs(&RunFilter {
        serial: args.serial.clone(),
        firmware: args.firmware.clone(),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        println!("no runs in {} match", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        [
            "RUN", "STARTED", "SERIAL", "FIRMWARE", "MODEL", "PASSED", "MARGINAL", "FLAKY",
            "FAILED", "SKIPPED", "ERRORS", "OPERATOR", "TARGET",
        ]
        .map(str::to_owned),
    ];
    rows.extend(runs.iter().map(row));
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}

fn row(r: &RunSummary) -> [String; COLUMNS] {
    let device = |f: fn(&penlab_store::Device) -> &str| {
        r.device
            .as_ref()
            .map_or("-".to_owned(), |d| f(d).to_owned())
    };
    [
        r.id.to_string(),
        when(r.started_unix_ms),
        device(|d| &d.serial),
        device(|d| &d.firmware),
        device(|d| &d.model),
        r.counts.passed.to_string(),
        r.counts.marginal.to_string(),
        r.counts.flaky.to_string(),
        r.counts.failed.to_string(),
        r.counts.skipped.to_string(),
        r.counts.errors.to_string(),
        r.operator.clone().unwrap_or_else(|| "-".into()),
        r.target.clone(),
    ]
}

/// `2026-12-03T13:40:01Z`.
pub(crate) fn when(unix_ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(unix_ms)).to_string()
}

fn diff(store: &Store, a: i64, b: i64, json: bool) -> anyhow::Result<ExitCode> {
    let (run_a, run_b) = (store.run(a)?, store.run(b)?);
    let d = penlab_store::diff::diff(&run_a.run, &run_b.run);
    let code = if d.is_same() { 0 } else { 1 };
    if json {
        let value = serde_json::json!({
            "a": a, "b": b, "same": d.is_same(),
            "verdicts": d.verdicts, "moved": d.moved, "scenarios": d.scenarios,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).context("the diff as JSON")?
        );
    } else {
        print_diff(&run_a, &run_b, &d);
    }
    Ok(ExitCode::from(code))
}

/// A measured value to 3 decimals at most: `1501.902`, `250`.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn describe(run: &StoredRun) -> String {
    let device = run.run.device.as_ref().map_or("no device".to_owned(), |d| {
        format!("{} firmware {} serial {}", d.model, d.firmware, d.serial)
    });
    format!(
        "run {} ({device}, {})",
        run.id,
        when(run.run.started_unix_ms)
    )
}

fn print_diff(a: &StoredRun, b: &StoredRun, d: &RunDiff) {
    println!("{} → {}", describe(a), describe(b));
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not run)".into());
    if !d.verdicts.is_empty() {
        println!("verdicts changed:");
        for c in &d.verdicts {
            println!(
                "  {}::{}: {} → {}",
                c.suite,
                c.test,
                shown(&c.before),
                shown(&c.after)
            );
        }
    }
    if !d.moved.is_empty() {
        println!("measurements moved by more than their tolerance:");
        for m in &d.moved {
            println!(
                "  {}::{} {}: {} → {} {} (moved {}, tolerance {}; limit {}; {} → {})",
                m.suite,
                m.test,
                m.name,
                num(m.before),
                num(m.after),
                m.unit,
                num((m.after - m.before).abs()),
                num(m.tolerance),
                m.limit,
                m.verdicts.0,
                m.verdicts.1
            );
        }
    }
    for s in &d.scenarios {
        println!(
            "scenario file changed: {} ({} → {})",
            s.path,
            &s.before[..12.min(s.before.len())],
            &s.after[..12.min(s.after.len())]
        );
    }
    if d.is_same() {
        println!("no verdict changed and no measurement moved beyond its tolerance");
    } else {
        println!(
            "{} verdict(s) changed, {} measurement(s) moved",
            d.verdicts.len(),
            d.moved.len()
        );
    }
}
