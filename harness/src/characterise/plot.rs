//! The study's plots (`plotters`): depth error against set depth and rate
//! error against set rate, each with its limit band (red beyond it) and
//! marginal band (amber between the two), a point per grid point coloured
//! by its verdict, as PNG and SVG. The font is embedded, so a headless
//! machine needs none installed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, RGBPixel, SVGBackend};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontFamily;

use super::Characterisation;
use crate::measure::Verdict;

const FONT: &str = "penlab-plot-sans";
const SIZE: (u32, u32) = (960, 600);

/// The plots' file stems: `depth-error.png` and `.svg`, `rate-error.…`.
pub const STEMS: [&str; 2] = ["depth-error", "rate-error"];

fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the embedded font was refused".into())
    }
}

/// One plot's data: x, y per point, and the bands.
struct Figure<'a> {
    title: String,
    x_label: &'a str,
    y_label: &'a str,
    /// (x, y of the mean, y of the worst single value, verdict), per point.
    points: Vec<(f64, f64, Option<f64>, Verdict)>,
    /// Half-width of the limit band and of the clean band (the marginal
    /// band lies between), in y units.
    limit: f64,
    marginal: Option<f64>,
    /// Lines through the points of one series (a rate, or a depth).
    series: Vec<(String, Vec<(f64, f64)>)>,
}

fn depth_figure(study: &Characterisation) -> Figure<'static> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut points = Vec::new();
    for p in &study.points {
        let Some(d) = p.depth else { continue };
        let x = f64::from(p.set.depth_um);
        let y = d.mean - x;
        points.push((x, y, Some(d.max_error), p.depth_verdict));
        let name = format!("{} Hz", p.set.rate_hz());
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, line)) => line.push((x, y)),
            None => series.push((name, vec![(x, y)])),
        }
    }
    Figure {
        title: "Depth error against set depth (dot: mean, cross: worst stroke)".into(),
        x_label: "set depth (µm)",
        y_label: "measured - set (µm)",
        points,
        limit: study.limits.depth_abs_um,
        marginal: study.limits.depth_marginal_um,
        series,
    }
}

fn rate_figure(study: &Characterisation) -> Figure<'static> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut points = Vec::new();
    for p in &study.points {
        let Some(r) = p.rate else { continue };
        let x = p.set.rate_hz();
        let y = (r.mean - x) / x * 100.0;
        points.push((x, y, None, p.rate_verdict));
        let name = format!("{} µm", p.set.depth_um);
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, line)) => line.push((x, y)),
            None => series.push((name, vec![(x, y)])),
        }
    }
    Figure {
        title: "Rate error against set rate".into(),
        x_label: "set rate (Hz)",
        y_label: "measured - set (% of set)",
        points,
        limit: study.limits.rate_rel * 100.0,
        marginal: study.limits.rate_marginal_rel.map(|m| m * 100.0),
        series,
    }
}

fn verdict_colour(v: Verdict) -> RGBColor {
    match v {
        Verdict::Pass => RGBColor(26, 127, 55),
        Verdict::Marginal => RGBColor(191, 110, 0),
        Verdict::Fail => RGBColor(200, 30, 30),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure<'_>,
    subtitle: &str,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let font = |px: u32| (FontFamily::Name(FONT), px).into_font();
    let xs = fig.points.iter().map(|p| p.0);
    let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    let pad = ((x1 - x0) * 0.05).max(1.0);
    let worst = fig
        .points
        .iter()
        .flat_map(|p| [p.1.abs(), p.2.map_or(0.0, f64::abs)])
        .fold(0.0, f64::max);
    // Room above the limit for the legend, and for every point.
    let y = (worst * 1.15).max(fig.limit * 1.6).max(1e-3);
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, font(22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((x0 - pad)..(x1 + pad), -y..y)
        .map_err(|e| err(&e))?;
    let (lx, hx) = (x0 - pad, x1 + pad);
    let band = |lo: f64, hi: f64, c: RGBColor| Rectangle::new([(lx, lo), (hx, hi)], c.filled());
    // Outside the limit: red; between the limit and the clean band: amber.
    chart
        .draw_series([
            band(fig.limit, y, RGBColor(251, 222, 222)),
            band(-y, -fig.limit, RGBColor(251, 222, 222)),
        ])
        .map_err(|e| err(&e))?;
    if let Some(m) = fig.marginal {
        chart
            .draw_series([
                band(m, fig.limit, RGBColor(255, 239, 204)),
                band(-fig.limit, -m, RGBColor(255, 239, 204)),
            ])
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_mesh()
        .x_desc(fig.x_label)
        .y_desc(fig.y_label)
        .label_style(font(14))
        .axis_desc_style(font(16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, limit) in [fig.limit, -fig.limit].into_iter().enumerate() {
        let line = chart
            .draw_series(LineSeries::new(
                [(lx, limit), (hx, limit)],
                RED.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
        if k == 0 {
            line.label(format!("limit ±{}", fig.limit))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RED.stroke_width(2)));
        }
    }
    let labelled = fig.series.len() <= 8;
    for (i, (name, line)) in fig.series.iter().enumerate() {
        let colour = Palette99::pick(i).mix(0.9);
        let drawn = chart
            .draw_series(LineSeries::new(
                line.iter().copied(),
                colour.stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
        if labelled {
            drawn
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour));
        }
    }
    chart
        .draw_series(fig.points.iter().filter_map(|&(x, _, w, v)| {
            w.map(|w| Cross::new((x, w), 4, verdict_colour(v).stroke_width(1)))
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            fig.points
                .iter()
                .map(|&(x, m, _, v)| Circle::new((x, m), 4, verdict_colour(v).filled())),
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.draw(&Text::new(
        subtitle.to_owned(),
        (16, SIZE.1 as i32 - 18),
        font(12),
    ))
    .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

fn subtitle(study: &Characterisation) -> String {
    let device = study
        .device
        .as_ref()
        .map(|d| format!("{} {} s/n {}", d.model, d.firmware, d.serial))
        .unwrap_or_else(|| study.target.clone());
    format!(
        "{device} · {} strokes a point · {}",
        study.strokes_per_point, study.tool
    )
}

/// One plot, rendered both ways.
pub struct Rendered {
    /// The file stem (one of [`STEMS`]).
    pub stem: &'static str,
    /// The PNG file.
    pub png: Vec<u8>,
    /// The SVG file.
    pub svg: String,
}

/// Renders both plots.
pub fn render(study: &Characterisation) -> Result<Vec<Rendered>, String> {
    register_font()?;
    let subtitle = subtitle(study);
    [
        (STEMS[0], depth_figure(study)),
        (STEMS[1], rate_figure(study)),
    ]
    .into_iter()
    .map(|(stem, fig)| {
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, SIZE)
                .map_err(|e| e.to_string())?;
            draw(&backend.into_drawing_area(), &fig, &subtitle)?;
        }
        let mut svg = String::new();
        {
            let backend = SVGBackend::with_string(&mut svg, SIZE);
            draw(&backend.into_drawing_area(), &fig, &subtitle)?;
        }
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            &rgb,
            SIZE.0,
            SIZE.1,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
        Ok(Rendered { stem, png, svg })
    })
    .collect()
}

/// Writes the plots into `dir`; returns the file names.
pub fn write(study: &Characterisation, dir: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    for Rendered { stem, png, svg } in render(study).map_err(std::io::Error::other)? {
        for (ext, bytes) in [("png", png.as_slice()), ("svg", svg.as_bytes())] {
            let name = format!("{stem}.{ext}");
            std::fs::write(dir.join(&name), bytes)?;
            files.push(name);
        }
    }
    Ok(files)
}
