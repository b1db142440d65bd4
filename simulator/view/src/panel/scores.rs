//! The panel's scores: coverage in band, density, evenness, gaps, hot
//! spots, passes and depth violations, and the density histogram.

use bevy_egui::egui;
use egui_plot::{Bar, BarChart, Plot};
use penlab_simulator::heatmap::class_colour;
use penlab_simulator::metrics::{self, Class};

use super::{LiveMetrics, rgb};
use crate::pen::Live;

/// Width of a density histogram bin, punctures/cm².
const DENSITY_BIN: f64 = 25.0;

pub(super) fn scores_section(ui: &mut egui::Ui, live: &Live, scores: &LiveMetrics) {
    ui.heading("Scores");
    let Some(a) = &scores.analysis else {
        ui.label("…");
        return;
    };
    let r = &a.report;
    let [lo, hi] = r.settings.band_per_cm2;
    egui::Grid::new("scores").num_columns(2).show(ui, |ui| {
        ui.label("Coverage in band");
        ui.label(format!("{:.1} % ({lo}–{hi} /cm²)", r.coverage * 100.0));
        ui.end_row();
        ui.label("Mean density");
        ui.label(format!("{:.0} /cm²", r.mean_density_per_cm2));
        ui.end_row();
        ui.label("Evenness (CV)");
        ui.label(format!("{:.3}", r.evenness_cv));
        ui.end_row();
        ui.label("Gaps");
        ui.label(format!(
            "{} ({:.2} cm²)",
            r.gaps.count, r.gaps.total_area_cm2
        ));
        ui.end_row();
        ui.label("Hot spots");
        ui.label(format!(
            "{} ({:.2} cm²)",
            r.hot_spots.count, r.hot_spots.total_area_cm2
        ));
        ui.end_row();
        let cells: Vec<_> = r
            .passes
            .regions
            .iter()
            .filter(|g| g.region.starts_with("cell"))
            .collect();
        ui.label("Passes");
        ui.label(format!(
            "{} strokes, {:.0} mm/s, crosshatched {}/{}",
            r.passes.strokes,
            r.passes.mean_speed_mm_s,
            cells.iter().filter(|c| c.crosshatch).count(),
            cells.len()
        ));
        ui.end_row();
        ui.label("Depth violations");
        let text = format!("{}", r.depth.violations);
        if r.depth.violations > 0 {
            ui.colored_label(egui::Color32::from_rgb(220, 50, 50), text);
        } else {
            ui.label(text);
        }
        ui.end_row();
        ui.label("Punctures");
        ui.label(format!("{} from {} strikes", r.punctures, r.strikes));
        ui.end_row();
    });
    // Density histogram over the treatment area, bars in the class colours.
    let config = live.0.coverage.config();
    let top = config.hot_above_per_cm2 * 1.5;
    let bins = (top / DENSITY_BIN).ceil() as usize + 1;
    let mut counts = vec![0u64; bins];
    for (d, c) in a.density.iter().zip(&a.class) {
        if *c != Class::Outside {
            counts[((f64::from(*d) / DENSITY_BIN) as usize).min(bins - 1)] += 1;
        }
    }
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let centre = (k as f64 + 0.5) * DENSITY_BIN;
            Bar::new(centre, n as f64)
                .width(DENSITY_BIN * 0.9)
                .fill(rgb(class_colour(metrics::classify(centre, config))))
        })
        .collect();
    ui.label("Density over the treatment area (texels per /cm² bin)");
    Plot::new("density-histogram")
        .height(110.0)
        .allow_scroll(false)
        .allow_drag(false)
        .show(ui, |p| p.bar_chart(BarChart::new("density", bars)));
}
