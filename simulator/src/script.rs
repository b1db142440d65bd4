//! Scripts (TOML): a surface, a tool, settings and a list of patterns —
//! raster, crosshatch, circles, presses, or the replay of a recorded
//! session (JSON lines). See the crate README for the formats.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glam::{Quat, Vec2, Vec3};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, read_text};
use crate::metrics::MetricsConfig;
use crate::pose::{Pose, orientation_facing};
use crate::session::{Event, EventSink, Session, StrikeSource};
use crate::surface::Surface;
use crate::surfaces::{self, Units, ZoneLimit, ZoneLimits};
use crate::tool::{self, Tool, ToolKind, ToolProfile, ToolProfiles};

mod driver;
use driver::Driver;

/// Which surface to treat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurfaceSpec {
    /// A built-in surface (`flat-pad`, `curved-pad`, `forearm`, `face`) …
    #[serde(default)]
    pub builtin: Option<String>,
    /// … or a mesh file (.obj, .gltf, .glb), relative to the script.
    #[serde(default)]
    pub mesh: Option<PathBuf>,
    /// Length unit of the mesh file (default mm for OBJ, m for glTF).
    #[serde(default)]
    pub units: Option<Units>,
    /// Density grid texels per side.
    #[serde(default = "default_grid")]
    pub grid: u32,
}

fn default_grid() -> u32 {
    512
}

/// Which tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// Profile name, shipped or from the script's `[[tool_profile]]`.
    pub profile: String,
}

/// Settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Set needle depth, mm (pens).
    pub depth_mm: f32,
    /// Contact force, N; default the tool's full-contact force.
    pub force_n: Option<f32>,
    /// Strike rate, Hz; default the tool's.
    pub rate_hz: Option<f32>,
    /// Tool tilt from the surface normal, degrees, about the tool's x axis
    /// (leaning along the direction of travel).
    pub tilt_deg: f32,
    /// Poses per second generated along patterns.
    pub pose_rate_hz: f32,
    /// Time to move, lifted, between strokes, s.
    pub transit_s: f32,
    /// Time per stamp press, s.
    pub press_s: f32,
    /// UV cells per side for pass counts.
    pub pass_cells: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            depth_mm: 0.5,
            force_n: None,
            rate_hz: None,
            tilt_deg: 0.0,
            pose_rate_hz: 200.0,
            transit_s: 0.2,
            press_s: 0.5,
            pass_cells: 4,
        }
    }
}

/// A UV rectangle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// u range.
    pub u: [f32; 2],
    /// v range.
    pub v: [f32; 2],
}

impl Default for Area {
    fn default() -> Self {
        Self {
            u: [0.0, 1.0],
            v: [0.0, 1.0],
        }
    }
}

/// Direction of raster lines in UV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Along {
    /// Lines run along u.
    #[default]
    U,
    /// Lines run along v.
    V,
}

/// Where a replay's strikes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReplayStrikes {
    /// The recorded `strike` events.
    #[default]
    Recorded,
    /// The tool's rate (for recordings of poses only).
    Rate,
}

/// Kind of pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    /// Parallel lines (`along` u or v), lifting between them.
    Raster,
    /// A raster along u, then one along v.
    Crosshatch,
    /// Circles of `radius_mm` on a grid over the area, lifting between them.
    Circles,
    /// One press (one strike) at each UV point of `points`: for stamps.
    Press,
    /// Replays a recorded session (`file`, JSON lines).
    Replay,
}

impl PatternKind {
    /// The name used in scripts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Raster => "raster",
            Self::Crosshatch => "crosshatch",
            Self::Circles => "circles",
            Self::Press => "press",
            Self::Replay => "replay",
        }
    }
}

/// One pattern of a script. Which keys apply depends on `kind`; see the
/// crate README.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// What to do.
    pub kind: PatternKind,
    /// UV area to cover (raster, crosshatch, circles).
    #[serde(default)]
    pub area: Area,
    /// Travel speed, mm/s (raster, crosshatch, circles with pens and rollers).
    #[serde(default)]
    pub speed_mm_s: Option<f32>,
    /// Share of the tool's track width shared by neighbouring lines (0 to 0.95).
    #[serde(default)]
    pub overlap: f32,
    /// Line spacing, mm; overrides `overlap`.
    #[serde(default)]
    pub spacing_mm: Option<f32>,
    /// Repetitions.
    #[serde(default = "one")]
    pub passes: u32,
    /// Direction of raster lines.
    #[serde(default)]
    pub along: Along,
    /// Circle radius, mm (circles).
    #[serde(default)]
    pub radius_mm: Option<f32>,
    /// UV points (press).
    #[serde(default)]
    pub points: Vec<[f32; 2]>,
    /// Recorded session, relative to the script (replay).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Where a replay's strikes come from.
    #[serde(default)]
    pub strikes: ReplayStrikes,
}

fn one() -> u32 {
    1
}

/// The whole script file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptSpec {
    /// Surface.
    pub surface: SurfaceSpec,
    /// Tool.
    pub tool: ToolSpec,
    /// Settings.
    #[serde(default)]
    pub settings: Settings,
    /// Metric settings.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Zone depth limits overriding the shipped ones.
    #[serde(default)]
    pub zones: BTreeMap<String, ZoneLimit>,
    /// Extra tool profiles.
    #[serde(default)]
    pub tool_profile: Vec<ToolProfile>,
    /// Patterns, run in order (with their place in the file, for errors).
    #[serde(default)]
    pub pattern: Vec<toml::Spanned<Pattern>>,
}

/// A loaded script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    /// Where it came from (relative paths resolve against its directory).
    pub path: PathBuf,
    /// Its content.
    pub spec: ScriptSpec,
}

impl Script {
    /// Reads and parses a script file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Parses script text; errors carry `path:line:column`.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let spec: ScriptSpec = toml::from_str(text).map_err(|e| Error::toml(path, text, &e))?;
        let script = Self {
            path: path.to_owned(),
            spec,
        };
        script.check(text)?;
        script.check_patterns(text)?;
        tool::check_profiles(path, text, "tool_profile", &script.spec.tool_profile)?;
        surfaces::check_zones(path, text, &["zones"], &script.spec.zones)?;
        Ok(script)
    }

    /// Checks the values that TOML types alone cannot; a mistake is
    /// located at its entry (`text` is the script's).
    fn check(&self, text: &str) -> Result<()> {
        let at = |keys: &[&str], m: String| Error::at_toml_keys(&self.path, text, keys, m);
        let s = &self.spec;
        match (&s.surface.builtin, &s.surface.mesh) {
            (Some(_), Some(_)) => {
                return Err(at(
                    &["surface", "mesh"],
                    "[surface]: give either builtin or mesh, not both".into(),
                ));
            }
            (None, None) => {
                return Err(at(
                    &["surface"],
                    "[surface]: give builtin = \"flat-pad\" (or another) or mesh = \"file.obj\""
                        .into(),
                ));
            }
            _ => {}
        }
        let st = &s.settings;
        if !(st.depth_mm.is_finite() && (0.0..=5.0).contains(&st.depth_mm)) {
            return Err(at(
                &["settings", "depth_mm"],
                format!("[settings] depth_mm = {} is outside 0 to 5 mm", st.depth_mm),
            ));
        }
        if st.force_n.is_some_and(|f| !(f.is_finite() && f >= 0.0)) {
            return Err(at(
                &["settings", "force_n"],
                "[settings] force_n must be ≥ 0".into(),
            ));
        }
        if st
            .rate_hz
            .is_some_and(|r| !(r.is_finite() && r > 0.0 && r <= 10_000.0))
        {
            return Err(at(
                &["settings", "rate_hz"],
                "[settings] rate_hz must be within 0 to 10000".into(),
            ));
        }
        if !(st.pose_rate_hz.is_finite() && (1.0..=100_000.0).contains(&st.pose_rate_hz)) {
            return Err(at(
                &["settings", "pose_rate_hz"],
                "[settings] pose_rate_hz must be within 1 to 100000".into(),
            ));
        }
        if !(st.tilt_deg.is_finite() && st.tilt_deg.abs() < 80.0) {
            return Err(at(
                &["settings", "tilt_deg"],
                "[settings] tilt_deg must be within ±80".into(),
            ));
        }
        if !(st.transit_s.is_finite()
            && st.transit_s >= 0.0
            && st.press_s.is_finite()
            && st.press_s > 0.0)
        {
            let key = if st.transit_s.is_finite() && st.transit_s >= 0.0 {
                "press_s"
            } else {
                "transit_s"
            };
            return Err(at(
                &["settings", key],
                "[settings] transit_s must be ≥ 0 and press_s > 0".into(),
            ));
        }
        s.metrics
            .validate()
            .map_err(|e| at(&["metrics"], format!("[metrics]: {e}")))?;
        Ok(())
    }

    fn check_patterns(&self, text: &str) -> Result<()> {
        for (i, spanned) in self.spec.pattern.iter().enumerate() {
            let p = spanned.get_ref();
            // At the key when the pattern has it, else at the pattern.
            let index = i.to_string();
            let bad = |key: &str, m: &str| {
                let message = format!("pattern {} (kind = {}): {m}", i + 1, p.kind.name());
                Err(
                    match penlab_diagnostics::toml_entry_span(text, &["pattern", &index, key]) {
                        Some(span) => Error::at(&self.path, text, span, message),
                        None => Error::at(&self.path, text, spanned.span(), message),
                    },
                )
            };
            let moving = matches!(
                p.kind,
                PatternKind::Raster | PatternKind::Crosshatch | PatternKind::Circles
            );
            if moving {
                let in_unit = |r: [f32; 2]| {
                    (0.0..=1.0).contains(&r[0]) && (0.0..=1.0).contains(&r[1]) && r[0] < r[1]
                };
                if !(in_unit(p.area.u) && in_unit(p.area.v)) {
                    return bad(
                        "area",
                        "area u and v must be increasing ranges within [0, 1]",
                    );
                }
                match p.speed_mm_s {
                    None => return bad("speed_mm_s", "speed_mm_s is required"),
                    Some(v) if !(v.is_finite() && v > 0.0 && v <= 10_000.0) => {
                        return bad("speed_mm_s", "speed_mm_s must be within 0 to 10000");
                    }
                    Some(_) => {}
                }
                if !(0.0..=0.95).contains(&p.overlap) {
                    return bad("overlap", "overlap must be within 0 to 0.95");
                }
                if p.spacing_mm.is_some_and(|s| !(s.is_finite() && s >= 0.05)) {
                    return bad("spacing_mm", "spacing_mm must be at least 0.05");
                }
                if p.passes > 1000 {
                    return bad("passes", "passes must be at most 1000");
                }
            }
            match p.kind {
                PatternKind::Circles => {
                    if !p.radius_mm.is_some_and(|r| r.is_finite() && r > 0.0) {
                        return bad("radius_mm", "radius_mm is required and must be positive");
                    }
                }
                PatternKind::Press => {
                    if p.points.is_empty()
                        || p.points.iter().flatten().any(|c| !(0.0..=1.0).contains(c))
                    {
                        return bad(
                            "points",
                            "points must be a list of UV points [u, v] in [0, 1]",
                        );
                    }
                }
                PatternKind::Replay => {
                    if p.file.is_none() {
                        return bad("file", "file is required");
                    }
                }
                PatternKind::Raster | PatternKind::Crosshatch => {}
            }
        }
        Ok(())
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        match self.path.parent() {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_owned(),
        }
    }

    /// The zone limits: shipped, overridden by the script's `[zones]`.
    pub fn zone_limits(&self) -> Result<ZoneLimits> {
        let mut limits = ZoneLimits::shipped()?;
        limits.merge(&ZoneLimits {
            zones: self.spec.zones.clone(),
        });
        Ok(limits)
    }

    /// Builds the surface.
    pub fn surface(&self) -> Result<Surface> {
        let limits = self.zone_limits()?;
        let spec = &self.spec.surface;
        match (&spec.builtin, &spec.mesh) {
            (Some(name), _) => surfaces::builtin(name, &limits, spec.grid),
            (None, Some(mesh)) => {
                surfaces::load_mesh_file(&self.resolve(mesh), spec.units, &limits, spec.grid)
            }
            (None, None) => Err(Error::Invalid("no surface".into())),
        }
    }

    /// Builds the tool.
    pub fn tool(&self) -> Result<Tool> {
        let mut profiles = ToolProfiles::shipped()?;
        profiles
            .profiles
            .extend(self.spec.tool_profile.iter().cloned());
        profiles.tool(&self.spec.tool.profile)
    }

    /// Builds surface and tool, runs every pattern, and returns the finished session.
    pub fn run(&self) -> Result<Session> {
        let surface = Arc::new(self.surface()?);
        let tool = Arc::new(self.tool()?);
        let source = self.strike_source(&tool);
        let mut session = Session::new(
            surface.clone(),
            tool.clone(),
            source,
            self.spec.settings.pass_cells,
        );
        self.drive(&surface, &tool, &mut session)?;
        session.finish();
        Ok(session)
    }

    /// The script's event stream for `surface` and `tool` (poses, stamp
    /// presses, replayed strikes), for playing back in real time, as the
    /// 3D view's demonstrations do.
    pub fn events(&self, surface: &Surface, tool: &Tool) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        self.drive(surface, tool, &mut events)?;
        Ok(events)
    }

    /// Where a session for this script takes its strikes from: a pen
    /// strikes at the script's rate, stamps and rollers by their events.
    pub fn strike_source(&self, tool: &Tool) -> StrikeSource {
        match tool.profile.kind {
            ToolKind::Pen => StrikeSource::Rate(f64::from(self.rate_hz(tool))),
            ToolKind::Stamp | ToolKind::Roller => StrikeSource::Events,
        }
    }

    /// Runs every pattern into `sink` (a session, a session with its cues,
    /// a list of events), changing its strike source for replays.
    pub fn drive(&self, surface: &Surface, tool: &Tool, sink: &mut dyn EventSink) -> Result<()> {
        let rate = self.rate_hz(tool);
        let source = self.strike_source(tool);
        let mut driver = Driver {
            script: self,
            surface,
            tool,
            t: 0.0,
        };
        for pattern in &self.spec.pattern {
            driver.pattern(pattern.get_ref(), sink, source, rate)?;
        }
        Ok(())
    }

    fn rate_hz(&self, tool: &Tool) -> f32 {
        self.spec
            .settings
            .rate_hz
            .or(tool.profile.rate_hz)
            .unwrap_or(100.0)
    }
}

// The recorded-session format lives in `recording`; these names stay for
// the callers that know them here.
pub use crate::recording::{record_line, replay, replay_file};

/// Parses one line of a recorded session; `line_no` is 1-based, for errors
/// (see [`crate::recording::parse_line`]).
pub fn parse_event(path: &Path, line_no: usize, line: &str) -> Result<Event> {
    Ok(crate::recording::parse_line(path, line_no, line)?)
}
