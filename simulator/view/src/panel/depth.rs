//! The panel's depth: strike depth over time against the set depth and
//! the zone's limit, and the skin's layers under the tool.

use bevy_egui::egui;
use egui_plot::{HLine, Line, Plot};
use penlab_live::coverage::depth_colour;

use super::rgb;
use crate::pen::{Live, Settings, ToolPose};

pub(super) fn depth_section(ui: &mut egui::Ui, live: &Live, tool: &ToolPose, settings: &Settings) {
    ui.heading("Depth");
    let series = live.0.depth_series();
    let now = live.0.now();
    let points: Vec<[f64; 2]> = series
        .iter()
        .filter(|(t, _)| now - t < 30.0)
        .map(|(t, d)| [t - now, f64::from(*d)])
        .collect();
    let limit = tool.pose.and_then(|p| live.0.coverage.zone_limit_under(&p));
    Plot::new("depth-over-time")
        .height(110.0)
        .allow_scroll(false)
        .allow_drag(false)
        .include_y(0.0)
        .include_y(f64::from(settings.depth_mm) * 1.3 + 0.1)
        .include_x(-30.0)
        .include_x(0.0)
        .show(ui, |p| {
            p.line(Line::new("strike depth mm", points));
            p.hline(HLine::new("set depth", f64::from(settings.depth_mm)));
            if let Some(l) = limit {
                p.hline(HLine::new("zone limit", f64::from(l)).color(egui::Color32::RED));
            }
        });
    cross_section(ui, live, settings.depth_mm, limit);
}

/// Skin layers under the tool (typical thicknesses, mm; they vary by site).
const LAYERS: [(&str, f32, [u8; 3]); 5] = [
    ("stratum corneum", 0.02, [214, 180, 150]),
    ("epidermis", 0.1, [240, 200, 180]),
    ("papillary dermis", 0.5, [236, 160, 160]),
    ("reticular dermis", 2.0, [210, 120, 120]),
    ("hypodermis", 3.0, [250, 230, 160]),
];

fn cross_section(ui: &mut egui::Ui, live: &Live, set_depth: f32, limit: Option<f32>) {
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), 150.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let full = 3.0f32;
    let y = |d: f32| rect.top() + 10.0 + (d / full) * (rect.height() - 12.0);
    let mut top = 0.0;
    for (name, bottom, c) in LAYERS {
        let r = egui::Rect::from_min_max(
            egui::pos2(rect.left(), y(top)),
            egui::pos2(rect.right(), y(bottom)),
        );
        painter.rect_filled(r, 0.0, rgb(c));
        if r.height() > 12.0 {
            painter.text(
                r.left_center() + egui::vec2(4.0, 0.0),
                egui::Align2::LEFT_CENTER,
                name,
                egui::FontId::proportional(11.0),
                egui::Color32::from_gray(40),
            );
        }
        top = bottom;
    }
    let last = live.0.depth_series().back().map(|(_, d)| *d);
    let needle_colour = {
        let [r, g, b, _] = depth_colour(set_depth);
        egui::Color32::from_rgb(r, g, b)
    };
    for k in 0..5 {
        let x = rect.center().x + (k as f32 - 2.0) * 14.0;
        painter.line_segment(
            [egui::pos2(x, y(0.0) - 8.0), egui::pos2(x, y(set_depth))],
            egui::Stroke::new(2.0, needle_colour),
        );
    }
    if let Some(d) = last {
        painter.line_segment(
            [
                egui::pos2(rect.left() + 120.0, y(d)),
                egui::pos2(rect.right() - 10.0, y(d)),
            ],
            egui::Stroke::new(1.0, egui::Color32::from_gray(30)),
        );
        painter.text(
            egui::pos2(rect.right() - 10.0, y(d) - 2.0),
            egui::Align2::RIGHT_BOTTOM,
            format!("last strike {d:.2} mm"),
            egui::FontId::proportional(11.0),
            egui::Color32::from_gray(20),
        );
    }
    if let Some(l) = limit {
        painter.line_segment(
            [
                egui::pos2(rect.left(), y(l)),
                egui::pos2(rect.right(), y(l)),
            ],
            egui::Stroke::new(1.5, egui::Color32::RED),
        );
        painter.text(
            egui::pos2(rect.right() - 10.0, y(l) + 2.0),
            egui::Align2::RIGHT_TOP,
            format!("zone limit {l:.2} mm"),
            egui::FontId::proportional(11.0),
            egui::Color32::RED,
        );
    }
}
