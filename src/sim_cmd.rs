//! `penlab sim`: the coverage simulator. With a display it opens the 3D
//! view on a pen (the built-in mock unless `--port` names a real one);
//! `--headless` runs a script with no window or GPU: a JSON report and a
//! heatmap PNG out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use penlab_simulator::compare::{self, Compare};
use penlab_simulator::cues::{CueConfig, CueSet};
use penlab_simulator::headless::{self, Headless};
use penlab_simulator::overrides::ScriptOverrides;
use penlab_simulator::trainee::People;

use crate::trainee_record::SessionRecorder;

/// Options of `penlab sim`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    /// Run without a window or GPU: the script's report and heatmap only.
    #[arg(long)]
    headless: bool,
    /// Script to run (TOML; see simulator/README.md). In the 3D view the
    /// tool plays it in real time as a demonstration.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// The pen on this port (a serial path such as /dev/ttyACM0,
    /// `usb:VID:PID[:SERIAL]`, `socket://` or `rfc2217://HOST:PORT`)
    /// instead of the built-in mock.
    #[arg(long, value_name = "PORT", conflicts_with_all = ["mock", "no_pen"])]
    port: Option<String>,
    /// Baud rate of `--port` (USB CDC pens ignore it; UART bridges need it).
    #[arg(long, default_value_t = 115_200, value_name = "BAUD")]
    baud: u32,
    /// When the pen on `--port` goes away (unplugged, reset, its PTY or
    /// exporter restarted), wait this long for it to come back, e.g. `30s`,
    /// `2m`, and go on with a fresh handshake. A `usb:` address is looked up
    /// afresh each try.
    #[arg(long, value_name = "DURATION", value_parser = crate::monitor_cmd::parse_wait, requires = "port")]
    reattach: Option<std::time::Duration>,
    /// Built-in mock pen profile (skinpen-like, dermapen4-like, exceed-like, dermapen4-busy) or a profile file.
    #[arg(long, value_name = "PROFILE", default_value = "skinpen-like")]
    mock: String,
    /// No pen at all: a pen tool strikes by itself at its rate.
    #[arg(long)]
    no_pen: bool,
    /// Seed of the mock pen's physics.
    #[arg(long, default_value_t = 1, value_name = "N")]
    seed: u64,
    /// Depth to set on the pen, mm (default: the script's, else 0.5).
    #[arg(long, value_name = "MM")]
    depth: Option<f32>,
    /// Rate to set on the pen, Hz (default: the tool's).
    #[arg(long, value_name = "HZ")]
    rate: Option<f32>,
    /// Contact force while pressing, N (default: the tool's full-contact force).
    #[arg(long, value_name = "N")]
    force: Option<f32>,
    /// Play a recorded session (JSON lines) in the 3D view.
    #[arg(long, value_name = "FILE", conflicts_with = "script")]
    replay: Option<PathBuf>,
    /// Speed of a demonstration or replay (1 = real time).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    speed: f64,
    /// Record the session (poses and strikes, JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Quit the 3D view after this many seconds.
    #[arg(long, value_name = "S")]
    quit_after: Option<f64>,
    /// With --quit-after: save a screenshot of the window here first.
    #[arg(long, value_name = "FILE", requires = "quit_after")]
    screenshot: Option<PathBuf>,
    /// Where the view's screenshots, exports and recordings go.
    #[arg(long, value_name = "DIR", default_value = ".")]
    export_dir: PathBuf,
    /// Write the metrics as JSON here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the density heatmap with its legend as PNG here.
    #[arg(long, value_name = "FILE")]
    heatmap: Option<PathBuf>,
    /// Use this surface instead of the script's: a built-in name
    /// (flat-pad, curved-pad, forearm, face) or an .obj/.gltf/.glb file.
    #[arg(long, value_name = "NAME|PATH")]
    surface: Option<String>,
    /// Use this tool profile instead of the script's (e.g. pen-14, roller-192, stamp-35).
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Density grid texels per side (default 512).
    #[arg(long, value_name = "N")]
    grid: Option<u32>,
    #[command(flatten)]
    trainer: Box<TrainerArgs>,
    #[command(subcommand)]
    command: Option<Box<SimCommand>>,
}

/// The trainer's options: cues and rubric (headless and in the 3D view),
/// the cue log and the trainee report (headless).
#[derive(Debug, Args)]
struct TrainerArgs {
    /// Technique cues to watch, comma-separated: speed (speed-low,
    /// speed-high), dwell, tilt, depth, no-go, overlap, or all (default all).
    #[arg(long, value_name = "LIST")]
    cues: Option<String>,
    /// A cue (or comma-separated cues) not to watch; may be repeated.
    #[arg(long = "no-cue", value_name = "CUE")]
    no_cue: Vec<String>,
    /// Lean from the surface normal the tilt cue allows, degrees (default 15).
    #[arg(long, value_name = "DEG")]
    tilt_limit: Option<f32>,
    /// Passes each place gets, for the speed band (default: the script's plan, else 2).
    #[arg(long, value_name = "N")]
    cue_passes: Option<u32>,
    /// Distance between strokes, mm, for the speed band (default: the script's plan, else the tool's track).
    #[arg(long, value_name = "MM")]
    cue_spacing: Option<f32>,
    /// Write every cue that starts or ends here (JSON lines).
    #[arg(long, value_name = "FILE")]
    cue_log: Option<PathBuf>,
    /// Score the session against a rubric: beginner, certification or a rubric file (TOML).
    #[arg(long, value_name = "NAME|FILE")]
    rubric: Option<String>,
    /// Write the trainee's session report (HTML) here.
    #[arg(long, value_name = "FILE")]
    trainee_report: Option<PathBuf>,
    /// The trainee's name, for the session report.
    #[arg(long, value_name = "NAME")]
    trainee: Option<String>,
    /// The trainer's name, for the session report.
    #[arg(long, value_name = "NAME")]
    trainer: Option<String>,
    /// The device used, for the session report.
    #[arg(long, value_name = "TEXT")]
    device: Option<String>,
    /// Record the session in this history (SQLite; also PENLAB_DB), for
    /// `penlab trainee NAME`; needs --trainee and --rubric.
    #[arg(long, value_name = "FILE", requires = "headless")]
    db: Option<PathBuf>,
}

/// Subcommands of `penlab sim`.
#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Compare two sessions (scripts or recordings): per-skill deltas as
    /// JSON and a difference heatmap PNG.
    Compare(CompareArgs),
}

/// Options of `penlab sim compare`.
#[derive(Debug, Args)]
struct CompareArgs {
    /// The first session (usually the trainer's or an expert's): a script (.toml) or a recording (.jsonl).
    a: PathBuf,
    /// The second session (usually the trainee's).
    b: PathBuf,
    /// Score both against this rubric: beginner, certification or a file.
    #[arg(long, value_name = "NAME|FILE")]
    rubric: Option<String>,
    /// Write the comparison as JSON here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the difference heatmap (B − A) as PNG here.
    #[arg(long, value_name = "FILE")]
    heatmap: Option<PathBuf>,
    /// Surface of recordings whose header names none (a built-in name).
    #[arg(long, value_name = "NAME")]
    surface: Option<String>,
    /// Tool of recordings whose header names none.
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Density grid texels per side (default 512).
    #[arg(long, value_name = "N")]
    grid: Option<u32>,
}

/// Runs `penlab sim`.
pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    if let Some(SimCommand::Compare(c)) = args.command.as_deref() {
        return run_compare(c);
    }
    if !args.headless {
        return run_view(args);
    }
    let Some(script_path) = &args.script else {
        bail!("--headless needs --script FILE (examples in simulator/scripts/)");
    };
    let t = &args.trainer;
    let now = std::time::SystemTime::now();
    let mut options = Headless {
        script: script_path.clone(),
        overrides: overrides(&args),
        report: args.report.clone(),
        heatmap: args.heatmap.clone(),
        cues: cue_config(t)?,
        cue_log: t.cue_log.clone(),
        rubric: t.rubric.clone(),
        trainee_report: t.trainee_report.clone(),
        people: People {
            trainee: t.trainee.clone(),
            trainer: t.trainer.clone(),
            device: t.device.clone(),
            date: Some(humantime::format_rfc3339_seconds(now).to_string()),
        },
    };
    let recorder = SessionRecorder::open(
        t.db.as_deref(),
        &options.people,
        t.rubric.as_deref(),
        script_path,
        now,
    )?;
    // A recorded session's report says where the trainee stands, which is
    // known once the session is in the history: it is written after.
    let recorded_report = match &recorder {
        Some(_) => options.trainee_report.take(),
        None => None,
    };
    let finished = headless::run(&options, &mut std::io::stdout().lock())?;
    if let Some(recorder) = recorder {
        let standing = recorder.record(&finished, &options.people)?;
        if let Some(path) = recorded_report {
            finished.write_trainee_report(&path, &options.people, Some(&standing))?;
            println!("{:<13} {}", "trainee", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cue_config(t: &TrainerArgs) -> anyhow::Result<CueConfig> {
    let mut enabled = match &t.cues {
        Some(list) => CueSet::parse_list(list).map_err(anyhow::Error::msg)?,
        None => CueSet::ALL,
    };
    for list in &t.no_cue {
        enabled = enabled.without(CueSet::parse_list(list).map_err(anyhow::Error::msg)?);
    }
    let mut config = CueConfig {
        enabled,
        passes: t.cue_passes,
        spacing_mm: t.cue_spacing,
        ..CueConfig::default()
    };
    if let Some(deg) = t.tilt_limit {
        config.tilt_limit_deg = deg;
    }
    config.validate()?;
    Ok(config)
}

fn run_compare(c: &CompareArgs) -> anyhow::Result<ExitCode> {
    let options = Compare {
        a: c.a.clone(),
        b: c.b.clone(),
        rubric: c.rubric.clone(),
        report: c.report.clone(),
        heatmap: c.heatmap.clone(),
        overrides: ScriptOverrides {
            surface: c.surface.clone(),
            tool: c.tool.clone(),
            grid: c.grid,
        },
    };
    compare::run(&options, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "view"))]
fn run_view(_args: SimArgs) -> anyhow::Result<ExitCode> {
    bail!(
        "this penlab was built without the 3D view (cargo feature `view`); \
         run `penlab sim --headless --script FILE` for a report and heatmap, \
         or rebuild with the default features"
    )
}

#[cfg(feature = "view")]
fn run_view(args: SimArgs) -> anyhow::Result<ExitCode> {
    penlab_view::launch::run(&view_request(&args)?)
}

/// The window's session as the command line asks for it.
#[cfg(feature = "view")]
fn view_request(args: &SimArgs) -> anyhow::Result<penlab_view::launch::SimRequest> {
    Ok(penlab_view::launch::SimRequest {
        script: args.script.clone(),
        port: args.port.clone(),
        baud: args.baud,
        reattach: args.reattach,
        mock: args.mock.clone(),
        no_pen: args.no_pen,
        seed: args.seed,
        depth: args.depth,
        rate: args.rate,
        force: args.force,
        replay: args.replay.clone(),
        speed: args.speed,
        record: args.record.clone(),
        quit_after: args.quit_after,
        screenshot: args.screenshot.clone(),
        export_dir: args.export_dir.clone(),
        overrides: overrides(args),
        cues: cue_config(&args.trainer)?,
        rubric: args.trainer.rubric.clone(),
    })
}

fn overrides(args: &SimArgs) -> ScriptOverrides {
    ScriptOverrides {
        surface: args.surface.clone(),
        tool: args.tool.clone(),
        grid: args.grid,
    }
}
