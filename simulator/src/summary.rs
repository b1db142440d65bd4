//! The headless report as text: the few lines `penlab sim --headless`
//! prints, one subject a line, with a fixed-width label first.

use std::io::Write;

use crate::cues::CueReport;
use crate::report::Report;
use crate::rubric::Scores;

/// Writes the summary of a report.
pub fn write_summary(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let [lo, hi] = r.settings.band_per_cm2;
    writeln!(
        out,
        "{} on {}: {:.1} s, {} punctures from {} strikes",
        r.tool, r.surface, r.duration_s, r.punctures, r.strikes
    )?;
    writeln!(
        out,
        "coverage      {:.1} % of {:.2} cm² in {lo}–{hi} /cm²",
        r.coverage * 100.0,
        r.area.treatment_cm2
    )?;
    writeln!(
        out,
        "density       mean {:.0} /cm², evenness CV {:.3}",
        r.mean_density_per_cm2, r.evenness_cv
    )?;
    for (name, set) in [("gaps", &r.gaps), ("hot spots", &r.hot_spots)] {
        match set.largest.first() {
            Some(big) => writeln!(
                out,
                "{name:<13} {} ({:.2} cm²), largest {:.2} cm² at uv ({:.2}, {:.2}){}",
                set.count,
                set.total_area_cm2,
                big.area_cm2,
                big.centroid_uv.x,
                big.centroid_uv.y,
                big.zone
                    .as_ref()
                    .map(|z| format!(" in {z}"))
                    .unwrap_or_default()
            )?,
            None => writeln!(out, "{name:<13} none")?,
        }
    }
    let cells: Vec<_> = r
        .passes
        .regions
        .iter()
        .filter(|g| g.region.starts_with("cell"))
        .collect();
    writeln!(
        out,
        "passes        {} strokes, mean speed {:.0} mm/s, crosshatched in {}/{} cells",
        r.passes.strokes,
        r.passes.mean_speed_mm_s,
        cells.iter().filter(|g| g.crosshatch).count(),
        cells.len()
    )?;
    writeln!(
        out,
        "depth         mean {:.2} mm, max {:.2} mm, {} over a zone limit",
        r.depth.mean_mm, r.depth.max_mm, r.depth.violations
    )?;
    for z in r.depth.zones.iter().filter(|z| z.violations > 0) {
        writeln!(
            out,
            "  {:<11} {} of {} punctures deeper than {:.2} mm (max {:.2} mm)",
            z.zone,
            z.violations,
            z.punctures,
            z.limit_mm.unwrap_or(f32::INFINITY),
            z.max_mm
        )?;
    }
    if let Some(cues) = &r.cues {
        write_cues(out, cues)?;
    }
    if let Some(scores) = &r.rubric {
        write_scores(out, scores)?;
    }
    Ok(())
}

/// Writes how often each cue fired: `cues  speed-low 2, dwell 1, … (speed band …)`.
pub fn write_cues(out: &mut dyn Write, cues: &CueReport) -> std::io::Result<()> {
    let counts: Vec<String> = cues
        .counts
        .iter()
        .map(|(k, c)| format!("{k} {}", c.fired))
        .collect();
    let band = cues
        .speed_band_mm_s
        .map(|[lo, hi]| format!(" (speed band {lo:.0}–{hi:.0} mm/s)"))
        .unwrap_or_default();
    if counts.is_empty() {
        writeln!(out, "cues          off")
    } else {
        writeln!(out, "cues          {}{band}", counts.join(", "))
    }
}

/// Writes the rubric scores: the total and verdict, then one line a skill.
pub fn write_scores(out: &mut dyn Write, s: &Scores) -> std::io::Result<()> {
    writeln!(
        out,
        "rubric        {}: {:.1} / 100, {} (pass mark {:.0})",
        s.rubric,
        s.total,
        if s.passed { "PASS" } else { "FAIL" },
        s.pass_mark
    )?;
    for k in &s.skills {
        let v = |x: f64| {
            if k.unit == "%" {
                format!("{x:.1} %")
            } else {
                format!("{x:.3}")
            }
        };
        writeln!(
            out,
            "  {:<18} {:>8}  score {:>3.0}  target {} in {} – {}{}",
            k.skill.name(),
            v(k.value),
            k.score,
            v(k.target),
            v(k.range[0]),
            v(k.range[1]),
            if k.in_range { "" } else { "  OUT OF RANGE" }
        )?;
    }
    Ok(())
}
