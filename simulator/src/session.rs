//! Drives a session: pose stream and strike events → contact → accumulate,
//! incrementally, with depth and pass statistics on the side. Memory stays
//! fixed whatever the session length.

use std::sync::Arc;

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::accumulate::DensityGrid;
use crate::contact::{self, RAY_BACKOFF_MM};
use crate::pose::Pose;
use crate::surface::{NO_ZONE, Surface};
use crate::tool::{Tool, ToolKind};

/// One line of a recorded session (JSON lines, see the crate README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// Optional first line: what was recorded.
    Header {
        /// Always `penlab-session`.
        format: String,
        /// Format version, 1.
        version: u32,
        /// Tool profile name, if known.
        #[serde(default)]
        tool: Option<String>,
        /// Surface name, if known.
        #[serde(default)]
        surface: Option<String>,
    },
    /// A tool pose.
    Pose(Pose),
    /// The needles struck (pen telemetry, stamp press) at time `t`, s.
    Strike {
        /// Time, s.
        t: f64,
        /// Depth the pen measured for this strike, mm; without it the
        /// latest pose's set depth applies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        depth_mm: Option<f32>,
    },
}

/// Where a driver's events go: a [`Session`] takes them at once, a
/// `Vec<Event>` keeps them to play back later.
pub trait EventSink {
    /// Takes one event.
    fn push(&mut self, event: &Event);

    /// Takes a pose.
    fn push_pose_event(&mut self, pose: Pose) {
        self.push(&Event::Pose(pose));
    }

    /// Changes where strikes come from, for what follows.
    fn set_strike_source(&mut self, source: StrikeSource);
}

impl EventSink for Session {
    fn push(&mut self, event: &Event) {
        Session::push(self, event);
    }

    fn push_pose_event(&mut self, pose: Pose) {
        self.push_pose(pose);
    }

    fn set_strike_source(&mut self, source: StrikeSource) {
        Session::set_strike_source(self, source);
    }
}

/// Collects events; a change of strike source is not an event, so a
/// player of the list decides strikes itself.
impl EventSink for Vec<Event> {
    fn push(&mut self, event: &Event) {
        Vec::push(self, event.clone());
    }

    fn set_strike_source(&mut self, _source: StrikeSource) {}
}

/// Where strikes come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrikeSource {
    /// Only [`Event::Strike`] events strike (telemetry, stamp presses).
    Events,
    /// The tool strikes on its own at this rate, Hz, while in contact.
    Rate(f64),
}

/// Width of a depth histogram bin, mm.
pub const DEPTH_BIN_MM: f32 = 0.05;
/// Depth histogram bins (the last one also takes everything deeper).
pub const DEPTH_BINS: usize = 64;

/// Per-zone depth figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneDepth {
    /// Punctures in the zone.
    pub punctures: u64,
    /// Deepest puncture, mm.
    pub max_depth_mm: f32,
    /// Punctures deeper than the zone's limit.
    pub violations: u64,
}

/// Depth statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthStats {
    /// Counts per [`DEPTH_BIN_MM`] bin from 0.
    pub histogram: Vec<u64>,
    /// Sum of depths, mm.
    pub sum_mm: f64,
    /// Deepest, mm.
    pub max_mm: f32,
    /// Per zone, indexed like the surface's zones; the last entry is "no zone".
    pub zones: Vec<ZoneDepth>,
}

/// Directions are folded to [0°, 180°) in bins of this width, centred on its multiples.
pub const DIRECTION_BIN_DEG: f32 = 15.0;
const DIRECTION_BINS: usize = 12;
/// A change of direction beyond this between successive segments ends a stroke.
pub const STROKE_TURN_DEG: f32 = 60.0;
/// Travel is examined in segments of this length, mm.
pub const SEGMENT_MM: f32 = 1.0;

/// Pass figures of one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionPasses {
    /// Strokes that entered the region.
    pub passes: u32,
    /// Length travelled in the region per direction bin, mm.
    pub direction_mm: [f32; DIRECTION_BINS],
    last_stroke: u32,
}

/// Stroke segmentation and per-region passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassStats {
    /// UV cells per side of the pass grid.
    pub cells: u32,
    /// Regions: `cells²` UV cells row-major, then one per surface zone.
    pub regions: Vec<RegionPasses>,
    /// Strokes completed.
    pub strokes: u32,
    /// Sum of stroke speeds, mm/s (for the mean).
    pub speed_sum: f64,
    /// Sum of squared stroke speeds (for the spread).
    pub speed_sq_sum: f64,
    /// Total length stroked, mm.
    pub length_mm: f64,
    current: Option<Stroke>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Stroke {
    start_t: f64,
    last_t: f64,
    length_mm: f64,
    anchor_uv: Vec2,
    last_uv: Vec2,
    last_position: Vec3,
    direction: Option<Vec2>,
}

impl Stroke {
    /// A stroke that begins at time `t`, at `uv` (position `at`).
    fn starting(t: f64, uv: Vec2, at: Vec3) -> Self {
        Stroke {
            start_t: t,
            last_t: t,
            length_mm: 0.0,
            anchor_uv: uv,
            last_uv: uv,
            last_position: at,
            direction: None,
        }
    }
}

impl PassStats {
    fn new(cells: u32, zones: usize) -> Self {
        Self {
            cells,
            regions: vec![RegionPasses::default(); (cells * cells) as usize + zones],
            strokes: 0,
            speed_sum: 0.0,
            speed_sq_sum: 0.0,
            length_mm: 0.0,
            current: None,
        }
    }

    fn end_stroke(&mut self) {
        if let Some(s) = self.current.take() {
            let dt = s.last_t - s.start_t;
            if s.length_mm >= f64::from(SEGMENT_MM) && dt > 0.0 {
                let v = s.length_mm / dt;
                self.strokes += 1;
                self.speed_sum += v;
                self.speed_sq_sum += v * v;
                self.length_mm += s.length_mm;
            }
        }
    }

    fn visit(&mut self, surface: &Surface, uv: Vec2, dir: Vec2, len: f32) {
        let id = self.strokes + 1;
        let c = self.cells;
        let cx = ((uv.x * c as f32) as u32).min(c - 1);
        let cy = ((uv.y * c as f32) as u32).min(c - 1);
        let zone = surface.area.zone[surface.area.texel_of(uv) as usize];
        let angle = dir.y.atan2(dir.x).to_degrees().rem_euclid(180.0);
        // Bins centred on multiples of the bin width: 0° and 90° sit mid-bin.
        let bin = ((angle / DIRECTION_BIN_DEG).round() as usize) % DIRECTION_BINS;
        let mut regions = [Some((cy * c + cx) as usize), None];
        if zone != NO_ZONE {
            regions[1] = Some((c * c) as usize + usize::from(zone));
        }
        for r in regions.into_iter().flatten() {
            if let Some(region) = self.regions.get_mut(r) {
                if region.last_stroke != id {
                    region.last_stroke = id;
                    region.passes += 1;
                }
                region.direction_mm[bin] += len;
            }
        }
    }

    /// The tool touches the skin at `uv` (position `at`, mm) at time `t`.
    fn contact(&mut self, surface: &Surface, t: f64, uv: Vec2, at: Vec3) {
        let scale = surface.mm_per_uv;
        let Some(mut s) = self.current else {
            self.current = Some(Stroke::starting(t, uv, at));
            return;
        };
        // Speed and length along the skin in 3D; directions and regions in UV.
        s.length_mm += f64::from(at.distance(s.last_position));
        s.last_position = at;
        s.last_uv = uv;
        s.last_t = t;
        let seg = (uv - s.anchor_uv) * scale;
        let len = seg.length();
        if len >= SEGMENT_MM {
            let dir = seg / len;
            let turned = s
                .direction
                .is_some_and(|d| d.dot(dir) < STROKE_TURN_DEG.to_radians().cos());
            if turned {
                // The corner starts a new stroke from here.
                self.current = Some(s);
                self.end_stroke();
                self.current = Some(Stroke::starting(t, uv, at));
                return;
            }
            self.visit(surface, (s.anchor_uv + uv) * 0.5, dir, len);
            s.direction = Some(dir);
            s.anchor_uv = uv;
        }
        self.current = Some(s);
    }
}

/// A running simulation of one tool on one surface.
#[derive(Debug, Clone)]
pub struct Session {
    surface: Arc<Surface>,
    tool: Arc<Tool>,
    source: StrikeSource,
    grid: DensityGrid,
    depth: DepthStats,
    passes: PassStats,
    last: Option<Pose>,
    first_t: Option<f64>,
    rate_t0: Option<f64>,
    rate_k: u64,
    rolled_mm: f64,
    next_row_mm: f64,
    row: usize,
    strikes: u64,
    poses: u64,
}

impl Session {
    /// A new session; `pass_cells` is the side of the UV grid for pass counts.
    pub fn new(
        surface: Arc<Surface>,
        tool: Arc<Tool>,
        source: StrikeSource,
        pass_cells: u32,
    ) -> Self {
        let (w, h) = (surface.area.width, surface.area.height);
        let zones = surface.zones.len();
        Self {
            grid: DensityGrid::new(w, h),
            depth: DepthStats {
                histogram: vec![0; DEPTH_BINS],
                sum_mm: 0.0,
                max_mm: 0.0,
                zones: vec![ZoneDepth::default(); zones + 1],
            },
            passes: PassStats::new(pass_cells.clamp(1, 64), zones),
            surface,
            tool,
            source,
            last: None,
            first_t: None,
            rate_t0: None,
            rate_k: 0,
            rolled_mm: 0.0,
            next_row_mm: 0.0,
            row: 0,
            strikes: 0,
            poses: 0,
        }
    }

    /// Changes where strikes come from (e.g. for a replay with recorded strikes).
    pub fn set_strike_source(&mut self, source: StrikeSource) {
        self.source = source;
        // Restart the rate clock at the next pose.
        self.rate_t0 = None;
        self.rate_k = 0;
    }

    /// Feeds one event.
    pub fn push(&mut self, event: &Event) {
        match event {
            Event::Header { .. } => {}
            Event::Pose(p) => self.push_pose(*p),
            Event::Strike { t, depth_mm } => match depth_mm {
                Some(d) => self.push_strike_with_depth(*t, *d),
                None => self.push_strike(*t),
            },
        }
    }

    /// Feeds a pose; strikes due (by rate, or a roller's rows by distance)
    /// between the previous pose and this one happen at interpolated poses.
    pub fn push_pose(&mut self, pose: Pose) {
        self.poses += 1;
        self.first_t.get_or_insert(pose.t);
        let t0 = *self.rate_t0.get_or_insert(pose.t);
        if let Some(prev) = self.last {
            if self.tool.profile.kind == ToolKind::Roller {
                self.roll(&prev, &pose);
            } else if let StrikeSource::Rate(hz) = self.source {
                if prev.force_n.is_nan() || prev.force_n <= 0.0 {
                    // Lifted: this interval's strikes hit nothing; skip them
                    // in one step so a long pause does not loop.
                    let due = ((pose.t - t0) * hz).ceil().max(0.0);
                    if due.is_finite() && due < u64::MAX as f64 {
                        self.rate_k = self.rate_k.max(due as u64);
                    }
                }
                loop {
                    let ts = t0 + self.rate_k as f64 / hz;
                    if ts >= pose.t {
                        break;
                    }
                    self.rate_k += 1;
                    if ts >= prev.t {
                        self.strike_at(&prev.interpolate(&pose, ts));
                    }
                }
            }
        }
        self.track_passes(&pose);
        self.last = Some(pose);
    }

    /// A strike event at `t`: strikes at the latest pose.
    pub fn push_strike(&mut self, t: f64) {
        if let Some(mut pose) = self.last {
            pose.t = t;
            self.strike_at(&pose);
        }
    }

    /// A strike event at `t` with the depth the pen measured for it, mm.
    pub fn push_strike_with_depth(&mut self, t: f64, depth_mm: f32) {
        if let Some(mut pose) = self.last {
            pose.t = t;
            pose.depth_mm = depth_mm;
            self.strike_at(&pose);
        }
    }

    /// The latest pose fed, if any.
    pub fn last_pose(&self) -> Option<&Pose> {
        self.last.as_ref()
    }

    fn roll(&mut self, prev: &Pose, pose: &Pose) {
        let Some(pitch) = self.tool.row_pitch_mm else {
            return;
        };
        if prev.force_n.is_nan() || prev.force_n <= 0.0 {
            return;
        }
        let step = f64::from(prev.position.distance(pose.position));
        let (start, end) = (self.rolled_mm, self.rolled_mm + step);
        while self.next_row_mm < end {
            let s = if step > 0.0 {
                (self.next_row_mm - start) / step
            } else {
                1.0
            };
            let t = prev.t + (pose.t - prev.t) * s;
            let at = prev.interpolate(pose, t);
            let pattern = self.row % self.tool.patterns.len();
            self.row += 1;
            self.next_row_mm += f64::from(pitch);
            self.strike_pattern(pattern, &at);
        }
        self.rolled_mm = end;
    }

    /// Strikes the tool's (first) needle pattern at `pose` now.
    pub fn strike_at(&mut self, pose: &Pose) {
        self.strike_pattern(0, pose);
    }

    #[inline]
    fn strike_pattern(&mut self, pattern: usize, pose: &Pose) {
        if pose.force_n.is_nan() || pose.force_n <= 0.0 {
            // A lifted pen strikes the air.
            return;
        }
        self.strikes += 1;
        let Self {
            surface,
            tool,
            grid,
            depth,
            ..
        } = self;
        let needles = &tool.patterns[pattern];
        contact::strike(surface, tool, needles, pose, |p| {
            grid.add_puncture(p.texel, p.depth_mm);
            let bin = ((p.depth_mm / DEPTH_BIN_MM) as usize).min(DEPTH_BINS - 1);
            depth.histogram[bin] += 1;
            depth.sum_mm += f64::from(p.depth_mm);
            depth.max_mm = depth.max_mm.max(p.depth_mm);
            let zi = if p.zone == NO_ZONE {
                surface.zones.len()
            } else {
                usize::from(p.zone)
            };
            if let Some(z) = depth.zones.get_mut(zi) {
                z.punctures += 1;
                z.max_depth_mm = z.max_depth_mm.max(p.depth_mm);
                let limit = surface.zones.get(zi).and_then(|z| z.max_depth_mm);
                if limit.is_some_and(|l| p.depth_mm > l + 1e-6) {
                    z.violations += 1;
                }
            }
        });
    }

    fn track_passes(&mut self, pose: &Pose) {
        if pose.force_n.is_nan() || pose.force_n <= 0.0 {
            self.passes.end_stroke();
            return;
        }
        let axis = pose.axis();
        let hit = self.surface.raycast(
            pose.position + axis * RAY_BACKOFF_MM,
            -axis,
            2.0 * RAY_BACKOFF_MM,
        );
        match hit {
            Some(h) => {
                let at = pose.position + axis * (RAY_BACKOFF_MM - h.t);
                self.passes.contact(&self.surface, pose.t, h.uv, at);
            }
            None => self.passes.end_stroke(),
        }
    }

    /// Ends the current stroke (call at the end of a session).
    pub fn finish(&mut self) {
        self.passes.end_stroke();
    }

    /// Texels changed since the last call, ascending, appended to `out`.
    pub fn drain_dirty(&mut self, out: &mut Vec<u32>) {
        self.grid.drain_dirty(out);
    }

    /// The density grid.
    pub fn grid(&self) -> &DensityGrid {
        &self.grid
    }

    /// Depth statistics so far.
    pub fn depth(&self) -> &DepthStats {
        &self.depth
    }

    /// Pass statistics so far.
    pub fn passes(&self) -> &PassStats {
        &self.passes
    }

    /// The surface.
    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    /// The surface, shared (for what outlives the session).
    pub fn shared_surface(&self) -> Arc<Surface> {
        Arc::clone(&self.surface)
    }

    /// The tool.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// Strikes in contact so far (including needles that fell short or off the mesh).
    pub fn strikes(&self) -> u64 {
        self.strikes
    }

    /// Poses fed so far.
    pub fn poses(&self) -> u64 {
        self.poses
    }

    /// Time span of the poses fed so far, s.
    pub fn duration_s(&self) -> f64 {
        match (self.first_t, self.last) {
            (Some(a), Some(b)) => b.t - a,
            _ => 0.0,
        }
    }
}
