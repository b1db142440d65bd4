//! The coverage engine's session with a live heatmap beside it.
//!
//! The heatmap is the same windowed density the metrics classify
//! ([`metrics::analyse`]), kept up to date incrementally: a puncture adds
//! to the window counts of the texels around it and recolours only those.
//! Changed texels are handed out as [`Patch`]es of [`TILE`] × [`TILE`]
//! texels, so a view uploads only what changed and a frame costs the same
//! whether the session holds no punctures or ten million.

use std::collections::VecDeque;
use std::sync::Arc;

use penlab_simulator::contact::RAY_BACKOFF_MM;
use penlab_simulator::heatmap::class_colour;
use penlab_simulator::metrics::{self, Class, MetricsConfig};
use penlab_simulator::pose::Pose;
use penlab_simulator::session::{Session, StrikeSource};
use penlab_simulator::surface::{NO_ZONE, Surface};
use penlab_simulator::tool::Tool;

/// Side of a heatmap patch, texels.
pub const TILE: u32 = 32;

/// Colour of skin no needle has touched (RGBA).
pub const SKIN: [u8; 4] = [236, 196, 178, 255];
/// Colour of texels outside the treatment area.
pub const OUTSIDE: [u8; 4] = [214, 182, 168, 255];
/// Colour of texels deeper than their zone allows, in the depth view.
pub const TOO_DEEP: [u8; 4] = [200, 0, 160, 255];
/// Deepest depth of the depth view's colour ramp, mm.
pub const DEPTH_RAMP_MM: f32 = 2.5;

/// The colour of skin at its reddest after treatment (erythema), RGBA.
pub const ERYTHEMA: [u8; 4] = [206, 84, 84, 255];

/// How the heatmap lies over the skin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// How much of the heatmap's colour covers the skin under it, 0 (bare
    /// skin) to 1 (the heatmap alone).
    pub opacity: f32,
    /// Treated skin reddens with its density, as skin does after needling
    /// (seen where the heatmap lets it through).
    pub erythema: bool,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            opacity: 0.85,
            erythema: false,
        }
    }
}

/// How long poses are kept for placing late strikes, s.
const POSE_HISTORY_S: f64 = 3.0;

/// What the heatmap shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeatmapMode {
    /// Density classes, as the metrics count them (gap … hot spot).
    #[default]
    Density,
    /// Deepest penetration per texel, with zone-limit violations marked.
    Depth,
}

/// A rectangle of changed heatmap texels, RGBA8 rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Left texel.
    pub x: u32,
    /// Top texel.
    pub y: u32,
    /// Width, texels.
    pub width: u32,
    /// Height, texels.
    pub height: u32,
    /// `width × height × 4` bytes.
    pub rgba: Vec<u8>,
}

/// A live session: punctures in, heatmap patches and metrics out.
pub struct LiveCoverage {
    session: Session,
    config: MetricsConfig,
    /// What it was made from, for [`LiveCoverage::fresh`].
    surface: Arc<Surface>,
    tool: Arc<Tool>,
    pass_cells: u32,
    width: usize,
    height: usize,
    inside: Vec<bool>,
    half: usize,
    /// Treatment area inside each texel's window, cm².
    window_area: Vec<f32>,
    /// Punctures inside each texel's window.
    window_count: Vec<u32>,
    /// Punctures per texel already folded into `window_count`.
    folded: Vec<u32>,
    /// Deepest allowed depth per texel (its zone's limit), mm.
    depth_limit: Vec<f32>,
    mode: HeatmapMode,
    look: Look,
    rgba: Vec<[u8; 4]>,
    tiles_x: usize,
    dirty_tiles: Vec<bool>,
    any_dirty: bool,
    changed: Vec<u32>,
    poses: VecDeque<Pose>,
}

impl LiveCoverage {
    /// A live session on `surface` with `tool`; strikes come from `source`
    /// ([`StrikeSource::Events`] when a pen's telemetry decides them).
    pub fn new(
        surface: Arc<Surface>,
        tool: Arc<Tool>,
        source: StrikeSource,
        config: MetricsConfig,
        pass_cells: u32,
    ) -> penlab_simulator::Result<Self> {
        let inside = metrics::treatment_mask(&surface, &config)?;
        let half = metrics::window_half_texels(&surface, &inside, &config);
        let table = &surface.area;
        let (width, height) = (table.width as usize, table.height as usize);
        let area: Vec<f64> = (0..width * height)
            .map(|i| {
                if inside[i] {
                    f64::from(table.area_cm2[i])
                } else {
                    0.0
                }
            })
            .collect();
        let window_area = box_sums(width, height, half, |i| area[i])
            .into_iter()
            .map(|a| a as f32)
            .collect();
        let depth_limit = table
            .zone
            .iter()
            .map(|&z| {
                (z != NO_ZONE)
                    .then(|| surface.zones.get(usize::from(z)))
                    .flatten()
                    .and_then(|zone| zone.max_depth_mm)
                    .unwrap_or(f32::INFINITY)
            })
            .collect();
        let tiles_x = width.div_ceil(TILE as usize);
        let tiles = tiles_x * height.div_ceil(TILE as usize);
        let session = Session::new(Arc::clone(&surface), Arc::clone(&tool), source, pass_cells);
        let mut live = LiveCoverage {
            session,
            config,
            surface,
            tool,
            pass_cells,
            width,
            height,
            inside,
            half,
            window_area,
            window_count: vec![0; width * height],
            folded: vec![0; width * height],
            depth_limit,
            mode: HeatmapMode::Density,
            look: Look::default(),
            rgba: vec![SKIN; width * height],
            tiles_x,
            dirty_tiles: vec![false; tiles],
            any_dirty: false,
            changed: Vec::new(),
            poses: VecDeque::new(),
        };
        live.recolour_all();
        Ok(live)
    }

    /// Empty coverage on the same surface, tool and settings, in the same
    /// heatmap mode, with strikes from `source`.
    pub fn fresh(&self, source: StrikeSource) -> penlab_simulator::Result<LiveCoverage> {
        let mut fresh = LiveCoverage::new(
            Arc::clone(&self.surface),
            Arc::clone(&self.tool),
            source,
            self.config.clone(),
            self.pass_cells,
        )?;
        fresh.set_mode(self.mode);
        fresh.set_look(self.look);
        Ok(fresh)
    }

    /// The coverage engine's session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The metric settings the heatmap classifies with.
    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// Grid size, texels (width, height).
    pub fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    /// The whole heatmap, RGBA8, row by row.
    pub fn rgba(&self) -> &[[u8; 4]] {
        &self.rgba
    }

    /// The heatmap mode.
    pub fn mode(&self) -> HeatmapMode {
        self.mode
    }

    /// Switches what the heatmap shows; every texel is recoloured.
    pub fn set_mode(&mut self, mode: HeatmapMode) {
        if mode != self.mode {
            self.mode = mode;
            self.recolour_all();
        }
    }

    /// How the heatmap lies over the skin.
    pub fn look(&self) -> Look {
        self.look
    }

    /// Changes the heatmap's opacity or the erythema; every texel is
    /// recoloured (once: a few milliseconds at 512², not per frame). The
    /// opacity is clamped to 0–1.
    pub fn set_look(&mut self, look: Look) {
        let look = Look {
            opacity: if look.opacity.is_finite() {
                look.opacity.clamp(0.0, 1.0)
            } else {
                1.0
            },
            ..look
        };
        if look != self.look {
            self.look = look;
            self.recolour_all();
        }
    }

    /// Window density at a texel, punctures/cm² (0 outside the treatment area).
    pub fn density(&self, texel: u32) -> f64 {
        let i = texel as usize;
        match (self.inside.get(i), self.window_area.get(i)) {
            (Some(true), Some(&a)) if a > 0.0 => f64::from(self.window_count[i]) / f64::from(a),
            _ => 0.0,
        }
    }

    /// Class of a texel, as [`metrics::analyse`] would give it now.
    pub fn class(&self, texel: u32) -> Class {
        if self.inside.get(texel as usize) != Some(&true) {
            return Class::Outside;
        }
        metrics::classify(self.density(texel), &self.config)
    }

    /// Forgets the pose history and restarts the strike clock with
    /// `source`: after a demonstration on its own timeline, the next pose
    /// is on the session's clock again, which may be behind it. The
    /// density is kept.
    pub fn rejoin_clock(&mut self, source: StrikeSource) {
        self.poses.clear();
        self.session.set_strike_source(source);
    }

    /// Feeds a tool pose (time in seconds on the session's clock).
    pub fn push_pose(&mut self, pose: Pose) {
        while self
            .poses
            .front()
            .is_some_and(|p| p.t < pose.t - POSE_HISTORY_S)
        {
            self.poses.pop_front();
        }
        if self.poses.back().is_none_or(|p| p.t <= pose.t) {
            self.poses.push_back(pose);
        }
        self.session.push_pose(pose);
    }

    /// A strike the pen reported at time `t` (same clock as the poses) with
    /// its measured depth: it lands where the tool was at `t`, which may be
    /// a little in the past since telemetry comes in batches. Returns
    /// whether a pose was known for `t`.
    pub fn strike(&mut self, t: f64, depth_mm: f32) -> bool {
        let Some(mut pose) = self.pose_at(t) else {
            return false;
        };
        pose.t = t;
        pose.depth_mm = depth_mm;
        self.session.strike_at(&pose);
        true
    }

    /// The depth limit of the zone under the tool at `pose`, mm, if the
    /// tool is over the surface and the zone has one.
    pub fn zone_limit_under(&self, pose: &Pose) -> Option<f32> {
        let surface = self.session.surface();
        let axis = pose.axis();
        let hit = surface.raycast(
            pose.position + axis * RAY_BACKOFF_MM,
            -axis,
            2.0 * RAY_BACKOFF_MM,
        )?;
        let limit = *self
            .depth_limit
            .get(surface.area.texel_of(hit.uv) as usize)?;
        limit.is_finite().then_some(limit)
    }

    /// The latest pose fed.
    pub fn latest_pose(&self) -> Option<&Pose> {
        self.poses.back()
    }

    /// The tool's pose at `t`, interpolated from the recent poses (the
    /// latest one for times after it).
    pub fn pose_at(&self, t: f64) -> Option<Pose> {
        let after = self.poses.partition_point(|p| p.t <= t);
        match (
            after.checked_sub(1).map(|i| &self.poses[i]),
            self.poses.get(after),
        ) {
            (Some(a), Some(b)) => Some(a.interpolate(b, t)),
            (Some(a), None) => Some(*a),
            // Older than the history: the pen was somewhere unknown.
            (None, _) => None,
        }
    }

    /// Folds the punctures since the last call into the heatmap; returns
    /// the number of texels that received punctures.
    pub fn update(&mut self) -> usize {
        self.changed.clear();
        self.session.drain_dirty(&mut self.changed);
        let changed = std::mem::take(&mut self.changed);
        let side = 2 * self.half + 1;
        // A bulk load (a replay, ten million punctures at once) is cheaper
        // recomputed whole than folded texel by texel.
        if changed.len().saturating_mul(side * side) > 4 * self.width * self.height {
            self.rebuild_windows();
            self.recolour_all();
        } else {
            for &texel in &changed {
                self.fold(texel as usize);
            }
        }
        let n = changed.len();
        self.changed = changed;
        n
    }

    /// Changed regions since the last call, for upload.
    pub fn take_patches(&mut self, out: &mut Vec<Patch>) {
        if !self.any_dirty {
            return;
        }
        self.any_dirty = false;
        let t = TILE as usize;
        for (k, dirty) in self.dirty_tiles.iter_mut().enumerate() {
            if !std::mem::take(dirty) {
                continue;
            }
            let (x0, y0) = ((k % self.tiles_x) * t, (k / self.tiles_x) * t);
            let (w, h) = (t.min(self.width - x0), t.min(self.height - y0));
            let mut rgba = Vec::with_capacity(w * h * 4);
            for y in y0..y0 + h {
                let row = &self.rgba[y * self.width + x0..y * self.width + x0 + w];
                rgba.extend(row.iter().flatten());
            }
            out.push(Patch {
                x: x0 as u32,
                y: y0 as u32,
                width: w as u32,
                height: h as u32,
                rgba,
            });
        }
    }

    /// Ends the current stroke (the pen was lifted for good).
    pub fn finish(&mut self) {
        self.session.finish();
    }

    fn fold(&mut self, i: usize) {
        let count = self.session.grid().texels()[i].count;
        let delta = count - self.folded[i];
        self.folded[i] = count;
        let (x, y) = (i % self.width, i / self.width);
        if self.inside[i] && delta > 0 {
            let (x0, x1) = (
                x.saturating_sub(self.half),
                (x + self.half + 1).min(self.width),
            );
            let (y0, y1) = (
                y.saturating_sub(self.half),
                (y + self.half + 1).min(self.height),
            );
            for yy in y0..y1 {
                for xx in x0..x1 {
                    self.window_count[yy * self.width + xx] += delta;
                }
            }
            if self.mode == HeatmapMode::Density {
                for yy in y0..y1 {
                    for xx in x0..x1 {
                        self.recolour(yy * self.width + xx);
                    }
                }
                return;
            }
        }
        self.recolour(i);
    }

    fn rebuild_windows(&mut self) {
        let texels = self.session.grid().texels();
        for (f, t) in self.folded.iter_mut().zip(texels) {
            *f = t.count;
        }
        let (inside, folded) = (&self.inside, &self.folded);
        let sums = box_sums(self.width, self.height, self.half, |i| {
            if inside[i] { f64::from(folded[i]) } else { 0.0 }
        });
        for (c, s) in self.window_count.iter_mut().zip(sums) {
            *c = s.round() as u32;
        }
    }

    fn recolour_all(&mut self) {
        for i in 0..self.rgba.len() {
            self.rgba[i] = self.colour(i);
        }
        self.dirty_tiles.fill(true);
        self.any_dirty = true;
    }

    #[inline]
    fn recolour(&mut self, i: usize) {
        let c = self.colour(i);
        if self.rgba[i] != c {
            self.rgba[i] = c;
            let t = TILE as usize;
            let tile = (i / self.width / t) * self.tiles_x + (i % self.width) / t;
            self.dirty_tiles[tile] = true;
            self.any_dirty = true;
        }
    }

    fn colour(&self, i: usize) -> [u8; 4] {
        if !self.inside[i] {
            return OUTSIDE;
        }
        let skin = self.skin_colour(i);
        let overlay = match self.mode {
            HeatmapMode::Density => (self.window_count[i] > 0).then(|| {
                let [r, g, b] = class_colour(self.class(i as u32));
                [r, g, b, 255]
            }),
            HeatmapMode::Depth => {
                let acc = self.session.grid().texels()[i];
                if acc.count == 0 {
                    None
                } else if acc.depth_max > self.depth_limit[i] + 1e-6 {
                    Some(TOO_DEEP)
                } else {
                    Some(depth_colour(acc.depth_max))
                }
            }
        };
        match overlay {
            Some(c) => mix(skin, c, self.look.opacity),
            None => skin,
        }
    }

    /// The skin under the heatmap: untouched, or reddened by its density
    /// up to the hot-spot threshold.
    fn skin_colour(&self, i: usize) -> [u8; 4] {
        if !self.look.erythema || self.window_count[i] == 0 {
            return SKIN;
        }
        let redness = (self.density(i as u32) / self.config.hot_above_per_cm2).clamp(0.0, 1.0);
        mix(SKIN, ERYTHEMA, redness as f32)
    }
}

/// `a` towards `b` by `k` (0 to 1), per channel, opaque.
fn mix(a: [u8; 4], b: [u8; 4], k: f32) -> [u8; 4] {
    let c = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * k).round() as u8;
    [c(a[0], b[0]), c(a[1], b[1]), c(a[2], b[2]), 255]
}

/// The depth view's colour for a depth, mm: pale yellow (shallow) to dark
/// red-brown ([`DEPTH_RAMP_MM`] and deeper).
pub fn depth_colour(depth_mm: f32) -> [u8; 4] {
    const STOPS: [[f32; 3]; 4] = [
        [255.0, 247.0, 188.0],
        [254.0, 196.0, 79.0],
        [217.0, 95.0, 14.0],
        [102.0, 37.0, 6.0],
    ];
    let s = (depth_mm / DEPTH_RAMP_MM).clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let k = (s.floor() as usize).min(STOPS.len() - 2);
    let f = s - k as f32;
    let mix = |c: usize| (STOPS[k][c] + (STOPS[k + 1][c] - STOPS[k][c]) * f).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// For each texel, the sum of `f` over the `(2·half+1)²` box around it
/// (clipped at the edges), through a summed-area table.
fn box_sums(w: usize, h: usize, half: usize, f: impl Fn(usize) -> f64) -> Vec<f64> {
    let stride = w + 1;
    let mut s = vec![0.0; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += f(y * w + x);
            s[(y + 1) * stride + x + 1] = s[y * stride + x + 1] + row;
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(half), (y + half + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(half), (x + half + 1).min(w));
            out[y * w + x] = s[y1 * stride + x1] - s[y0 * stride + x1] - s[y1 * stride + x0]
                + s[y0 * stride + x0];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{Quat, Vec3};
    use penlab_simulator::surfaces::{self, ZoneLimits};
    use penlab_simulator::tool::ToolProfiles;

    fn pad(grid: u32) -> LiveCoverage {
        let surface = surfaces::builtin("flat-pad", &ZoneLimits::shipped().unwrap(), grid).unwrap();
        let tool = ToolProfiles::shipped().unwrap().tool("pen-14").unwrap();
        LiveCoverage::new(
            Arc::new(surface),
            Arc::new(tool),
            StrikeSource::Events,
            MetricsConfig::default(),
            8,
        )
        .unwrap()
    }

    fn pose_at_uv(live: &LiveCoverage, t: f64, u: f32, v: f32) -> Pose {
        let p = live
            .session()
            .surface()
            .point_at_uv(glam::Vec2::new(u, v))
            .unwrap();
        Pose {
            t,
            position: p.position,
            orientation: Quat::from_rotation_arc(Vec3::Z, p.normal),
            force_n: 3.0,
            depth_mm: 0.5,
        }
    }

    #[test]
    fn strikes_land_at_the_interpolated_pose() {
        let mut live = pad(128);
        let a = pose_at_uv(&live, 0.0, 0.2, 0.5);
        let b = pose_at_uv(&live, 1.0, 0.8, 0.5);
        live.push_pose(a);
        live.push_pose(b);
        let mid = live.pose_at(0.5).unwrap();
        assert!(mid.position.distance((a.position + b.position) / 2.0) < 1e-3);
        assert!(live.pose_at(-0.5).is_none(), "before the history: unknown");
        assert!(live.strike(0.5, 0.75));
        let depth = live.session().depth();
        assert!(
            depth.max_mm > 0.7 && depth.max_mm <= 0.75 + 1e-6,
            "{}",
            depth.max_mm
        );
    }

    /// A pad with one stroke across its middle, struck every 5 ms.
    fn stroked() -> (LiveCoverage, usize) {
        let mut live = pad(128);
        for k in 0..=200 {
            let t = f64::from(k) * 0.005;
            let u = 0.3 + 0.4 * (k as f32 / 200.0);
            live.push_pose(pose_at_uv(&live, t, u, 0.5));
            live.strike(t, 0.5);
        }
        live.update();
        let (w, h) = live.size();
        let centre = (h as usize / 2) * w as usize + w as usize / 2;
        assert!(
            live.window_count[centre] > 0,
            "the stroke crosses the centre"
        );
        (live, centre)
    }

    #[test]
    fn the_heatmaps_opacity_goes_from_bare_skin_to_the_class_colour() {
        let (mut live, centre) = stroked();
        let [r, g, b] = class_colour(live.class(centre as u32));
        live.set_look(Look {
            opacity: 1.0,
            erythema: false,
        });
        assert_eq!(live.rgba()[centre], [r, g, b, 255]);
        live.set_look(Look {
            opacity: 0.0,
            erythema: false,
        });
        assert_eq!(live.rgba()[centre], SKIN, "opacity 0 shows the skin");
        live.set_look(Look {
            opacity: 0.5,
            erythema: false,
        });
        let half = live.rgba()[centre];
        for c in 0..3 {
            let (lo, hi) = (SKIN[c].min([r, g, b][c]), SKIN[c].max([r, g, b][c]));
            assert!(
                (lo..=hi).contains(&half[c]),
                "{half:?} between skin and class"
            );
        }
        // Out of range is clamped, not a panic or a wrapped colour.
        live.set_look(Look {
            opacity: 7.0,
            erythema: false,
        });
        assert_eq!(live.look().opacity, 1.0);
        // Untreated texels are skin whatever the opacity.
        assert_eq!(
            live.rgba()[0..8]
                .iter()
                .filter(|&&c| c == OUTSIDE || c == SKIN)
                .count(),
            8
        );
    }

    #[test]
    fn erythema_reddens_treated_skin_with_its_density_and_spares_the_rest() {
        let (mut live, centre) = stroked();
        live.set_look(Look {
            opacity: 0.0,
            erythema: true,
        });
        let treated = live.rgba()[centre];
        assert_ne!(treated, SKIN);
        // Redder: green and blue fall towards the erythema colour.
        assert!(treated[1] < SKIN[1] && treated[2] < SKIN[2], "{treated:?}");
        let (w, _) = live.size();
        let untouched = 10 * w as usize + 10;
        assert_eq!(live.window_count[untouched], 0);
        assert!(matches!(live.rgba()[untouched], SKIN | OUTSIDE));
        // The look survives a fresh start of the coverage.
        let fresh = live.fresh(StrikeSource::Events).unwrap();
        assert!(fresh.look().erythema);
    }
}
