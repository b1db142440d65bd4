//! The trainee's session report: one printable HTML file with the rubric
//! scores and per-skill bars, the heatmap and a 3D snapshot of the surface,
//! the graphs of speed, density and depth against their bands (images
//! embedded as data URIs, so the file stands alone), the cue counts, the
//! session's facts and, when the session was recorded in a trainee's
//! history, where the trainee stands on the rubric's certification.

use std::fmt::Write;

use data_encoding::BASE64;

use crate::error::{Error, Result};
use crate::graphs::{self, Graph};
use crate::heatmap;
use crate::metrics::Analysis;
use crate::rubric::{Rubric, Skill};
use crate::snapshot::{self, Camera};
use crate::surface::Surface;

/// Who and when, for the report's heading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct People {
    /// The trainee's name.
    pub trainee: Option<String>,
    /// The trainer's name.
    pub trainer: Option<String>,
    /// The device (pen) used.
    pub device: Option<String>,
    /// When, as text (the binary passes the current time).
    pub date: Option<String>,
}

/// Where the trainee stands on the rubric's certification once this
/// session is counted, as the history says (the binary fills it in from
/// penlab-store after recording the session; the engine knows no SQLite).
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Certified on the rubric.
    pub certified: bool,
    /// What to say, e.g. "certified: passes in a row on attempts 1–2".
    pub text: String,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A PNG as a data URI.
fn png_uri(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", BASE64.encode(png))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}\
h1{margin-bottom:.2rem}table{border-collapse:collapse;margin:1rem 0}\
td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}\
.bar{background:#eee;width:12rem;height:.9rem}.bar div{height:100%}\
.ok{background:#31a354}.low{background:#d7191c}.pass{color:#31a354}.fail{color:#d7191c}\
img{max-width:100%;border:1px solid #ccc}\
@media print{body{margin:0}.bar,.bar div{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// The report as one HTML document; `surface` is the one the session
/// worked, for the 3D snapshot; `standing`, the certification once this
/// session is counted (None when it was not recorded in a history).
pub fn html(
    analysis: &Analysis,
    rubric: Option<&Rubric>,
    people: &People,
    surface: &Surface,
    standing: Option<&Standing>,
) -> Result<String> {
    let r = &analysis.report;
    let png = heatmap::png_bytes(&heatmap::render(analysis)?)?;
    let mut h = String::new();
    let w = |e: std::fmt::Error| Error::Render(e.to_string());
    let who = |v: &Option<String>| v.as_deref().map_or("—".into(), escape);
    write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>penlab session report</title><style>{STYLE}</style></head><body>\n\
         <h1>Session report</h1>\n<table class=\"facts\">\
         <tr><th>Trainee</th><td>{}</td><th>Trainer</th><td>{}</td></tr>\
         <tr><th>Tool</th><td>{}</td><th>Device</th><td>{}</td></tr>\
         <tr><th>Surface</th><td>{}</td><th>Date</th><td>{}</td></tr>\
         <tr><th>Duration</th><td>{:.1} s</td><th>Punctures</th><td>{}</td></tr></table>\n",
        who(&people.trainee),
        who(&people.trainer),
        escape(&r.tool),
        who(&people.device),
        escape(&r.surface),
        who(&people.date),
        r.duration_s,
        r.punctures,
    )
    .map_err(w)?;
    match (&r.rubric, rubric) {
        (Some(s), _) => {
            let verdict = if s.passed { "pass" } else { "fail" };
            write!(
                h,
                "<h2>Scores against the {} rubric</h2>\n<p class=\"total\">Total \
                 <strong>{:.0}</strong> / 100, pass mark {:.0}: \
                 <strong class=\"{verdict}\">{}</strong></p>\n<table class=\"scores\">\
                 <tr><th>Skill</th><th>Value</th><th>Target</th><th>Range</th><th>Score</th><th></th></tr>\n",
                escape(&s.rubric),
                s.total,
                s.pass_mark,
                verdict.to_uppercase(),
            )
            .map_err(w)?;
            for k in &s.skills {
                let class = if k.in_range { "ok" } else { "low" };
                writeln!(
                    h,
                    "<tr class=\"skill\" data-skill=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{} – {}</td><td>{:.0}</td><td><div class=\"bar\"><div class=\"{class}\" \
                     style=\"width:{:.0}%\"></div></div></td></tr>",
                    k.skill.name(),
                    k.skill.title(),
                    value(k.skill, k.value),
                    value(k.skill, k.target),
                    value(k.skill, k.range[0]),
                    value(k.skill, k.range[1]),
                    k.score,
                    k.score,
                )
                .map_err(w)?;
            }
            h.push_str("</table>\n");
            if !s.out_of_range.is_empty() {
                let names: Vec<&str> = s.out_of_range.iter().map(|k| k.title()).collect();
                writeln!(h, "<p>Outside the range: {}.</p>", names.join(", ")).map_err(w)?;
            }
            if let Some(st) = standing {
                let class = if st.certified { "pass" } else { "fail" };
                writeln!(
                    h,
                    "<p class=\"certification\" data-certified=\"{}\">Certification: \
                     <strong class=\"{class}\">{}</strong></p>",
                    st.certified,
                    escape(&st.text)
                )
                .map_err(w)?;
            }
        }
        (None, _) => {
            h.push_str(
                "<h2>Skills</h2>\n<table class=\"scores\"><tr><th>Skill</th><th>Value</th></tr>\n",
            );
            for k in Skill::ALL {
                writeln!(
                    h,
                    "<tr class=\"skill\" data-skill=\"{}\"><td>{}</td><td>{}</td></tr>",
                    k.name(),
                    k.title(),
                    value(k, k.value(r))
                )
                .map_err(w)?;
            }
            h.push_str("</table>\n<p>No rubric was given, so nothing is scored.</p>\n");
        }
    }
    let work = r.series.as_ref().and_then(|s| s.work_direction);
    let camera = Camera::fit(
        &surface.mesh,
        snapshot::viewing_direction(&surface.mesh, work),
    );
    let shot = heatmap::png_bytes(&snapshot::render(surface, analysis, &camera))?;
    write!(
        h,
        "<h2>Where the needles went</h2>\n<img class=\"heatmap\" alt=\"density heatmap\" src=\"{}\">\n\
         <img class=\"snapshot\" alt=\"the surface in 3D, coloured by density\" src=\"{}\">\n",
        png_uri(&png),
        png_uri(&shot),
    )
    .map_err(w)?;
    if let Some(series) = r.series.as_ref().filter(|s| !s.points.is_empty()) {
        h.push_str(
            "<h2>Along the session</h2>\n<p>The value in blue, the ideal in green, \
             the minimum and maximum dashed in red.</p>\n",
        );
        for graph in Graph::ALL {
            let png = heatmap::png_bytes(&graphs::render(series, graph)?)?;
            writeln!(
                h,
                "<img class=\"graph\" data-graph=\"{}\" alt=\"{}\" src=\"{}\">",
                graph.name(),
                graph.title(),
                png_uri(&png)
            )
            .map_err(w)?;
        }
    }
    if let Some(c) = &r.cues {
        h.push_str("<h2>Technique cues</h2>\n<table class=\"cues\"><tr><th>Cue</th><th>Fired</th><th>Time on</th></tr>\n");
        for (k, n) in &c.counts {
            writeln!(
                h,
                "<tr data-cue=\"{}\"><td>{}</td><td>{}</td><td>{:.1} s</td></tr>",
                k.name(),
                k.name(),
                n.fired,
                n.seconds
            )
            .map_err(w)?;
        }
        h.push_str("</table>\n");
        if let Some([lo, hi]) = c.speed_band_mm_s {
            writeln!(h, "<p>Speed band: {lo:.0} – {hi:.0} mm/s.</p>").map_err(w)?;
        }
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

fn value(skill: Skill, v: f64) -> String {
    match skill.unit() {
        "%" => format!("{v:.1} %"),
        _ => format!("{v:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_html_specials() {
        assert_eq!(
            escape("<a & \"b\" 'c'>"),
            "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;"
        );
    }

    #[test]
    fn a_png_becomes_a_data_uri() {
        assert_eq!(png_uri(b"foobar"), "data:image/png;base64,Zm9vYmFy");
    }
}
