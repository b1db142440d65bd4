//! `penlab sim compare A B`: two sessions (scripts or recordings) on the
//! same surface, side by side: each skill's value and score in both and the
//! difference, the cue counts, and a difference heatmap (B − A).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cues::{CueConfig, CueKind};
use crate::diffmap;
use crate::error::{Error, Result};
use crate::headless::{HeadlessError, Simulated, simulate, write_json};
use crate::metrics::{Class, MetricsConfig};
use crate::overrides::ScriptOverrides;
use crate::report::Report;
use crate::rubric::{Rubric, Skill};
use crate::script::{
    Along, Area, Pattern, PatternKind, ReplayStrikes, Script, ScriptSpec, Settings, SurfaceSpec,
    ToolSpec, parse_event,
};
use crate::session::Event;

/// Format tag of the comparison.
pub const COMPARISON_FORMAT: &str = "penlab-session-comparison";

/// What a comparison reads and writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    /// The first session (the trainer's or an expert's): a script (.toml) or a recording.
    pub a: PathBuf,
    /// The second session (the trainee's).
    pub b: PathBuf,
    /// Score both against this rubric (a shipped name or a file).
    pub rubric: Option<String>,
    /// Write the comparison JSON here.
    pub report: Option<PathBuf>,
    /// Write the difference heatmap PNG here.
    pub heatmap: Option<PathBuf>,
    /// Surface, tool and grid for both (recordings without a header need
    /// surface and tool).
    pub overrides: ScriptOverrides,
}

/// One session's headline in a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// The file.
    pub source: String,
    /// Surface name.
    pub surface: String,
    /// Tool profile name.
    pub tool: String,
    /// Duration, s.
    pub duration_s: f64,
    /// Punctures.
    pub punctures: u64,
    /// Weighted rubric total, with a rubric.
    pub total: Option<f64>,
    /// Passed the rubric, with a rubric.
    pub passed: Option<bool>,
}

/// One skill in both sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillDelta {
    /// The skill.
    pub skill: Skill,
    /// Its unit.
    pub unit: String,
    /// Value in A.
    pub a: f64,
    /// Value in B.
    pub b: f64,
    /// B − A.
    pub delta: f64,
    /// Score in A, with a rubric that scores it.
    pub score_a: Option<f64>,
    /// Score in B.
    pub score_b: Option<f64>,
    /// Score B − A.
    pub score_delta: Option<f64>,
}

/// How the two density maps differ over the treatment area.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DensityDelta {
    /// Area-weighted mean of |B − A|, punctures/cm².
    pub mean_abs_per_cm2: f64,
    /// Largest B − A, punctures/cm².
    pub max_b_over_a_per_cm2: f64,
    /// Largest A − B, punctures/cm².
    pub max_a_over_b_per_cm2: f64,
    /// Area where |B − A| exceeds half the target band's width, cm².
    pub differing_cm2: f64,
}

/// The comparison, as written to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Always [`COMPARISON_FORMAT`].
    pub format: String,
    /// Format version, 1.
    pub version: u32,
    /// The rubric's name, if one scored them.
    pub rubric: Option<String>,
    /// Session A.
    pub a: Side,
    /// Session B.
    pub b: Side,
    /// Per skill, in report order.
    pub skills: Vec<SkillDelta>,
    /// Cue counts: name → [A, B].
    pub cues: BTreeMap<String, [u32; 2]>,
    /// The density maps.
    pub density: DensityDelta,
}

/// A session file as a script: a script as it is, a recording as a script
/// that replays it with its recorded strikes, on the surface and tool its
/// header names (or the overrides).
pub fn load_session(path: &Path, overrides: &ScriptOverrides) -> Result<Script> {
    let is_script = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let mut script = if is_script {
        Script::load(path)?
    } else {
        recording_script(path, overrides)?
    };
    overrides.apply(&mut script)?;
    Ok(script)
}

fn recording_script(path: &Path, overrides: &ScriptOverrides) -> Result<Script> {
    // Only the header is needed here; the replay streams the rest.
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut header = None;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if !line.trim().is_empty() {
            header = Some(parse_event(path, i + 1, &line)?);
            break;
        }
    }
    let (tool, surface) = match header {
        Some(Event::Header { tool, surface, .. }) => (tool, surface),
        _ => (None, None),
    };
    let need = |what: &str, flag: &str| {
        Error::Invalid(format!(
            "{}: the recording's header names no {what}; give {flag}",
            path.display()
        ))
    };
    let tool = overrides
        .tool
        .clone()
        .or(tool)
        .ok_or_else(|| need("tool", "--tool"))?;
    let surface = overrides
        .surface
        .clone()
        .or(surface)
        .ok_or_else(|| need("surface", "--surface"))?;
    let file = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
    let replay = Pattern {
        kind: PatternKind::Replay,
        area: Area::default(),
        speed_mm_s: None,
        overlap: 0.0,
        spacing_mm: None,
        passes: 1,
        along: Along::U,
        radius_mm: None,
        points: Vec::new(),
        file: Some(file),
        strikes: ReplayStrikes::Recorded,
    };
    let mut script = Script {
        path: path.to_owned(),
        spec: ScriptSpec {
            surface: SurfaceSpec {
                builtin: Some("flat-pad".into()),
                mesh: None,
                units: None,
                grid: 512,
            },
            tool: ToolSpec { profile: tool },
            settings: Settings::default(),
            metrics: MetricsConfig::default(),
            zones: BTreeMap::new(),
            tool_profile: Vec::new(),
            pattern: vec![toml::Spanned::new(0..0, replay)],
        },
    };
    ScriptOverrides {
        surface: Some(surface),
        ..ScriptOverrides::default()
    }
    .apply(&mut script)?;
    Ok(script)
}

fn side(path: &Path, r: &Report) -> Side {
    Side {
        source: path.display().to_string(),
        surface: r.surface.clone(),
        tool: r.tool.clone(),
        duration_s: r.duration_s,
        punctures: r.punctures,
        total: r.rubric.as_ref().map(|s| s.total),
        passed: r.rubric.as_ref().map(|s| s.passed),
    }
}

/// Compares two simulated sessions.
pub fn comparison(
    paths: [&Path; 2],
    a: &Simulated,
    b: &Simulated,
    rubric: Option<&Rubric>,
) -> Result<Comparison> {
    let (ra, rb) = (&a.analysis.report, &b.analysis.report);
    if ra.surface != rb.surface || a.analysis.density.len() != b.analysis.density.len() {
        return Err(Error::Invalid(format!(
            "A is on {} ({} texels a side) and B on {} ({}): compare sessions on the same surface and grid",
            ra.surface, ra.grid, rb.surface, rb.grid
        )));
    }
    let skills = Skill::ALL
        .into_iter()
        .map(|skill| {
            let (va, vb) = (skill.value(ra), skill.value(rb));
            let score = |r: &Report| r.rubric.as_ref()?.skill(skill).map(|s| s.score);
            let (sa, sb) = (score(ra), score(rb));
            SkillDelta {
                skill,
                unit: skill.unit().into(),
                a: va,
                b: vb,
                delta: vb - va,
                score_a: sa,
                score_b: sb,
                score_delta: sa.zip(sb).map(|(x, y)| y - x),
            }
        })
        .collect();
    let mut cues = BTreeMap::new();
    for k in CueKind::ALL {
        let n = |r: &Report| r.cues.as_ref().map_or(0, |c| c.fired(k));
        cues.insert(k.name().to_owned(), [n(ra), n(rb)]);
    }
    Ok(Comparison {
        format: COMPARISON_FORMAT.into(),
        version: 1,
        rubric: rubric.map(|r| r.name.clone()),
        a: side(paths[0], ra),
        b: side(paths[1], rb),
        skills,
        cues,
        density: density_delta(a, b),
    })
}

fn density_delta(a: &Simulated, b: &Simulated) -> DensityDelta {
    let area = &a.session.surface().area.area_cm2;
    let [lo, hi] = a.analysis.report.settings.band_per_cm2;
    let (mut sum, mut total) = (0.0f64, 0.0f64);
    let mut out = DensityDelta::default();
    for (i, &w) in area.iter().enumerate().take(a.analysis.density.len()) {
        let inside = a.analysis.class[i] != Class::Outside || b.analysis.class[i] != Class::Outside;
        if !inside {
            continue;
        }
        let d = f64::from(b.analysis.density[i] - a.analysis.density[i]);
        let w = f64::from(w);
        sum += d.abs() * w;
        total += w;
        out.max_b_over_a_per_cm2 = out.max_b_over_a_per_cm2.max(d);
        out.max_a_over_b_per_cm2 = out.max_a_over_b_per_cm2.max(-d);
        if d.abs() > (hi - lo) / 2.0 {
            out.differing_cm2 += w;
        }
    }
    out.mean_abs_per_cm2 = if total > 0.0 { sum / total } else { 0.0 };
    out
}

/// Runs both sessions, writes the files asked for and a summary to `out`.
pub fn run(options: &Compare, out: &mut dyn Write) -> Result<(), HeadlessError> {
    let rubric = options.rubric.as_deref().map(Rubric::find).transpose()?;
    let mut sims = Vec::with_capacity(2);
    for path in [&options.a, &options.b] {
        let script = load_session(path, &options.overrides)?;
        let mut sim = simulate(&script, &CueConfig::default())?;
        if let Some(r) = &rubric {
            sim.analysis.report.rubric = Some(r.score(&sim.analysis.report));
        }
        sims.push(sim);
    }
    let (a, b) = (&sims[0], &sims[1]);
    let c = comparison([&options.a, &options.b], a, b, rubric.as_ref())?;
    if let Some(path) = &options.report {
        write_json(path, &c)?;
    }
    if let Some(path) = &options.heatmap {
        let scale = a.analysis.report.settings.hot_above_per_cm2;
        let names = [c.a.source.as_str(), c.b.source.as_str()];
        let img = diffmap::render(&a.analysis, &b.analysis, scale, names)?;
        img.save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| match e {
                image::ImageError::IoError(io) => Error::io(path, io),
                other => Error::Render(other.to_string()),
            })?;
    }
    let printed = summary(out, &c, options);
    match printed {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("the summary on standard output", e).into())
        }
        _ => Ok(()),
    }
}

fn summary(out: &mut dyn Write, c: &Comparison, options: &Compare) -> std::io::Result<()> {
    writeln!(out, "A {} ({} on {})", c.a.source, c.a.tool, c.a.surface)?;
    writeln!(out, "B {} ({} on {})", c.b.source, c.b.tool, c.b.surface)?;
    if let (Some(ta), Some(tb)) = (c.a.total, c.b.total) {
        writeln!(
            out,
            "rubric {}: A {ta:.1}, B {tb:.1} ({:+.1})",
            c.rubric.as_deref().unwrap_or(""),
            tb - ta
        )?;
    }
    for s in &c.skills {
        writeln!(
            out,
            "  {:<18} A {:>9.3}  B {:>9.3}  Δ {:>+9.3} {}",
            s.skill.name(),
            s.a,
            s.b,
            s.delta,
            s.unit
        )?;
    }
    writeln!(
        out,
        "density       mean |B − A| {:.0} /cm², {:.2} cm² differ by more than half the band",
        c.density.mean_abs_per_cm2, c.density.differing_cm2
    )?;
    for (what, path) in [("report", &options.report), ("heatmap", &options.heatmap)] {
        if let Some(p) = path {
            writeln!(out, "{what:<13} {}", p.display())?;
        }
    }
    Ok(())
}
