//! `penlab sim --headless`: a script in; a JSON report, a heatmap PNG and a
//! text summary out. The binary parses its arguments into [`Headless`] and
//! calls [`run`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cues::{CueConfig, CueEvent, Cues, Observed};
use crate::error::{Error, Result};
use crate::metrics::{self, Analysis};
use crate::overrides::ScriptOverrides;
use crate::rubric::{Rubric, RubricError};
use crate::script::Script;
use crate::series::{Recorded, SeriesRecorder};
use crate::session::{Session, StrikeSource};
use crate::summary::write_summary;
use crate::surface::Surface;
use crate::trainee;

/// What a headless run reads and writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Headless {
    /// The script to run.
    pub script: PathBuf,
    /// Replacements for the script's surface, tool and grid.
    pub overrides: ScriptOverrides,
    /// Write the JSON report here.
    pub report: Option<PathBuf>,
    /// Write the heatmap PNG here.
    pub heatmap: Option<PathBuf>,
    /// The technique cues to watch (passes and spacing not given come
    /// from the script's patterns).
    pub cues: CueConfig,
    /// Write every cue that starts or ends here (JSON lines).
    pub cue_log: Option<PathBuf>,
    /// Score against this rubric: a shipped name or a file.
    pub rubric: Option<String>,
    /// Write the trainee's HTML report here.
    pub trainee_report: Option<PathBuf>,
    /// Who and when, for the trainee's report.
    pub people: trainee::People,
}

/// Why a headless run stopped.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The engine: a script, surface, tool or file.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The rubric file.
    #[error(transparent)]
    Rubric(#[from] RubricError),
}

/// A finished simulation with its cues.
#[derive(Debug)]
pub struct Simulated {
    /// The session, finished.
    pub session: Session,
    /// Its metrics, with the cue counts filled in.
    pub analysis: Analysis,
    /// Every cue that started or ended, in order.
    pub cue_events: Vec<CueEvent>,
}

/// Runs a loaded script with its cues watched, and analyses it.
pub fn simulate(script: &Script, cues: &CueConfig) -> Result<Simulated> {
    let surface = Arc::new(script.surface()?);
    let tool = Arc::new(script.tool()?);
    let source = script.strike_source(&tool);
    let mut session = Session::new(
        surface.clone(),
        tool.clone(),
        source,
        script.spec.settings.pass_cells,
    );
    let mut config = cues.clone();
    config.plan_from(script, &tool);
    config.validate()?;
    let metrics = &script.spec.metrics;
    let mut watcher = Cues::new(surface.clone(), tool.clone(), metrics, config);
    if let StrikeSource::Rate(hz) = source {
        watcher.set_nominal_rate_hz(hz);
    }
    let mut recorder = SeriesRecorder::default();
    let mut sink = Recorded {
        observed: Observed {
            session: &mut session,
            cues: &mut watcher,
            events: Vec::new(),
        },
        series: &mut recorder,
    };
    script.drive(&surface, &tool, &mut sink)?;
    let mut cue_events = std::mem::take(&mut sink.observed.events);
    session.finish();
    watcher.finish(&mut cue_events);
    let mut analysis = metrics::analyse(&session, metrics)?;
    analysis.report.cues = Some(watcher.report());
    analysis.report.series = Some(recorder.series(&watcher, metrics));
    Ok(Simulated {
        session,
        analysis,
        cue_events,
    })
}

/// What a headless run leaves for its caller (the binary records a
/// trainee's session from it, then may write the trainee's report with
/// the certification standing the history gives).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The report (with the rubric's scores when one was given) and the
    /// density grid it was computed from.
    pub analysis: Analysis,
    /// The rubric it was scored against, with its content hash.
    pub rubric: Option<Rubric>,
    surface: Arc<Surface>,
}

impl Finished {
    /// The session's report.
    pub fn report(&self) -> &crate::report::Report {
        &self.analysis.report
    }

    /// Writes the trainee's HTML report (`trainee::html`) to `path`.
    pub fn write_trainee_report(
        &self,
        path: &Path,
        people: &trainee::People,
        standing: Option<&trainee::Standing>,
    ) -> Result<()> {
        let html = trainee::html(
            &self.analysis,
            self.rubric.as_ref(),
            people,
            &self.surface,
            standing,
        )?;
        std::fs::write(path, html).map_err(|e| Error::io(path, e))
    }
}

/// Runs a script with no window: writes the files asked for, then the
/// summary to `out`. A reader of `out` that stops early (`| head`) is not
/// a failure of the run.
pub fn run(options: &Headless, out: &mut dyn Write) -> Result<Finished, HeadlessError> {
    // A bad rubric is refused before the run.
    let rubric = options.rubric.as_deref().map(Rubric::find).transpose()?;
    let mut script = Script::load(&options.script)?;
    options.overrides.apply(&mut script)?;
    let Simulated {
        session,
        mut analysis,
        cue_events,
    } = simulate(&script, &options.cues)?;
    if let Some(rubric) = &rubric {
        analysis.report.rubric = Some(rubric.score(&analysis.report));
    }
    if let Some(path) = &options.report {
        write_json(path, &analysis.report)?;
    }
    if let Some(path) = &options.heatmap {
        crate::heatmap::write_png(&analysis, path)?;
    }
    if let Some(path) = &options.cue_log {
        let mut text = String::new();
        for e in &cue_events {
            text += &serde_json::to_string(e).map_err(|e| Error::Invalid(e.to_string()))?;
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    let finished = Finished {
        analysis,
        rubric,
        surface: session.shared_surface(),
    };
    if let Some(path) = &options.trainee_report {
        finished.write_trainee_report(path, &options.people, None)?;
    }
    let outputs = [
        ("report", &options.report),
        ("heatmap", &options.heatmap),
        ("cue log", &options.cue_log),
        ("trainee", &options.trainee_report),
    ];
    let printed = write_summary(out, finished.report()).and_then(|()| {
        for (what, path) in outputs {
            if let Some(p) = path {
                writeln!(out, "{what:<13} {}", p.display())?;
            }
        }
        Ok(())
    });
    match printed {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("the summary on standard output", e).into())
        }
        _ => Ok(finished),
    }
}

/// Writes a value as pretty JSON with a final newline.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Invalid(format!("serialising {}: {e}", path.display())))?;
    std::fs::write(path, json + "\n").map_err(|e| Error::io(path, e))
}
