//! The trainee's graphs: hand speed, density under the tool and needle
//! depth along the session ([`Series`]), each against its band: the value
//! as a line, the ideal as a green line, the minimum and maximum as red
//! dashed lines (as welding trainers draw them).

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::prelude::*;
use plotters::style::FontFamily;

use crate::error::{Error, Result};
use crate::heatmap::{FONT, register_font};
use crate::series::{Point, Series};

/// Size of each graph, pixels.
pub const SIZE: (u32, u32) = (900, 280);
/// Colour of the measured value (RGB).
pub const VALUE_COLOUR: [u8; 3] = [31, 100, 180];
/// Colour of the ideal line.
pub const IDEAL_COLOUR: [u8; 3] = [49, 163, 84];
/// Colour of the minimum and maximum lines.
pub const LIMIT_COLOUR: [u8; 3] = [215, 25, 28];

/// One of the graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graph {
    /// Hand speed along the skin against the speed band.
    Speed,
    /// Density under the tool against the target band.
    Density,
    /// Needle depth against the zone's limit.
    Depth,
}

/// A band line: its label, whether it is the ideal (else a minimum or
/// maximum), and its points (time s, value).
pub type BandLine = (String, bool, Vec<(f64, f64)>);

impl Graph {
    /// Every graph, in the report's order.
    pub const ALL: [Graph; 3] = [Graph::Speed, Graph::Density, Graph::Depth];

    /// Short name, for file names and HTML ids.
    pub fn name(self) -> &'static str {
        match self {
            Graph::Speed => "speed",
            Graph::Density => "density",
            Graph::Depth => "depth",
        }
    }

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Graph::Speed => "Hand speed",
            Graph::Density => "Density under the tool",
            Graph::Depth => "Needle depth",
        }
    }

    /// The value's unit.
    pub fn unit(self) -> &'static str {
        match self {
            Graph::Speed => "mm/s",
            Graph::Density => "punctures/cm²",
            Graph::Depth => "mm",
        }
    }

    /// This graph's value at a point.
    pub fn value(self, p: &Point) -> Option<f64> {
        match self {
            Graph::Speed => p.speed_mm_s,
            Graph::Density => Some(p.density_per_cm2),
            Graph::Depth => Some(p.depth_mm),
        }
    }

    /// The lines this graph is judged against in `s`: the band's edges and
    /// its ideal (the view's panel draws the same ones).
    pub fn bands(self, s: &Series) -> Vec<BandLine> {
        let flat =
            |label: String, ideal: bool, y: f64| (label, ideal, vec![(s.start_s, y), (s.end_s, y)]);
        match self {
            Graph::Speed => {
                let mut lines = Vec::new();
                if let Some([lo, hi]) = s.speed_band_mm_s {
                    lines.push(flat(format!("max {hi:.0}"), false, hi));
                    lines.push(flat(format!("min {lo:.0}"), false, lo));
                }
                if let Some(t) = s.speed_target_mm_s {
                    lines.push(flat(format!("ideal {t:.0}"), true, t));
                }
                lines
            }
            Graph::Density => {
                let [lo, hi] = s.density_band_per_cm2;
                vec![
                    flat(format!("max {hi:.0}"), false, hi),
                    flat(format!("min {lo:.0}"), false, lo),
                    flat(
                        format!("ideal {:.0}", (lo + hi) / 2.0),
                        true,
                        (lo + hi) / 2.0,
                    ),
                ]
            }
            Graph::Depth => {
                // The zone's limit where the tool was: a step line.
                let steps: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter_map(|p| p.depth_limit_mm.map(|l| (p.t, l)))
                    .collect();
                if steps.is_empty() {
                    Vec::new()
                } else {
                    vec![("zone limit".to_owned(), false, steps)]
                }
            }
        }
    }
}

/// The runs of `graph`'s value with no lift (no bucket missing) inside,
/// as (time s, value).
pub fn runs(s: &Series, graph: Graph) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut last_t = f64::NEG_INFINITY;
    for p in &s.points {
        match graph.value(p) {
            Some(v) if p.t - last_t <= 1.5 * s.bucket_s => {
                if let Some(r) = runs.last_mut() {
                    r.push((p.t, v));
                }
            }
            Some(v) => runs.push(vec![(p.t, v)]),
            None => {
                last_t = f64::NEG_INFINITY;
                continue;
            }
        }
        last_t = p.t;
    }
    runs
}

fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

/// Draws one graph as an RGB image of [`SIZE`].
pub fn render(series: &Series, graph: Graph) -> Result<image::RgbImage> {
    register_font()?;
    let err = |e: &dyn std::fmt::Display| Error::Render(e.to_string());
    let mut img = image::RgbImage::from_pixel(SIZE.0, SIZE.1, image::Rgb([255, 255, 255]));
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(img.as_mut(), SIZE)
            .map_err(|e| err(&e))?;
        let root = backend.into_drawing_area();
        let font = |px: u32| (FontFamily::Name(FONT), px).into_font();
        let bands = graph.bands(series);
        let runs = runs(series, graph);
        let top = runs
            .iter()
            .flatten()
            .chain(bands.iter().flat_map(|b| b.2.iter()))
            .map(|p| p.1)
            .fold(0.0f64, f64::max);
        // Room above for the legend.
        let top = (top * 1.3).max(1e-3);
        let (x0, x1) = (series.start_s, series.end_s.max(series.start_s + 1e-3));
        let mut chart = ChartBuilder::on(&root)
            .caption(graph.title(), font(18))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..top)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("time, s")
            .y_desc(graph.unit())
            .label_style(font(12))
            .axis_desc_style(font(13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| err(&e))?;
        for (label, ideal, points) in bands {
            let colour = rgb(if ideal { IDEAL_COLOUR } else { LIMIT_COLOUR });
            let style = colour.stroke_width(2);
            let drawn = if ideal {
                chart.draw_series(LineSeries::new(points, style))
            } else {
                chart.draw_series(DashedLineSeries::new(points, 8, 5, style))
            }
            .map_err(|e| err(&e))?;
            drawn
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], style));
        }
        let value = rgb(VALUE_COLOUR).stroke_width(2);
        for (k, run) in runs.into_iter().enumerate() {
            let drawn = chart
                .draw_series(LineSeries::new(run, value))
                .map_err(|e| err(&e))?;
            if k == 0 {
                drawn
                    .label("session")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], value));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Series {
        let points = (0..100)
            .map(|i| Point {
                t: f64::from(i) * 0.1 + 0.05,
                speed_mm_s: Some(400.0),
                density_per_cm2: 100.0 + 2.0 * f64::from(i),
                depth_mm: 0.5,
                depth_limit_mm: Some(0.3),
            })
            .collect();
        Series {
            start_s: 0.0,
            end_s: 10.0,
            bucket_s: 0.1,
            speed_band_mm_s: Some([300.0, 500.0]),
            speed_target_mm_s: Some(400.0),
            density_band_per_cm2: [250.0, 300.0],
            hot_above_per_cm2: 450.0,
            work_direction: None,
            points,
        }
    }

    fn count(img: &image::RgbImage, c: [u8; 3]) -> usize {
        img.pixels().filter(|p| p.0 == c).count()
    }

    #[test]
    fn each_graph_draws_its_value_and_its_band_lines() {
        let s = series();
        for g in Graph::ALL {
            let img = render(&s, g).unwrap();
            assert_eq!(img.dimensions(), SIZE);
            assert!(count(&img, VALUE_COLOUR) > 200, "{g:?}: value line");
            assert!(count(&img, LIMIT_COLOUR) > 100, "{g:?}: limit lines");
            let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
            assert!(dark > 300, "{g:?}: axes and labels ({dark})");
        }
        assert!(count(&render(&s, Graph::Density).unwrap(), IDEAL_COLOUR) > 200);
        // The constant speed sits on the ideal line: the value is drawn over it.
        let speed = render(&s, Graph::Speed).unwrap();
        // Left of the legend (upper right), which has a sample of the line.
        let rows: Vec<u32> = (0..SIZE.1)
            .filter(|&y| (0..SIZE.0 - 300).any(|x| speed.get_pixel(x, y).0 == VALUE_COLOUR))
            .collect();
        assert!(rows.len() <= 4, "a flat line: {rows:?}");
    }

    #[test]
    fn a_lift_breaks_the_line() {
        let mut s = series();
        s.points.retain(|p| !(4.0..6.0).contains(&p.t));
        let r = runs(&s, Graph::Density);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len() + r[1].len(), 80);
    }
}
