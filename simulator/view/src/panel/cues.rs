//! The panel's technique cues: the speed band against the hand's speed,
//! each cue with a switch, its state now and how often it fired this
//! session, the cues' settings, the latest cue events; and the label of
//! the cues on now beside the tool.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use penlab_simulator::cues::{CueKind, CueSet};

use super::rgb;
use crate::camera::OrbitCamera;
use crate::cues::{LiveCues, cue_colour, short_label};
use crate::pen::ToolPose;
use crate::scene::SurfaceFrame;

/// Cue events listed under "Latest".
const LATEST_SHOWN: usize = 8;

pub(super) fn cues_section(ui: &mut egui::Ui, cues: &mut LiveCues) {
    ui.heading("Technique cues");
    speed_line(ui, cues);
    let enabled = cues.engine.config().enabled;
    let mut switched: Option<(CueKind, bool)> = None;
    egui::Grid::new("cues")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for kind in CueKind::ALL {
                let mut on = enabled.contains(kind);
                if ui.checkbox(&mut on, kind.name()).changed() {
                    switched = Some((kind, on));
                }
                match &cues.on[kind.index()] {
                    Some(e) => {
                        ui.colored_label(rgb(cue_colour(kind)), short_label(e, &cues.engine));
                    }
                    None if on => {
                        ui.weak("clear");
                    }
                    None => {
                        ui.weak("off");
                    }
                }
                let count = cues.engine.count(kind);
                ui.label(format!("{}× · {:.1} s", count.fired, count.seconds));
                ui.end_row();
            }
        });
    if let Some((kind, on)) = switched {
        cues.set_enabled(kind, on);
    }
    settings(ui, cues);
    egui::CollapsingHeader::new("Latest cue events")
        .default_open(false)
        .show(ui, |ui| {
            if cues.recent.is_empty() {
                ui.weak("none yet");
            }
            for e in cues.recent.iter().rev().take(LATEST_SHOWN) {
                let text = format!("{:7.1} s  {}", e.t, e.message());
                if e.on {
                    ui.colored_label(rgb(cue_colour(e.cue)), text);
                } else {
                    ui.weak(text);
                }
            }
        });
}

/// The band that gives the target density at the pen's rate, and the
/// hand's speed against it.
fn speed_line(ui: &mut egui::Ui, cues: &LiveCues) {
    let engine = &cues.engine;
    let Some(band) = engine.speed_band() else {
        ui.weak("Speed band: needs a pen tool striking at a known rate");
        return;
    };
    let rate = engine.rate_hz().unwrap_or(0.0);
    ui.label(format!(
        "Speed band {:.0}–{:.0} mm/s ({rate:.0} Hz, {} passes)",
        band.low_mm_s,
        band.high_mm_s,
        engine.config().passes()
    ));
    let Some(v) = engine.hand_speed_mm_s() else {
        ui.weak("Hand: not on the skin");
        return;
    };
    let (text, colour) = if v < band.low_mm_s {
        ("too slow", cue_colour(CueKind::SpeedLow))
    } else if v > band.high_mm_s {
        ("too fast", cue_colour(CueKind::SpeedHigh))
    } else {
        ("in band", [80, 200, 120])
    };
    // The hand on a scale from 0 to twice the band's top.
    let top = band.high_mm_s * 2.0;
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 14.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let x = |s: f64| rect.left() + rect.width() * (s / top).clamp(0.0, 1.0) as f32;
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(50));
    painter.rect_filled(
        egui::Rect::from_x_y_ranges(x(band.low_mm_s)..=x(band.high_mm_s), rect.y_range()),
        2.0,
        egui::Color32::from_rgb(60, 140, 90),
    );
    painter.vline(x(v), rect.y_range(), egui::Stroke::new(3.0, rgb(colour)));
    ui.colored_label(rgb(colour), format!("Hand {v:.0} mm/s: {text}"));
}

/// Tilt limit, passes and spacing, as the headless options set them.
fn settings(ui: &mut egui::Ui, cues: &mut LiveCues) {
    let mut config = cues.engine.config().clone();
    let mut changed = false;
    egui::Grid::new("cue-settings")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Tilt limit");
            changed |= ui
                .add(
                    egui::DragValue::new(&mut config.tilt_limit_deg)
                        .range(0.0..=89.0)
                        .speed(0.5)
                        .suffix("°"),
                )
                .changed();
            ui.end_row();
            ui.label("Passes");
            let mut passes = config.passes();
            if ui
                .add(egui::DragValue::new(&mut passes).range(1..=100))
                .changed()
            {
                config.passes = Some(passes);
                changed = true;
            }
            ui.end_row();
            ui.label("Spacing");
            ui.horizontal(|ui| {
                let mut auto = config.spacing_mm.is_none();
                if ui.checkbox(&mut auto, "track width").changed() {
                    config.spacing_mm = if auto { None } else { Some(3.0) };
                    changed = true;
                }
                if let Some(s) = &mut config.spacing_mm {
                    changed |= ui
                        .add(
                            egui::DragValue::new(s)
                                .range(0.05..=100.0)
                                .speed(0.05)
                                .suffix(" mm"),
                        )
                        .changed();
                }
            });
            ui.end_row();
        });
    ui.horizontal(|ui| {
        if ui.button("All cues on").clicked() {
            config.enabled = CueSet::ALL;
            changed = true;
        }
        if ui.button("All off").clicked() {
            config.enabled = CueSet::NONE;
            changed = true;
        }
    });
    if changed && let Err(e) = cues.set_config(config) {
        ui.colored_label(egui::Color32::RED, e.to_string());
    }
}

/// The cues on now, in a small box beside the tool on screen.
pub(super) fn label_beside_tool(
    mut contexts: EguiContexts,
    cues: Option<Res<LiveCues>>,
    tool: Res<ToolPose>,
    frame: Res<SurfaceFrame>,
    camera: Query<(&Camera, &GlobalTransform), With<OrbitCamera>>,
) -> Result {
    let Some(cues) = cues else {
        return Ok(());
    };
    let Some(pose) = tool.pose.filter(|_| tool.contact) else {
        return Ok(());
    };
    if cues.active().next().is_none() {
        return Ok(());
    }
    let Ok((camera, transform)) = camera.single() else {
        return Ok(());
    };
    let Ok(at) = camera.world_to_viewport(transform, frame.world_point(pose.position)) else {
        return Ok(());
    };
    let ctx = contexts.ctx_mut()?;
    egui::Area::new(egui::Id::new("cue-label"))
        .fixed_pos(egui::pos2(at.x + 28.0, at.y - 36.0))
        .interactable(false)
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style())
                .fill(egui::Color32::from_black_alpha(190))
                .show(ui, |ui| {
                    for e in cues.active() {
                        ui.colored_label(
                            rgb(cue_colour(e.cue)),
                            egui::RichText::new(short_label(e, &cues.engine)).strong(),
                        );
                    }
                });
        });
    Ok(())
}
