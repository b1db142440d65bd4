//! Live technique cues in the window: every pose and strike the session
//! took this frame goes to the coverage engine's [`Cues`] (the same
//! watcher `penlab sim --headless` runs), and the cues on now show at once
//! as a coloured ring around the tool; the panel (`panel::cues`) adds a
//! label beside the tool, switches and counts.

use bevy::prelude::*;
use penlab_simulator::cues::{CueConfig, CueEvent, CueKind, Cues};
use penlab_simulator::series::{Series, SeriesRecorder};
use penlab_simulator::session::Event;
use penlab_simulator::tool::ToolKind;

use crate::options::{DemoStrikes, ViewOptions};
use crate::pen::{FramePoses, Live, Options, Settings, SimSet, ToolPose};
use crate::scene::SurfaceFrame;

/// Cue events kept for the panel's list of what happened lately.
pub const RECENT_EVENTS: usize = 64;

/// The session's cues.
#[derive(Resource)]
pub struct LiveCues {
    /// The engine's watcher, fed once a frame.
    pub engine: Cues,
    /// The start event of each cue on now (value, limit, zone), by
    /// [`CueKind::index`].
    pub on: [Option<CueEvent>; CueKind::ALL.len()],
    /// The latest cue events, oldest first (at most [`RECENT_EVENTS`]).
    pub recent: std::collections::VecDeque<CueEvent>,
    /// Poses the session had taken at the last feed: fewer means the
    /// coverage was started afresh (a reset, a replay), and so are the cues.
    seen_poses: u64,
    /// The rate the band assumes until strikes measure one, Hz.
    nominal_rate_hz: Option<f64>,
    /// Speed, density under the tool and depth along the session, as the
    /// headless report keeps them.
    series: SeriesRecorder,
    /// The density band and hot-spot line the series is drawn against.
    metrics: penlab_simulator::metrics::MetricsConfig,
}

impl LiveCues {
    /// Cues for the session `options` describe.
    pub fn new(options: &ViewOptions) -> Self {
        let nominal_rate_hz = nominal_rate_hz(options);
        let engine = watcher(options, &options.cues, nominal_rate_hz);
        LiveCues {
            engine,
            on: Default::default(),
            recent: Default::default(),
            seen_poses: 0,
            nominal_rate_hz,
            series: SeriesRecorder::default(),
            metrics: options.metrics.clone(),
        }
    }

    /// The session's series so far, with its bands (for the panel's
    /// graphs; a few hundred points whatever the session's length).
    pub fn series(&self) -> Series {
        self.series.series(&self.engine, &self.metrics)
    }

    /// Whether `cue` is on now.
    pub fn is_on(&self, cue: CueKind) -> bool {
        self.on[cue.index()].is_some()
    }

    /// The cues on now, in report order.
    pub fn active(&self) -> impl Iterator<Item = &CueEvent> {
        self.on.iter().flatten()
    }

    /// Switches one cue on or off (its count so far is kept).
    pub fn set_enabled(&mut self, cue: CueKind, on: bool) {
        let mut config = self.engine.config().clone();
        let one = penlab_simulator::cues::CueSet::of(cue);
        config.enabled = if on {
            config.enabled.with(one)
        } else {
            config.enabled.without(one)
        };
        // Switching a cue cannot put a valid configuration out of range.
        let _ = self.engine.set_config(config);
    }

    /// Replaces the settings; refused (and unchanged) when out of range.
    pub fn set_config(&mut self, config: CueConfig) -> penlab_simulator::Result<()> {
        self.engine.set_config(config)
    }

    /// Feeds the frame's poses and strikes, merged in time order (the
    /// session has taken them all already), and keeps what started or ended.
    pub fn observe(
        &mut self,
        session: &penlab_simulator::session::Session,
        poses: &[penlab_simulator::pose::Pose],
        strikes: &[(f64, f32)],
    ) {
        let mut events = Vec::new();
        let (mut p, mut s) = (0, 0);
        while p < poses.len() || s < strikes.len() {
            let strike_first = match (poses.get(p), strikes.get(s)) {
                (Some(pose), Some(&(t, _))) => t < pose.t,
                (None, Some(_)) => true,
                _ => false,
            };
            let event = if strike_first {
                let (t, d) = strikes[s];
                s += 1;
                Event::Strike {
                    t,
                    depth_mm: Some(d),
                }
            } else {
                p += 1;
                Event::Pose(poses[p - 1])
            };
            self.engine.observe(&event, session, &mut events);
            if let Event::Pose(pose) = &event {
                self.series.observe(pose, self.engine.sample(session));
            }
        }
        for e in events {
            self.on[e.cue.index()] = e.on.then(|| e.clone());
            if self.recent.len() == RECENT_EVENTS {
                self.recent.pop_front();
            }
            self.recent.push_back(e);
        }
    }

    /// Starts the cues afresh (new coverage), keeping the current settings.
    fn restart(&mut self, options: &ViewOptions) {
        let config = self.engine.config().clone();
        self.engine = watcher(options, &config, self.nominal_rate_hz);
        self.on = Default::default();
        self.recent.clear();
        self.series = SeriesRecorder::default();
    }
}

/// A watcher for `options`' surface and tool.
fn watcher(options: &ViewOptions, config: &CueConfig, rate: Option<f64>) -> Cues {
    let mut cues = Cues::new(
        options.surface.clone(),
        options.tool.clone(),
        &options.metrics,
        config.clone(),
    );
    if let Some(hz) = rate {
        cues.set_nominal_rate_hz(hz);
    }
    cues
}

/// The rate the speed band assumes before strikes measure one: a
/// demonstration striking at its rate (on its own clock, whatever the
/// playback speed), else the rate asked of the pen, else the tool's.
fn nominal_rate_hz(options: &ViewOptions) -> Option<f64> {
    let tool_rate = options.tool.profile.rate_hz.map(f64::from);
    match &options.demo {
        Some(d) => match d.strikes {
            DemoStrikes::Rate(hz) => Some(hz),
            // The pen strikes in real time, whatever the playback speed.
            DemoStrikes::Pen => options.rate_hz.map(f64::from).or(tool_rate),
            DemoStrikes::Recorded => tool_rate,
        },
        None => options.rate_hz.map(f64::from).or(tool_rate),
    }
}

/// A short label for a cue on now, for beside the tool: "too slow 120
/// mm/s (band 328–480)", "dwelling", "tilt 22°", "too deep for
/// periorbital", "no-go: eyes", "overlap".
pub fn short_label(event: &CueEvent, cues: &Cues) -> String {
    let band = cues.speed_band();
    let speed = cues.hand_speed_mm_s().unwrap_or(event.value);
    let band_text = band.map_or_else(String::new, |b| {
        format!(" (band {:.0}–{:.0})", b.low_mm_s, b.high_mm_s)
    });
    let zone = event.zone.as_deref().unwrap_or("this zone");
    match event.cue {
        CueKind::SpeedLow => format!("too slow {speed:.0} mm/s{band_text}"),
        CueKind::SpeedHigh => format!("too fast {speed:.0} mm/s{band_text}"),
        CueKind::Dwell => "dwelling".to_owned(),
        CueKind::Tilt => format!("tilt {:.0}°", event.value),
        CueKind::Depth => format!("too deep for {zone}"),
        CueKind::NoGo => format!("no-go: {zone}"),
        CueKind::Overlap => "overlap".to_owned(),
    }
}

/// The colour a cue shows in, sRGB: red for depth and no-go, orange for
/// the hand (slow, dwell, tilt), yellow for too fast, blue for overlap.
pub fn cue_colour(cue: CueKind) -> [u8; 3] {
    match cue {
        CueKind::NoGo | CueKind::Depth => [230, 40, 60],
        CueKind::SpeedLow | CueKind::Dwell | CueKind::Tilt => [250, 140, 30],
        CueKind::SpeedHigh => [245, 220, 40],
        CueKind::Overlap => [70, 150, 250],
    }
}

/// Feeds the cues and rings the tool while one is on.
pub struct CuesPlugin;

impl Plugin for CuesPlugin {
    fn build(&self, app: &mut App) {
        let Some(options) = app.world().get_resource::<Options>().cloned() else {
            // No session (it failed to open): nothing to watch.
            return;
        };
        app.insert_resource(LiveCues::new(&options.0))
            .add_systems(Update, watch_cues.in_set(SimSet::Present));
        if app.is_plugin_added::<bevy::gizmos::GizmoPlugin>() {
            app.add_systems(Update, ring_tool.in_set(SimSet::Present).after(watch_cues));
        }
    }
}

/// Feeds the frame's poses and strikes to the cues.
fn watch_cues(
    mut live: ResMut<Live>,
    poses: Res<FramePoses>,
    options: Res<Options>,
    settings: Res<Settings>,
    mut cues: ResMut<LiveCues>,
) {
    let strikes = live.0.take_strikes();
    let taken = live.0.coverage.session().poses();
    if taken < cues.seen_poses {
        cues.restart(&options.0);
    }
    cues.seen_poses = taken;
    // The pen's set rate stands until its strikes measure one.
    if live.0.pen_drives_strikes() && options.0.tool.profile.kind == ToolKind::Pen {
        cues.engine.set_nominal_rate_hz(f64::from(settings.rate_hz));
    }
    cues.observe(live.0.coverage.session(), &poses.0, &strikes);
}

/// A ring around the tool on the skin, in the colour of the most serious
/// cue on now.
fn ring_tool(
    cues: Res<LiveCues>,
    tool: Res<ToolPose>,
    frame: Res<SurfaceFrame>,
    options: Res<Options>,
    time: Res<Time>,
    mut gizmos: Gizmos,
) {
    let Some(first) = cues.active().next() else {
        return;
    };
    let Some(pose) = tool.pose.filter(|_| tool.contact) else {
        return;
    };
    // The most serious first: no-go and depth, then the hand.
    let order = [
        CueKind::NoGo,
        CueKind::Depth,
        CueKind::Dwell,
        CueKind::SpeedLow,
        CueKind::Tilt,
        CueKind::SpeedHigh,
        CueKind::Overlap,
    ];
    let cue = order
        .into_iter()
        .find(|&k| cues.is_on(k))
        .unwrap_or(first.cue);
    let [r, g, b] = cue_colour(cue);
    let centre = frame.world_point(pose.position + pose.axis() * 0.3);
    let normal = (frame.world_point(pose.position + pose.axis())
        - frame.world_point(pose.position))
    .normalize_or(Vec3::Y);
    let rotation = Quat::from_rotation_arc(Vec3::Z, normal);
    let base = options.0.tool.footprint_mm.max(4.0) / 2.0 + 6.0;
    // A slow pulse, so a cue reads as an alert and not as part of the tool.
    let pulse = 0.5 + 0.5 * (time.elapsed_secs() * 6.0).sin();
    for k in 0..3 {
        let radius = base + k as f32 * 0.8 + pulse;
        gizmos.circle(
            Isometry3d::new(centre, rotation),
            radius,
            Color::srgb_u8(r, g, b),
        );
    }
}
