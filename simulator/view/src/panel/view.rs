//! The panel's view settings: heatmap mode, its opacity over the skin,
//! erythema, trails, the legend and the frame's cost.

use bevy_egui::egui;
use penlab_live::coverage::HeatmapMode;
use penlab_simulator::heatmap::class_colour;
use penlab_simulator::metrics::Class;

use super::rgb;
use crate::pen::Live;
use crate::tool::Trails;
use crate::upload::UploadStats;

pub(super) fn view_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    trails: &mut Trails,
    upload: &UploadStats,
    dt: f32,
) {
    ui.heading("View");
    let mut mode = live.0.coverage.mode();
    ui.horizontal(|ui| {
        ui.radio_value(&mut mode, HeatmapMode::Density, "Density");
        ui.radio_value(&mut mode, HeatmapMode::Depth, "Depth");
        ui.checkbox(&mut trails.visible, "Trails");
    });
    live.0.coverage.set_mode(mode);
    // The heatmap over the skin: recoloured only when a setting moves.
    let mut look = live.0.coverage.look();
    ui.horizontal(|ui| {
        ui.add(egui::Slider::new(&mut look.opacity, 0.0..=1.0).text("heatmap opacity"));
        ui.checkbox(&mut look.erythema, "Erythema").on_hover_text(
            "Treated skin reddens with its density, seen where the heatmap lets it through",
        );
    });
    live.0.coverage.set_look(look);
    ui.horizontal_wrapped(|ui| {
        let legend: &[(Class, &str)] = &[
            (Class::Gap, "gap"),
            (Class::Under, "under"),
            (Class::InBand, "in band"),
            (Class::Over, "over"),
            (Class::Hot, "hot spot"),
        ];
        for (class, name) in legend {
            ui.colored_label(rgb(class_colour(*class)), format!("■ {name}"));
        }
    });
    ui.label(format!(
        "{:.1} ms/frame · heatmap upload {} tiles, {} KiB",
        dt * 1000.0,
        upload.patches,
        upload.bytes / 1024
    ));
    ui.small("Left button: needles on · right drag: orbit · middle drag: pan · wheel: zoom · ↑↓ depth · ←→ rate · Space motor · E e-stop · H heatmap · T trails · F12 screenshot");
}
