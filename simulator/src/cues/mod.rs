//! Live technique cues: what a trainer would say while the pen is on the
//! skin. Too slow or too fast for the target density at the pen's rate and
//! needle count, dwelling while over-treatment builds under the tool, tilted,
//! too deep for the zone or in a no-go zone, re-treating skin that earlier
//! passes already brought into the band.
//!
//! [`Cues`] watches the same events a [`Session`] takes and reads the
//! session's density grid; each cue that starts or ends is a [`CueEvent`]
//! a view can show at once, and [`Cues::report`] counts how often each fired.
//! [`Observed`] feeds a session and its cues together.

mod config;
mod kind;
mod probe;

use std::collections::BTreeMap;
use std::sync::Arc;

use glam::Vec2;
use serde::{Deserialize, Serialize};

pub use config::{CueConfig, SpeedBand};

pub use kind::{CueKind, CueSet};
use probe::{Contact, Probe};

use crate::metrics::MetricsConfig;
use crate::pose::Pose;
use crate::session::{Event, EventSink, Session, StrikeSource};
use crate::surface::Surface;
use crate::tool::{Tool, ToolKind};

/// A cue starting (`on`) or ending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CueEvent {
    /// Time, s.
    pub t: f64,
    /// Which cue.
    pub cue: CueKind,
    /// It starts (true) or ends (false).
    pub on: bool,
    /// What was measured: mm/s (speed), punctures/cm² (dwell, overlap),
    /// degrees (tilt), mm (depth, no-go).
    pub value: f64,
    /// The limit it crossed, in the same unit.
    pub limit: f64,
    /// Where the tool touched the skin, UV.
    pub uv: Vec2,
    /// The zone there, if any.
    pub zone: Option<String>,
}

impl CueEvent {
    /// A short line for a trainee: "too slow: 120 mm/s (band 328–480)".
    pub fn message(&self) -> String {
        let (v, l) = (self.value, self.limit);
        let text = match self.cue {
            CueKind::SpeedLow => format!("too slow: {v:.0} mm/s, at least {l:.0} mm/s"),
            CueKind::SpeedHigh => format!("too fast: {v:.0} mm/s, at most {l:.0} mm/s"),
            CueKind::Dwell => format!("dwelling: {v:.0} /cm² under the tool, above {l:.0}"),
            CueKind::Tilt => format!("tilted {v:.0}°, limit {l:.0}°"),
            CueKind::Depth => format!("{v:.2} mm is deeper than this zone's {l:.2} mm"),
            CueKind::NoGo => "no-go zone".to_owned(),
            CueKind::Overlap => format!("already treated: {v:.0} /cm² ahead, from {l:.0}"),
        };
        match (&self.zone, self.on) {
            (Some(z), true) => format!("{text} ({z})"),
            (_, true) => text,
            (_, false) => format!("{} cleared", self.cue.name()),
        }
    }
}

/// What one pose on the skin measured (see [`Cues::sample`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Time, s.
    pub t: f64,
    /// Hand speed along the skin, mm/s, once there is enough contact to measure it.
    pub speed_mm_s: Option<f64>,
    /// Punctures per cm² in the density window under the tool.
    pub density_per_cm2: f64,
    /// Needle depth: the pen's latest measured depth, else the set depth
    /// (a stamp's or roller's needle length), mm.
    pub depth_mm: f64,
    /// The zone's depth limit there, mm, if it has one.
    pub depth_limit_mm: Option<f64>,
}

/// How often one cue fired.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CueCount {
    /// Times it started.
    pub fired: u32,
    /// Time it was on, s.
    pub seconds: f64,
}

/// The cues of a session, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CueReport {
    /// Cues that were switched on.
    pub enabled: Vec<CueKind>,
    /// The speed band used (pens), mm/s, at the last rate seen.
    pub speed_band_mm_s: Option<[f64; 2]>,
    /// Per cue (every enabled one, fired or not), by name.
    pub counts: BTreeMap<CueKind, CueCount>,
}

impl CueReport {
    /// How often `cue` fired (0 when it was off).
    pub fn fired(&self, cue: CueKind) -> u32 {
        self.counts.get(&cue).map_or(0, |c| c.fired)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    on_since: Option<f64>,
    false_since: Option<f64>,
}

/// Watches a session's events and decides the cues.
#[derive(Debug, Clone)]
pub struct Cues {
    config: CueConfig,
    metrics: MetricsConfig,
    probe: Probe,
    tool_kind: ToolKind,
    needles: usize,
    nominal_rate_hz: Option<f64>,
    strike_times: std::collections::VecDeque<f64>,
    measured_depth: Option<(f64, f32)>,
    trail: std::collections::VecDeque<(f64, glam::Vec3, Vec2)>,
    /// The latest pose's contact and the depth judged there, for [`Cues::sample`].
    latest: Option<(f64, Contact, f32, Option<f32>)>,
    states: [State; CueKind::ALL.len()],
    counts: [CueCount; CueKind::ALL.len()],
    last_t: f64,
}

/// Strikes closer together than this measure the pen's rate.
const RATE_WINDOW_S: f64 = 0.5;
/// A measured strike depth stands for this long.
const DEPTH_HOLD_S: f64 = 0.25;

impl Cues {
    /// Cues for `tool` on `surface`, against the density band and window of `metrics`.
    pub fn new(
        surface: Arc<Surface>,
        tool: Arc<Tool>,
        metrics: &MetricsConfig,
        config: CueConfig,
    ) -> Self {
        Self {
            tool_kind: tool.profile.kind,
            needles: tool.needles_per_strike(),
            nominal_rate_hz: tool.profile.rate_hz.map(f64::from),
            probe: Probe::new(surface, &tool, metrics.window_mm),
            config,
            metrics: metrics.clone(),
            strike_times: Default::default(),
            measured_depth: None,
            trail: Default::default(),
            latest: None,
            states: Default::default(),
            counts: Default::default(),
            last_t: 0.0,
        }
    }

    /// The pen's set rate, Hz, used until strike events give a measured one.
    pub fn set_nominal_rate_hz(&mut self, hz: f64) {
        if hz.is_finite() && hz > 0.0 {
            self.nominal_rate_hz = Some(hz);
        }
    }

    /// The rate in use: measured from recent strike events, else the set one.
    pub fn rate_hz(&self) -> Option<f64> {
        let n = self.strike_times.len();
        if n >= 4 {
            let span = self.strike_times[n - 1] - self.strike_times[0];
            if span > 0.0 {
                return Some((n - 1) as f64 / span);
            }
        }
        self.nominal_rate_hz
    }

    /// The speed band for the target density at the current rate (pens only).
    pub fn speed_band(&self) -> Option<SpeedBand> {
        if self.tool_kind != ToolKind::Pen {
            return None;
        }
        let spacing = self
            .config
            .spacing_mm
            .unwrap_or(self.probe.footprint_mm * config::DEFAULT_TRACK_SHARE);
        SpeedBand::for_density(
            self.rate_hz()?,
            self.needles,
            spacing,
            self.config.passes(),
            self.metrics.band_per_cm2,
            self.config.speed_tolerance,
        )
    }

    /// The settings.
    pub fn config(&self) -> &CueConfig {
        &self.config
    }

    /// Changes the settings mid-session (a trainer switching a cue off or
    /// setting the tilt limit): counts so far are kept, a cue switched off
    /// ends at its next reading. Refused when out of range.
    pub fn set_config(&mut self, config: CueConfig) -> crate::error::Result<()> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// How often `cue` fired so far and how long it was on (also while
    /// it is switched off: what it counted before).
    pub fn count(&self, cue: CueKind) -> &CueCount {
        &self.counts[cue.index()]
    }

    /// The hand's speed along the skin over the latest contact, mm/s, once
    /// there is enough of it to measure.
    pub fn hand_speed_mm_s(&self) -> Option<f64> {
        self.speed()
    }

    /// Cues on now.
    pub fn active(&self) -> impl Iterator<Item = CueKind> + '_ {
        CueKind::ALL
            .into_iter()
            .filter(|k| self.states[k.index()].on_since.is_some())
    }

    /// Takes one event, after the session has taken it; cues that start or
    /// end are appended to `out`.
    pub fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<CueEvent>) {
        match event {
            Event::Header { .. } => {}
            Event::Strike { t, depth_mm } => {
                self.strike_times.push_back(*t);
                while self
                    .strike_times
                    .front()
                    .is_some_and(|&s| s < t - RATE_WINDOW_S)
                {
                    self.strike_times.pop_front();
                }
                if let Some(d) = depth_mm {
                    self.measured_depth = Some((*t, *d));
                }
            }
            Event::Pose(pose) => self.pose(pose, session, out),
        }
    }

    fn pose(&mut self, pose: &Pose, session: &Session, out: &mut Vec<CueEvent>) {
        self.last_t = pose.t;
        let Some(contact) = self.probe.contact(pose) else {
            // Lifted or off the skin: every cue ends.
            self.trail.clear();
            self.latest = None;
            for k in CueKind::ALL {
                self.set(k, false, pose.t, 0.0, 0.0, None, out);
            }
            return;
        };
        self.trail.push_back((pose.t, contact.position, contact.uv));
        let window = self.config.speed_window_s;
        while self.trail.len() > 2 && self.trail[1].0 <= pose.t - window {
            self.trail.pop_front();
        }
        let speed = self.speed();
        let band = self.speed_band();
        let stationary = speed.is_some_and(|v| v < self.config.stationary_mm_s);
        let moving = speed.filter(|&v| v >= self.config.stationary_mm_s);
        let at = Some(&contact);
        // Speed against the band.
        let (low, high) = match (moving, band) {
            (Some(v), Some(b)) => (v < b.low_mm_s, v > b.high_mm_s),
            _ => (false, false),
        };
        let v = moving.unwrap_or(0.0);
        let b = band.unwrap_or_default();
        self.set(CueKind::SpeedLow, low, pose.t, v, b.low_mm_s, at, out);
        self.set(CueKind::SpeedHigh, high, pose.t, v, b.high_mm_s, at, out);
        // Dwell: over-treatment building under a slow or resting tool.
        let hot = self.metrics.hot_above_per_cm2;
        let slow = stationary || (low && band.is_some()) || self.tool_kind != ToolKind::Pen;
        let dwell_density = if slow && self.config.enabled.contains(CueKind::Dwell) {
            self.probe.density_under(session.grid(), contact.uv)
        } else {
            0.0
        };
        self.set(
            CueKind::Dwell,
            slow && dwell_density > hot,
            pose.t,
            dwell_density,
            hot,
            at,
            out,
        );
        // Tilt from the surface normal.
        let limit = f64::from(self.config.tilt_limit_deg);
        self.set(
            CueKind::Tilt,
            contact.tilt_deg > limit,
            pose.t,
            contact.tilt_deg,
            limit,
            at,
            out,
        );
        // Depth against the zone's limit; a zero limit is a no-go zone.
        let depth = match self.measured_depth {
            Some((t, d)) if pose.t - t <= DEPTH_HOLD_S => d,
            _ => pose.depth_mm,
        };
        let (too_deep, no_go, zone_limit) = match contact.zone_limit_mm {
            Some(l) if l <= 1e-6 => (false, true, 0.0),
            Some(l) => (depth > l + 1e-6, false, l),
            None => (false, false, 0.0),
        };
        let d = f64::from(depth);
        let measured = match self.measured_depth {
            Some((t, d)) if pose.t - t <= DEPTH_HOLD_S => Some(d),
            _ => None,
        };
        self.latest = Some((pose.t, contact.clone(), pose.depth_mm, measured));
        self.set(
            CueKind::Depth,
            too_deep,
            pose.t,
            d,
            zone_limit.into(),
            at,
            out,
        );
        self.set(CueKind::NoGo, no_go, pose.t, d, 0.0, at, out);
        // Overlap: the skin just ahead already holds the band's density.
        let threshold = self.metrics.band_per_cm2[0] * self.config.overlap_at;
        let ahead = match (moving, self.direction_uv()) {
            (Some(_), Some(dir)) if self.config.enabled.contains(CueKind::Overlap) => {
                self.probe.density_ahead(session.grid(), contact.uv, dir)
            }
            _ => 0.0,
        };
        self.set(
            CueKind::Overlap,
            ahead >= threshold && threshold > 0.0,
            pose.t,
            ahead,
            threshold,
            at,
            out,
        );
    }

    /// What the latest pose measured, when it was on the skin: the hand's
    /// speed, the density under the tool in `session`'s grid (its density
    /// window, punctures/cm²), the depth judged and the zone's limit.
    pub fn sample(&self, session: &Session) -> Option<Sample> {
        let (t, contact, set_depth, measured) = self.latest.as_ref()?;
        // A stamp's or roller's needles have their own length.
        let depth = measured.unwrap_or_else(|| session.tool().reach_mm(*set_depth));
        Some(Sample {
            t: *t,
            speed_mm_s: self.speed(),
            density_per_cm2: self.probe.density_under(session.grid(), contact.uv),
            depth_mm: f64::from(depth),
            depth_limit_mm: contact.zone_limit_mm.map(f64::from),
        })
    }

    /// The speed that gives the middle of the density band at the current
    /// rate (pens only), mm/s.
    pub fn target_speed_mm_s(&self) -> Option<f64> {
        let band = self.speed_band()?;
        let [lo, hi] = self.metrics.band_per_cm2;
        // Speed is inversely proportional to density: the band's edges
        // (without their tolerance) scale to the middle density.
        let tol = self.config.speed_tolerance;
        let at_hi = band.low_mm_s / (1.0 - tol);
        Some(at_hi * hi / ((lo + hi) / 2.0))
    }

    /// Speed along the skin over the trail, mm/s, once it spans a quarter of the window.
    fn speed(&self) -> Option<f64> {
        let (first, last) = (self.trail.front()?, self.trail.back()?);
        let span = last.0 - first.0;
        if span < self.config.speed_window_s * 0.25 || span <= 0.0 {
            return None;
        }
        let length: f64 = self
            .trail
            .iter()
            .zip(self.trail.iter().skip(1))
            .map(|(a, b)| f64::from(a.1.distance(b.1)))
            .sum();
        Some(length / span)
    }

    /// Direction of travel in UV over the trail.
    fn direction_uv(&self) -> Option<Vec2> {
        let (first, last) = (self.trail.front()?, self.trail.back()?);
        (last.2 - first.2).try_normalize()
    }

    #[allow(clippy::too_many_arguments)]
    fn set(
        &mut self,
        cue: CueKind,
        condition: bool,
        t: f64,
        value: f64,
        limit: f64,
        at: Option<&Contact>,
        out: &mut Vec<CueEvent>,
    ) {
        let i = cue.index();
        let condition = condition && self.config.enabled.contains(cue);
        let state = &mut self.states[i];
        let event = |on: bool| CueEvent {
            t,
            cue,
            on,
            value,
            limit,
            uv: at.map_or(Vec2::ZERO, |c| c.uv),
            zone: at.and_then(|c| c.zone.clone()),
        };
        match (state.on_since, condition) {
            (None, true) => {
                state.on_since = Some(t);
                state.false_since = None;
                self.counts[i].fired += 1;
                out.push(event(true));
            }
            (Some(_), true) => state.false_since = None,
            (Some(since), false) => {
                let false_since = *state.false_since.get_or_insert(t);
                // A lift ends a cue at once; otherwise it must stay clear a
                // moment, so a reading at the threshold does not flicker.
                if at.is_none() || t - false_since >= self.config.clear_s {
                    self.counts[i].seconds += (t - since).max(0.0);
                    *state = State::default();
                    out.push(event(false));
                }
            }
            (None, false) => {}
        }
    }

    /// Ends every cue at the end of a session (`out` gets the ends).
    pub fn finish(&mut self, out: &mut Vec<CueEvent>) {
        let t = self.last_t;
        for k in CueKind::ALL {
            let i = k.index();
            if let Some(since) = self.states[i].on_since {
                self.counts[i].seconds += (t - since).max(0.0);
                self.states[i] = State::default();
                out.push(CueEvent {
                    t,
                    cue: k,
                    on: false,
                    value: 0.0,
                    limit: 0.0,
                    uv: Vec2::ZERO,
                    zone: None,
                });
            }
        }
    }

    /// How often each enabled cue fired so far.
    pub fn report(&self) -> CueReport {
        let enabled: Vec<CueKind> = CueKind::ALL
            .into_iter()
            .filter(|k| self.config.enabled.contains(*k))
            .collect();
        CueReport {
            speed_band_mm_s: self.speed_band().map(|b| [b.low_mm_s, b.high_mm_s]),
            counts: enabled
                .iter()
                .map(|&k| (k, self.counts[k.index()].clone()))
                .collect(),
            enabled,
        }
    }
}

/// A session and its cues fed together, for drivers that take an
/// [`EventSink`]: the session takes each event first, then the cues read it.
pub struct Observed<'a> {
    /// The session.
    pub session: &'a mut Session,
    /// Its cues.
    pub cues: &'a mut Cues,
    /// Cues started and ended so far.
    pub events: Vec<CueEvent>,
}

impl EventSink for Observed<'_> {
    fn push(&mut self, event: &Event) {
        self.session.push(event);
        self.cues.observe(event, self.session, &mut self.events);
    }

    fn set_strike_source(&mut self, source: StrikeSource) {
        if let StrikeSource::Rate(hz) = source {
            self.cues.set_nominal_rate_hz(hz);
        }
        self.session.set_strike_source(source);
    }
}
