//! The panel's pen section: where the pen is, its state and measurements,
//! depth and rate, the motor's buttons, the mock's world and the pen log.
//! Every command goes through [`PenCommands`].

use bevy_egui::egui;
use penlab_host::env::EnvCommand;
use penlab_live::link::PenLink;
use penlab_live::session::{Connection, Severity};
use penlab_protocol::message::FaultCode;

use crate::commands::PenCommands;
use crate::pen::{Live, Options, Settings};

pub(super) fn pen_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    commands: &mut PenCommands,
    settings: &mut Settings,
    fault: &mut FaultCode,
    options: &Options,
) {
    ui.heading("Pen");
    let pen = live.0.pen().clone();
    ui.label(format!("Source: {}", pen.source));
    match &pen.connection {
        Connection::NoPen => {
            ui.label("No pen: the tool strikes by itself.");
        }
        Connection::Connecting => {
            ui.label("Connecting…");
        }
        Connection::Connected => {
            ui.colored_label(egui::Color32::from_rgb(60, 170, 90), "Connected");
        }
        Connection::Away(reason) => {
            ui.colored_label(
                egui::Color32::from_rgb(230, 140, 20),
                format!("PEN AWAY: {reason}. Waiting for it to come back…"),
            );
        }
        Connection::Disconnected(reason) => {
            ui.colored_label(
                egui::Color32::from_rgb(220, 50, 50),
                format!("DISCONNECTED: {reason}. The session so far is kept."),
            );
            if let Some(source) = &options.0.pen
                && ui.button("Reconnect").clicked()
            {
                live.0.reconnect(PenLink::start_with(
                    source.clone(),
                    options.0.link_options(),
                ));
            }
        }
    }
    if let Some(id) = &pen.identity {
        ui.label(format!(
            "{} · firmware {} · serial {}",
            id.model, id.firmware, id.serial
        ));
    }
    if let Some(s) = &pen.status {
        ui.label(format!(
            "State {:?} · depth {:.2} mm · rate {:.1} Hz · cartridge {:?}",
            s.state,
            f32::from(s.depth_set_um) / 1000.0,
            f32::from(s.rate_set_chz) / 100.0,
            s.cartridge
        ));
    }
    if let Some(t) = &pen.telemetry {
        ui.label(format!(
            "Measured depth {:.2} mm · {:.1} Hz · {} mA · {:.2} N · battery {} % · {:.1} °C",
            f32::from(t.depth_um) / 1000.0,
            f32::from(t.rate_chz) / 100.0,
            t.current_ma,
            f32::from(t.force_mn) / 1000.0,
            t.battery_pct,
            f32::from(t.temperature_dc) / 10.0
        ));
    }
    for fault in &pen.active_faults {
        ui.colored_label(
            egui::Color32::from_rgb(220, 50, 50),
            format!("FAULT: {fault:?}"),
        );
    }
    ui.label(format!(
        "Strikes {} ({} in the air)",
        pen.strikes, pen.strikes_in_air
    ));

    if let Some(caps) = pen.limits.clone() {
        let (lo, hi) = (
            f32::from(caps.depth_min_um) / 1000.0,
            f32::from(caps.depth_max_um) / 1000.0,
        );
        let mut depth = settings.depth_mm;
        let r = ui.add(
            egui::Slider::new(&mut depth, lo..=hi)
                .text("depth mm")
                .step_by(f64::from(caps.depth_step_um.max(1)) / 1000.0),
        );
        if r.drag_stopped() || (r.changed() && !r.dragged()) {
            settings.depth_mm = commands.set_depth(&pen, depth);
        } else if r.changed() {
            settings.depth_mm = depth;
        }
        let labelled = f32::from(caps.labelled_max_depth_um) / 1000.0;
        if settings.depth_mm > labelled {
            ui.colored_label(
                egui::Color32::from_rgb(230, 140, 20),
                format!("Beyond the labelled safe depth of {labelled:.2} mm"),
            );
        }
        if caps.rate_max_chz > caps.rate_min_chz {
            let mut rate = settings.rate_hz;
            let r = ui.add(
                egui::Slider::new(
                    &mut rate,
                    f32::from(caps.rate_min_chz) / 100.0..=f32::from(caps.rate_max_chz) / 100.0,
                )
                .text("rate Hz"),
            );
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                settings.rate_hz = commands.set_rate(&pen, rate);
            } else if r.changed() {
                settings.rate_hz = rate;
            }
        } else {
            ui.label(format!(
                "Fixed rate {:.1} Hz",
                f32::from(caps.rate_min_chz) / 100.0
            ));
        }
    }
    ui.add(egui::Slider::new(&mut settings.force_n, 0.2..=6.0).text("contact force N"));
    ui.add(egui::Slider::new(&mut settings.tilt_deg, -30.0..=30.0).text("tilt °"));
    ui.checkbox(&mut settings.motor_follows_contact, "Motor follows contact");
    ui.horizontal(|ui| {
        if ui.button("Start motor").clicked() {
            commands.start();
        }
        if ui.button("Stop motor").clicked() {
            commands.stop();
        }
        if ui
            .button(
                egui::RichText::new("EMERGENCY STOP").color(egui::Color32::from_rgb(220, 50, 50)),
            )
            .clicked()
        {
            commands.emergency_stop();
        }
    });
    if live.0.pen_is_mock() {
        mock_world(ui, live, commands, fault);
    }
    ui.collapsing("Pen log", |ui| {
        for (t, severity, text) in pen.log.iter().rev().take(12) {
            let colour = match severity {
                Severity::Info => ui.visuals().text_color(),
                Severity::Warning => egui::Color32::from_rgb(230, 140, 20),
                Severity::Error => egui::Color32::from_rgb(220, 50, 50),
            };
            ui.colored_label(colour, format!("{t:7.1} s  {text}"));
        }
    });
}

/// The mock pen's world: faults, cartridges, a new handshake.
fn mock_world(ui: &mut egui::Ui, live: &Live, commands: &mut PenCommands, fault: &mut FaultCode) {
    ui.collapsing("Mock pen's world", |ui| {
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("fault")
                .selected_text(format!("{:?}", *fault))
                .show_ui(ui, |ui| {
                    for code in [
                        FaultCode::MotorStall,
                        FaultCode::OverCurrent,
                        FaultCode::OverTemperature,
                        FaultCode::DepthDriveJam,
                        FaultCode::LowBattery,
                    ] {
                        ui.selectable_value(&mut *fault, code, format!("{code:?}"));
                    }
                });
            if ui.button("Inject").clicked() {
                commands.env(EnvCommand::InjectFault { code: *fault });
            }
            if ui.button("Clear").clicked() {
                commands.env(EnvCommand::ClearFault { code: *fault });
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Remove cartridge").clicked() {
                commands.env(EnvCommand::RemoveCartridge);
            }
            if ui.button("Fit a fresh cartridge").clicked() {
                let needles = live.0.pen().limits.as_ref().map_or(14, |c| c.needle_count);
                let id = (live.0.now() * 1000.0) as u32 | 0x1000;
                commands.env(EnvCommand::InsertCartridge { id, needles });
            }
            if ui.button("Re-handshake").clicked() {
                commands.hello();
            }
        });
    });
}
