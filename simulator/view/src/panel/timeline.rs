//! The panel's timeline for a demonstration or a replay: play and pause,
//! the speed, and a slider to seek along it (back or forward), with the
//! time played and the length.

use bevy_egui::egui;

use crate::playback::{DemoPlayer, SPEEDS};

pub(super) fn timeline_section(ui: &mut egui::Ui, player: &mut DemoPlayer, now: f64) {
    ui.heading("Timeline");
    ui.label(&player.demo.name);
    if let Some(e) = player.error() {
        ui.colored_label(egui::Color32::RED, e);
    }
    let length = player.duration_s();
    let position = player.position_s();
    if !player.has_timeline() {
        // The pen strikes in real time: no pause, speed or seek.
        ui.add(egui::ProgressBar::new(player.progress()).text(clock(position, length)));
        ui.small("the pen strikes in real time: played at a fixed speed");
        return;
    }
    ui.horizontal(|ui| {
        let label = if player.paused() {
            "▶ Play"
        } else {
            "⏸ Pause"
        };
        if ui.button(label).clicked() {
            player.set_paused(!player.paused(), now);
        }
        let mut speed = player.speed();
        egui::ComboBox::from_id_salt("timeline-speed")
            .selected_text(format!("{speed}×"))
            .show_ui(ui, |ui| {
                for s in SPEEDS {
                    ui.selectable_value(&mut speed, s, format!("{s}×"));
                }
            });
        if speed != player.speed() {
            player.set_speed(speed, now);
        }
        ui.label(clock(position, length));
        if player.seeking() {
            ui.spinner();
        }
    });
    if let Some(length) = length.filter(|l| *l > 0.0) {
        let mut at = position;
        let slider = ui.add(
            egui::Slider::new(&mut at, 0.0..=length)
                .show_value(false)
                .text("seek"),
        );
        // Seek once the handle is let go (or on a click): every step of a
        // drag back would start the coverage again.
        if (slider.drag_stopped() || (slider.changed() && !slider.dragged()))
            && (at - position).abs() > 1e-3
        {
            player.seek(at);
        }
    }
}

/// "12.3 / 60.0 s", or the time alone when the length is unknown.
fn clock(position: f64, length: Option<f64>) -> String {
    match length {
        Some(l) => format!("{position:.1} / {l:.1} s"),
        None => format!("{position:.1} s"),
    }
}
