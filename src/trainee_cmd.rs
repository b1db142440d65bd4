//! `penlab trainee NAME`: a trainee's progress from the sessions
//! `penlab sim --headless --db` recorded: every session, per rubric each
//! skill's trend (first → latest, best) and whether the trainee is
//! certified. Without NAME, the trainees in the history.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use penlab_store::trainee::progress::{Progress, RubricProgress, RuleSource, Status};

use crate::history_cmd::when;
use crate::history_db::{open_existing, print_table};

/// Arguments of `penlab trainee`.
#[derive(Debug, Args)]
pub struct TraineeArgs {
    /// The trainee's name, exactly as given to `penlab sim --trainee`;
    /// without it, the trainees the history has.
    name: Option<String>,
    /// The history database (SQLite), as given to `penlab sim --db`.
    #[arg(long, value_name = "FILE", env = "PENLAB_DB")]
    db: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Passes in a row on one rubric that certify, instead of each
    /// rubric's own `[certification] consecutive_passes` (default 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    consecutive_passes: Option<u32>,
}

/// Prints the progress (exit 0); 2 when the history cannot be read or has
/// no session of the trainee.
pub fn run(args: TraineeArgs) -> anyhow::Result<ExitCode> {
    let (store, path) = open_existing(
        args.db.as_deref(),
        "penlab sim --headless --rubric R --trainee NAME --db FILE",
    )?;
    let Some(name) = args.name.as_deref() else {
        let trainees = store.trainees()?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&trainees)?);
        } else if trainees.is_empty() {
            println!("no trainee sessions in {}", path.display());
        } else {
            let mut rows = vec![vec!["TRAINEE".to_owned(), "SESSIONS".to_owned()]];
            rows.extend(
                trainees
                    .iter()
                    .map(|t| vec![t.trainee.clone(), t.sessions.to_string()]),
            );
            print_table(&rows);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let progress = store
        .progress(name, args.consecutive_passes)
        .with_context(|| path.display().to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&progress)?);
    } else {
        print_progress(&progress, &path.display().to_string());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_progress(p: &Progress, path: &str) {
    let certified: Vec<&str> = p.certified().map(|r| r.rubric.as_str()).collect();
    println!(
        "trainee {}: {} session(s) in {path}; certified on {}",
        p.trainee,
        p.sessions.len(),
        if certified.is_empty() {
            "no rubric yet".to_owned()
        } else {
            certified.join(", ")
        }
    );
    println!();
    let mut rows = vec![
        [
            "SESSION", "DATE", "RUBRIC", "ATTEMPT", "TOTAL", "RESULT", "TRAINER", "DEVICE",
            "SURFACE", "TOOL",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    rows.extend(p.sessions.iter().map(|s| {
        vec![
            s.id.to_string(),
            when(s.started_unix_ms),
            s.rubric.clone(),
            s.attempt.to_string(),
            format!("{:.1}", s.total),
            if s.passed { "pass" } else { "fail" }.into(),
            dash(&s.trainer),
            dash(&s.device),
            s.surface.clone(),
            s.tool.clone(),
        ]
    }));
    print_table(&rows);
    for r in &p.rubrics {
        println!();
        print_rubric(r);
    }
}

fn print_rubric(r: &RubricProgress) {
    let from = match r.rule.from {
        RuleSource::Rubric => "the rubric's rule",
        RuleSource::Override => "--consecutive-passes",
    };
    println!(
        "rubric {} ({}): {} attempt(s), {} passed; certified by {} pass(es) in a row ({from})",
        r.rubric,
        &r.rubric_sha256[..12.min(r.rubric_sha256.len())],
        r.attempts,
        r.passes,
        r.rule.consecutive_passes,
    );
    let mut rows = vec![
        ["SKILL", "FIRST", "LATEST", "BEST"]
            .map(str::to_owned)
            .to_vec(),
    ];
    rows.extend(r.skills.iter().map(|k| {
        vec![
            k.skill.clone(),
            format!("{:.0}", k.first.score),
            format!("{:.0}", k.latest.score),
            format!("{:.0} (attempt {})", k.best.score, k.best.attempt),
        ]
    }));
    print_table(&rows);
    match &r.certification {
        Status::Certified {
            attempt,
            first_attempt,
            session,
            started_unix_ms,
        } => {
            let run = if first_attempt == attempt {
                format!("attempt {attempt} passed")
            } else {
                format!("attempts {first_attempt}–{attempt} passed in a row")
            };
            println!(
                "status: CERTIFIED at attempt {attempt} (session {session}, {}): {run}",
                when(*started_unix_ms)
            );
        }
        Status::NotCertified {
            passes_in_a_row,
            more_needed,
        } => {
            let latest = match passes_in_a_row {
                0 => "the latest attempt failed".to_owned(),
                1 => "the latest attempt passed".to_owned(),
                n => format!("the latest {n} passed in a row"),
            };
            println!(
                "status: not certified: {more_needed} more pass(es) in a row needed ({latest})"
            );
        }
    }
}
