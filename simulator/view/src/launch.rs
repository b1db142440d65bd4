//! A view session assembled from what `penlab sim` was asked: the pen (the
//! built-in mock, a port, or none), the surface and tool (a script's, or the
//! practice pad and a pen matching the mock's cartridge), a demonstration
//! or replay, and the settings; then the window. The binary only parses its
//! arguments into a [`SimRequest`] and calls [`run`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use penlab_host::transport::Transport;
use penlab_live::link::mock_pen;
use penlab_simulator::cues::CueConfig;
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::overrides::ScriptOverrides;
use penlab_simulator::rubric::Rubric;
use penlab_simulator::script::Script;
use penlab_simulator::session::StrikeSource;
use penlab_simulator::surfaces::{self, BUILTIN_SURFACES, ZoneLimits};
use penlab_simulator::tool::{ToolKind, ToolProfiles};

use crate::options::{Demo, DemoStrikes, ViewOptions};
use crate::playback::DemoEvents;

/// What `penlab sim` (with a window) was asked for.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// A script the tool plays as a demonstration.
    pub script: Option<PathBuf>,
    /// A real pen on this port (instead of the built-in mock).
    pub port: Option<String>,
    /// The port's baud rate.
    pub baud: u32,
    /// When the port goes, wait this long for the pen to come back.
    pub reattach: Option<Duration>,
    /// The built-in mock's profile (a shipped name or a file).
    pub mock: String,
    /// No pen at all: a pen tool strikes by itself at its rate.
    pub no_pen: bool,
    /// Seed of the mock's physics.
    pub seed: u64,
    /// Depth to set on the pen, mm (default: the script's, else 0.5).
    pub depth: Option<f32>,
    /// Rate to set on the pen, Hz.
    pub rate: Option<f32>,
    /// Contact force while pressing, N.
    pub force: Option<f32>,
    /// A recorded session to play.
    pub replay: Option<PathBuf>,
    /// Playback speed of a demonstration or replay.
    pub speed: f64,
    /// Record the session here.
    pub record: Option<PathBuf>,
    /// Quit after this many seconds.
    pub quit_after: Option<f64>,
    /// With `quit_after`: a last screenshot here.
    pub screenshot: Option<PathBuf>,
    /// Where exports go.
    pub export_dir: PathBuf,
    /// Surface, tool and grid instead of the script's (or the defaults).
    pub overrides: ScriptOverrides,
    /// The technique cues to watch (a script's plan fills passes and
    /// spacing not given).
    pub cues: CueConfig,
    /// Score against this rubric: a shipped name or a rubric file.
    pub rubric: Option<String>,
}

/// Assembles the session and opens the window until it closes: exit code
/// 0, or 130 / 143 after SIGINT / SIGTERM (the motor stopped first).
pub fn run(request: &SimRequest) -> anyhow::Result<ExitCode> {
    crate::run_window(view_options(request)?)
}

/// The view's settings for `request`: the practice pad and a 14-needle pen
/// on the built-in mock unless told otherwise. Bad values are refused here,
/// before anything opens.
pub fn view_options(request: &SimRequest) -> anyhow::Result<ViewOptions> {
    let r = request;
    if !(r.speed.is_finite() && r.speed > 0.0 && r.speed <= 1000.0) {
        bail!("--speed must be above 0 and at most 1000");
    }
    // A bad rubric is refused before anything opens.
    let rubric = r
        .rubric
        .as_deref()
        .map(Rubric::find)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (pen, mock_needles) = if r.no_pen {
        (None, None)
    } else if let Some(path) = &r.port {
        (Some(Transport::for_port(path, r.baud)?), None)
    } else {
        let profile = penlab_firmware_mock_profile(&r.mock)?;
        let needles = profile.cartridge.needle_count;
        (Some(mock_pen(profile, r.seed)), Some(needles))
    };
    let scene = match &r.script {
        Some(path) => scripted(path, &r.overrides)?,
        None => practice(&r.overrides, mock_needles)?,
    };
    let depth = r.depth.unwrap_or(scene.depth_mm);
    let mut cues = r.cues.clone();
    if let Some(script) = &scene.script {
        cues.plan_from(script, &scene.tool);
    }
    cues.validate()?;
    let tool = scene.tool;
    let pen_tool = tool.profile.kind == ToolKind::Pen;
    let demo = match (&r.replay, scene.events) {
        (Some(path), _) => {
            // Streamed as it plays; a bad line shows now, not minutes in.
            DemoEvents::File(path.clone()).first(1)?;
            Some(Demo {
                events: DemoEvents::File(path.clone()),
                strikes: DemoStrikes::Recorded,
                speed: r.speed,
                name: path.display().to_string(),
            })
        }
        (None, Some(events)) => Some(Demo {
            events: DemoEvents::Memory(events.into()),
            strikes: match (pen_tool, &pen, scene.rate_hz) {
                (true, Some(_), _) => DemoStrikes::Pen,
                (true, None, Some(hz)) => DemoStrikes::Rate(hz),
                (true, None, None) => {
                    DemoStrikes::Rate(f64::from(tool.profile.rate_hz.unwrap_or(100.0)))
                }
                (false, _, _) => DemoStrikes::Recorded,
            },
            speed: r.speed,
            name: r
                .script
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }),
        (None, None) => None,
    };
    let force_n = r.force.unwrap_or(tool.profile.full_contact_force_n);
    if !(force_n.is_finite() && force_n > 0.0 && force_n <= 50.0) {
        bail!("--force must be above 0 and at most 50 N");
    }
    if !(depth.is_finite() && (0.0..=5.0).contains(&depth)) {
        bail!("--depth must be within 0 to 5 mm");
    }
    Ok(ViewOptions {
        surface: scene.surface,
        tool,
        metrics: scene.metrics,
        pass_cells: scene.pass_cells,
        pen: if pen_tool { pen } else { None },
        reattach: r.reattach,
        depth_mm: depth,
        rate_hz: r.rate,
        force_n,
        demo,
        record: r.record.clone(),
        screenshot: r.screenshot.clone(),
        quit_after_s: r.quit_after,
        export_dir: r.export_dir.clone(),
        cues,
        rubric,
    })
}

fn penlab_firmware_mock_profile(
    name: &str,
) -> anyhow::Result<penlab_firmware_mock::profile::Profile> {
    penlab_firmware_mock::profile::Profile::load(name).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Surface, tool and what plays on them.
struct Scene {
    surface: Arc<penlab_simulator::surface::Surface>,
    tool: Arc<penlab_simulator::tool::Tool>,
    metrics: MetricsConfig,
    depth_mm: f32,
    /// The script's own strike rate, when it has one.
    rate_hz: Option<f64>,
    events: Option<Vec<penlab_simulator::session::Event>>,
    pass_cells: u32,
    /// The script, for the cues' plan (passes, spacing).
    script: Option<Script>,
}

fn scripted(path: &Path, overrides: &ScriptOverrides) -> anyhow::Result<Scene> {
    let mut script = Script::load(path)?;
    overrides.apply(&mut script)?;
    let surface = Arc::new(script.surface()?);
    let tool = Arc::new(script.tool()?);
    let events = script.events(&surface, &tool)?;
    let rate_hz = match script.strike_source(&tool) {
        StrikeSource::Rate(hz) => Some(hz),
        StrikeSource::Events => None,
    };
    let s = &script.spec;
    Ok(Scene {
        surface,
        tool,
        metrics: s.metrics.clone(),
        depth_mm: s.settings.depth_mm,
        rate_hz,
        events: Some(events),
        pass_cells: s.settings.pass_cells,
        script: Some(script),
    })
}

/// No script: the practice pad (or the surface asked for) and a pen tool
/// matching the mock's cartridge unless one is named.
fn practice(overrides: &ScriptOverrides, mock_needles: Option<u8>) -> anyhow::Result<Scene> {
    let limits = ZoneLimits::shipped()?;
    let name = overrides.surface.as_deref().unwrap_or("flat-pad");
    let grid = overrides.grid.unwrap_or(512);
    let surface = if BUILTIN_SURFACES.contains(&name) {
        surfaces::builtin(name, &limits, grid)?
    } else {
        let mut script = Script::parse(
            Path::new("<command line>"),
            "[surface]\nbuiltin = \"flat-pad\"\n[tool]\nprofile = \"pen-14\"\n",
        )?;
        overrides.apply(&mut script)?;
        script.surface()?
    };
    let profiles = ToolProfiles::shipped()?;
    let default_tool = mock_needles
        .map(|n| format!("pen-{n}"))
        .filter(|name| profiles.tool(name).is_ok())
        .unwrap_or_else(|| "pen-14".into());
    let tool = profiles.tool(overrides.tool.as_deref().unwrap_or(&default_tool))?;
    Ok(Scene {
        surface: Arc::new(surface),
        tool: Arc::new(tool),
        metrics: MetricsConfig::default(),
        depth_mm: 0.5,
        rate_hz: None,
        events: None,
        pass_cells: 4,
        script: None,
    })
}
