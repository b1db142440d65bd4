//! The evidence report for a person: one self-contained HTML page (the
//! plots it shows are files of the bundle beside it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::requirements::protocol_requirements;
use super::{Anomaly, Bundle};
use crate::characterise::Characterisation;
use crate::report::{Outcome, RunReport, TestRecord};

/// Text made safe for HTML.
pub fn esc(text: &str) -> String {
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}\
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.92em}th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}code,.hash{font-family:ui-monospace,monospace;font-size:.9em}\
.hash{word-break:break-all}.badge{display:inline-block;padding:0 .5em;border-radius:.6em;font-weight:600;font-size:.85em}\
.PASS{background:#dafbe1;color:#116329}.MARGINAL{background:#fff1cc;color:#7d4e00}.FAIL,.ERROR{background:#ffebe9;color:#a40e26}\
.SKIP,.UNTESTED{background:#eaeef2;color:#57606a}ul.m{margin:0;padding-left:1.1em}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #d0d7de}.why{color:#a40e26}";

fn badge(label: &str) -> String {
    format!(r#"<span class="badge {label}">{label}</span>"#)
}

/// A measured value to 3 decimals, trailing zeros dropped: `202.603`,
/// `60`, `inf`.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A test's result as the report labels it.
pub fn test_label(t: &TestRecord) -> &'static str {
    match t.outcome {
        Outcome::Passed if t.is_marginal() => "MARGINAL",
        Outcome::Passed => "PASS",
        Outcome::Failed { .. } => "FAIL",
        Outcome::Skipped { .. } => "SKIP",
        Outcome::Error { .. } => "ERROR",
    }
}

/// Renders the report.
pub fn render(b: &Bundle<'_>) -> String {
    let mut h = String::new();
    let p = b.provenance;
    let verdict = b.verdict();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>penlab verification evidence</title><style>{STYLE}</style></head><body>\n\
         <h1>penlab verification evidence</h1>\n<p id=\"verdict\">Overall result: {} \
         &middot; {} anomal{}</p>\n",
        badge(verdict.label()),
        b.anomalies().len(),
        if b.anomalies().len() == 1 { "y" } else { "ies" }
    );
    device_section(&mut h, b);
    h.push_str("<h2>Tool, environment and operator</h2>\n<table>\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    row("Tool", &p.tool);
    row("Git commit", &p.git_hash);
    row("Host", &p.host);
    row("Operating system", &p.os);
    row("Operator", &p.operator);
    row("Started (UTC)", &p.started);
    row("Ended (UTC)", &p.ended);
    for (k, v) in &p.settings {
        row(k, v);
    }
    h.push_str("</table>\n");
    if !p.scenarios.is_empty() {
        h.push_str("<h2>Scenario files</h2>\n<table><tr><th>File</th><th>SHA-256</th></tr>\n");
        for s in &p.scenarios {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td class=\"hash\">{}</td></tr>",
                esc(&s.path),
                esc(&s.sha256)
            );
        }
        h.push_str("</table>\n");
    }
    for report in b.reports {
        results_section(&mut h, report, b.reports.len() > 1);
    }
    matrix_section(&mut h, b);
    if let Some(c) = b.characterisation {
        characterisation_section(&mut h, c);
    }
    anomalies_section(&mut h, &b.anomalies());
    h.push_str("<h2>Files of this bundle</h2>\n<p>Each file's SHA-256 is in <code>SHA256SUMS</code> (<code>sha256sum -c SHA256SUMS</code>).</p>\n<ul>\n");
    for f in b.files {
        let _ = writeln!(h, "<li><a href=\"{0}\"><code>{0}</code></a></li>", esc(f));
    }
    h.push_str("</ul>\n</body></html>\n");
    h
}

fn device_section(h: &mut String, b: &Bundle<'_>) {
    h.push_str("<h2>Device under test</h2>\n<table><tr><th>Target</th><th>Model</th><th>Firmware</th><th>Serial</th><th>Protocol</th></tr>\n");
    let mut devices: Vec<(&str, Option<&crate::report::DeviceInfo>)> = b
        .reports
        .iter()
        .map(|r| (r.target.as_str(), r.device.as_ref()))
        .collect();
    if let Some(c) = b.characterisation {
        devices.push((c.target.as_str(), c.device.as_ref()));
    }
    devices.dedup();
    for (target, device) in devices {
        let _ = match device {
            Some(d) => writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(target),
                esc(&d.model),
                esc(&d.firmware),
                esc(&d.serial),
                esc(&d.protocol)
            ),
            None => writeln!(
                h,
                "<tr><td>{}</td><td colspan=\"4\">not reached: no handshake</td></tr>",
                esc(target)
            ),
        };
    }
    h.push_str("</table>\n");
}

fn results_section(h: &mut String, r: &RunReport, named: bool) {
    let t = r.totals();
    let _ = writeln!(
        h,
        "<h2>Test results{}</h2>\n<p>{} passed ({} marginal), {} failed, {} skipped, {} error(s).</p>",
        if named {
            format!(": {}", esc(&r.target))
        } else {
            String::new()
        },
        t.passed,
        t.marginal,
        t.failed,
        t.skipped,
        t.errors
    );
    h.push_str("<table class=\"results\"><tr><th>Result</th><th>Test</th><th>Requirements</th><th>Measurements and limits</th><th>ms</th></tr>\n");
    for test in &r.tests {
        let mut m = String::new();
        if !test.measurements.is_empty() {
            m.push_str("<ul class=\"m\">");
            for x in &test.measurements {
                let _ = write!(
                    m,
                    "<li><code>{}</code> = {} {}; limit {} {}</li>",
                    esc(&x.name),
                    short(x.value),
                    esc(&x.unit),
                    esc(&x.limit.describe(&x.unit)),
                    badge(x.verdict.label())
                );
            }
            m.push_str("</ul>");
        }
        let why = match &test.outcome {
            Outcome::Passed => String::new(),
            Outcome::Failed { message }
            | Outcome::Error { message }
            | Outcome::Skipped { reason: message } => {
                format!("<br><small class=\"why\">{}</small>", esc(message))
            }
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}::{}</code><br>{}{why}</td><td>{}</td><td>{m}</td><td class=\"num\">{:.0}</td></tr>",
            badge(test_label(test)),
            esc(&test.suite),
            esc(&test.id),
            esc(&test.title),
            esc(&test.requirements.join(", ")),
            test.duration.as_secs_f64() * 1e3
        );
    }
    h.push_str("</table>\n");
}

fn matrix_section(h: &mut String, b: &Bundle<'_>) {
    let known = protocol_requirements();
    // Requirement → (tests, worst label), over every run.
    let mut rows: BTreeMap<String, (Vec<String>, &'static str)> = BTreeMap::new();
    let rank = |l: &str| {
        ["PASS", "SKIP", "MARGINAL", "FAIL", "ERROR"]
            .iter()
            .position(|x| *x == l)
    };
    for r in b.reports {
        for test in &r.tests {
            for req in &test.requirements {
                let row = rows.entry(req.clone()).or_insert((Vec::new(), "PASS"));
                row.0.push(format!("{}::{}", test.suite, test.id));
                let label = test_label(test);
                if rank(label) > rank(row.1) {
                    row.1 = label;
                }
            }
        }
    }
    if let Some(c) = b.characterisation {
        let row = rows
            .entry("21 CFR 878.4430(b)(2)(i)".to_owned())
            .or_insert((Vec::new(), "PASS"));
        row.0.push("characterise (accuracy study)".into());
        let label = if c.error.is_some() {
            "ERROR"
        } else {
            c.verdict.label()
        };
        if rank(label) > rank(row.1) {
            row.1 = label;
        }
    }
    h.push_str("<h2>Requirement &rarr; test &rarr; result</h2>\n<table class=\"matrix\"><tr><th>Requirement</th><th>Tests</th><th>Result</th></tr>\n");
    for (req, (tests, label)) in &rows {
        let summary = known
            .iter()
            .find(|k| k.id == req)
            .map(|k| format!("<br><small>{} {}</small>", esc(k.level), esc(k.summary)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code>{summary}</td><td>{}</td><td>{}</td></tr>",
            esc(req),
            tests
                .iter()
                .map(|t| format!("<code>{}</code>", esc(t)))
                .collect::<Vec<_>>()
                .join("<br>"),
            badge(label)
        );
    }
    h.push_str("</table>\n");
    let untested: Vec<_> = known.iter().filter(|k| !rows.contains_key(k.id)).collect();
    if !untested.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>{} of the {} requirements of <code>protocol/REQUIREMENTS.md</code> are not named by any test of this run</summary>\n<table><tr><th>Requirement</th><th>Level</th><th>Summary</th><th>Result</th></tr>",
            untested.len(),
            known.len()
        );
        for k in untested {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(k.id),
                esc(k.level),
                esc(k.summary),
                badge("UNTESTED")
            );
        }
        h.push_str("</table></details>\n");
    }
}

fn characterisation_section(h: &mut String, c: &Characterisation) {
    let (pass, marginal, fail) = c.counts();
    let _ = writeln!(
        h,
        "<h2>Accuracy study (21 CFR 878.4430(b)(2)(i))</h2>\n<p>{} {} points, {} strokes each: {pass} pass, {marginal} marginal, {fail} fail. \
         Depth: every stroke within &plusmn;{} &micro;m{}; rate: the mean within &plusmn;{} %{}.</p>",
        badge(if c.error.is_some() {
            "ERROR"
        } else {
            c.verdict.label()
        }),
        c.points.len(),
        c.strokes_per_point,
        c.limits.depth_abs_um,
        c.limits
            .depth_marginal_um
            .map(|m| format!(" (marginal beyond &plusmn;{m} &micro;m)"))
            .unwrap_or_default(),
        c.limits.rate_rel * 100.0,
        c.limits
            .rate_marginal_rel
            .map(|m| format!(" (marginal beyond &plusmn;{} %)", m * 100.0))
            .unwrap_or_default(),
    );
    if let Some(d) = &c.declared {
        let _ = writeln!(
            h,
            "<p>Declared range (21 CFR 878.4430(b)(1)): depth {}&ndash;{} &micro;m in steps of {} &micro;m, labelled maximum {} &micro;m; rate {}&ndash;{} Hz in steps of {} Hz.</p>",
            d.depth_um[0],
            d.depth_um[1],
            d.depth_um[2],
            d.labelled_max_depth_um,
            f64::from(d.rate_chz[0]) / 100.0,
            f64::from(d.rate_chz[1]) / 100.0,
            f64::from(d.rate_chz[2]) / 100.0
        );
    }
    for stem in crate::characterise::plot::STEMS {
        let _ = writeln!(
            h,
            "<figure><img src=\"characterisation/{stem}.svg\" alt=\"{stem}\"></figure>"
        );
    }
    h.push_str("<table class=\"points\"><tr><th>Set depth &micro;m</th><th>Set rate Hz</th><th>Strokes</th><th>Depth mean</th><th>SD</th><th>Max error</th><th>Rate mean Hz</th><th>SD</th><th>Gauge mean</th><th>Result</th></tr>\n");
    let num = |v: Option<f64>, places: usize| {
        v.map(|v| format!("{v:.places$}"))
            .unwrap_or_else(|| "&ndash;".into())
    };
    for p in &c.points {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            p.set.depth_um,
            p.set.rate_hz(),
            p.strokes,
            num(p.depth.map(|d| d.mean), 1),
            num(p.depth.map(|d| d.sd), 1),
            num(p.depth.map(|d| d.max_error), 1),
            num(p.rate.map(|r| r.mean), 2),
            num(p.rate.map(|r| r.sd), 2),
            num(p.reference.as_ref().map(|g| g.gauge_mean_um), 1),
            badge(p.verdict.label())
        );
    }
    h.push_str("</table>\n");
}

fn anomalies_section(h: &mut String, anomalies: &[Anomaly]) {
    let _ = writeln!(h, "<h2>Anomalies</h2>");
    if anomalies.is_empty() {
        h.push_str("<p id=\"no-anomalies\">None: nothing failed, was marginal, could not be carried out or was skipped.</p>\n");
        return;
    }
    h.push_str("<table class=\"anomalies\"><tr><th>Kind</th><th>Where</th><th>What</th></tr>\n");
    for a in anomalies {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            badge(a.kind),
            esc(&a.place),
            esc(&a.reason)
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short() {
        assert_eq!(short(202.603_174_6), "202.603");
        assert_eq!(short(60.0), "60");
        assert_eq!(short(f64::INFINITY), "inf");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
