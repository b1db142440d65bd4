//! What a view session is started with.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use penlab_host::transport::Transport;
use penlab_live::link::LinkOptions;
use penlab_simulator::cues::CueConfig;
use penlab_simulator::metrics::MetricsConfig;
use penlab_simulator::rubric::Rubric;
use penlab_simulator::script::Script;
use penlab_simulator::session::StrikeSource;

use crate::playback::DemoEvents;
use penlab_simulator::surface::Surface;
use penlab_simulator::tool::Tool;

/// Where a demonstration's strikes come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DemoStrikes {
    /// The pen on the line strikes (hardware in the loop).
    Pen,
    /// The tool strikes by itself at this rate, Hz (no pen attached).
    Rate(f64),
    /// The strike events of the recording or script (stamps, replays).
    Recorded,
}

/// A scripted demonstration: the tool follows these events in real time.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Poses and strikes, in time order, in memory or streamed from a
    /// recording.
    pub events: DemoEvents,
    /// Where strikes come from.
    pub strikes: DemoStrikes,
    /// Playback speed (1 = real time).
    pub speed: f64,
    /// What is playing, for the panel.
    pub name: String,
}

/// Settings of a view session.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The skin surface.
    pub surface: Arc<Surface>,
    /// The tool.
    pub tool: Arc<Tool>,
    /// How coverage is scored.
    pub metrics: MetricsConfig,
    /// Side of the grid passes are counted on.
    pub pass_cells: u32,
    /// The pen on the line, if any.
    pub pen: Option<Transport>,
    /// When the pen's line goes, wait this long for it to come back
    /// (`--reattach`); `None`: the session goes on without it.
    pub reattach: Option<Duration>,
    /// Depth to set on the pen at the start, mm.
    pub depth_mm: f32,
    /// Rate to set on the pen at the start, Hz (a fixed-rate pen keeps its own).
    pub rate_hz: Option<f32>,
    /// Contact force while the mouse is pressed, N.
    pub force_n: f32,
    /// A scripted demonstration instead of the mouse.
    pub demo: Option<Demo>,
    /// Record the session to this file.
    pub record: Option<PathBuf>,
    /// Save a screenshot here before quitting after `quit_after_s`.
    pub screenshot: Option<PathBuf>,
    /// Quit after this many seconds (demos, CI).
    pub quit_after_s: Option<f64>,
    /// Where exports (report, heatmap, screenshots) go.
    pub export_dir: PathBuf,
    /// The technique cues watched while the tool is on the skin (a
    /// script's plan fills passes and spacing not given).
    pub cues: CueConfig,
    /// Score the session against this rubric (`--rubric`); without one
    /// the panel offers the shipped rubrics.
    pub rubric: Option<Rubric>,
}

impl ViewOptions {
    /// How the pen link behaves: the defaults, with this session's
    /// re-attach bound.
    pub fn link_options(&self) -> LinkOptions {
        LinkOptions {
            reattach: self.reattach,
            ..LinkOptions::default()
        }
    }

    /// `script` played as a demonstration with no pen attached: the tool
    /// strikes at the script's rate, at `speed` times real time.
    pub fn scripted_without_pen(script: &Script, speed: f64) -> penlab_simulator::Result<Self> {
        let surface = Arc::new(script.surface()?);
        let tool = Arc::new(script.tool()?);
        let events = script.events(&surface, &tool)?;
        let strikes = match script.strike_source(&tool) {
            StrikeSource::Rate(hz) => DemoStrikes::Rate(hz),
            StrikeSource::Events => DemoStrikes::Recorded,
        };
        let settings = &script.spec.settings;
        let mut cues = CueConfig::default();
        cues.plan_from(script, &tool);
        Ok(ViewOptions {
            metrics: script.spec.metrics.clone(),
            pass_cells: settings.pass_cells,
            pen: None,
            reattach: None,
            depth_mm: settings.depth_mm,
            rate_hz: None,
            force_n: settings
                .force_n
                .unwrap_or(tool.profile.full_contact_force_n),
            demo: Some(Demo {
                events: DemoEvents::Memory(events.into()),
                strikes,
                speed,
                name: script.path.display().to_string(),
            }),
            record: None,
            screenshot: None,
            quit_after_s: None,
            export_dir: PathBuf::from("."),
            cues,
            rubric: None,
            surface,
            tool,
        })
    }

    /// A short description for the window title.
    pub fn title(&self) -> String {
        let pen = self
            .pen
            .as_ref()
            .map_or("no pen", |transport| transport.describe());
        format!(
            "{} on {} ({pen})",
            self.tool.profile.name, self.surface.name
        )
    }
}
