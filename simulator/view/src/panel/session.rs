//! The panel's session section: screenshots, the export of the report and
//! heatmap (written off the main thread), recording, replay and a reset of
//! the coverage.

use bevy::prelude::*;
use bevy_egui::egui;

use super::PanelState;
use super::replay;
use crate::background::{Background, Progress};
use crate::capture::{ReportExtras, SaveScreenshot, export, timestamped};
use crate::pen::{Live, Options};

/// A running export: the report's and heatmap's paths, or why not.
pub(super) type ExportJob = Background<anyhow::Result<(std::path::PathBuf, std::path::PathBuf)>>;

pub(super) fn session_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    state: &mut PanelState,
    options: &Options,
    commands: &mut Commands,
    shots: &mut MessageWriter<SaveScreenshot>,
    extras: impl FnOnce() -> ReportExtras,
) {
    ui.heading("Session");
    let dir = options.0.export_dir.clone();
    ui.horizontal(|ui| {
        if ui.button("Screenshot").clicked() {
            let path = timestamped(&dir, "screenshot", "png");
            state.note = Some(format!("screenshot: {}", path.display()));
            shots.write(SaveScreenshot(path));
        }
        let exporting = state.export.is_some();
        if ui
            .add_enabled(!exporting, egui::Button::new("Export report + heatmap"))
            .clicked()
        {
            // The analysis and the writing happen on a copy, on a thread of
            // their own: the frame goes on, and so does the pen's polling.
            let session = live.0.coverage.session().clone();
            let config = live.0.coverage.config().clone();
            let extras = extras();
            state.note = Some("exporting…".into());
            state.export = Some(Background::spawn("export report and heatmap", move || {
                export(&session, &config, &dir, extras)
            }));
        }
    });
    if let Some(job) = &state.export {
        match job.poll() {
            Progress::Running => {}
            Progress::Done(result) => {
                state.note = Some(match result {
                    Ok((r, h)) => format!("wrote {} and {}", r.display(), h.display()),
                    Err(e) => format!("export failed: {e:#}"),
                });
                state.export = None;
            }
            Progress::Failed => {
                state.note = Some("export failed (see the log)".into());
                state.export = None;
            }
        }
    }
    let dir = options.0.export_dir.clone();
    ui.horizontal(|ui| match live.0.recording().map(|p| p.to_owned()) {
        Some(path) => {
            ui.label(format!("● recording to {}", path.display()));
            if ui.button("Stop").clicked() {
                state.note = Some(match live.0.stop_recording() {
                    Ok(_) => format!("recorded {}", path.display()),
                    Err(e) => format!("recording failed: {e}"),
                });
            }
        }
        None => {
            if ui.button("Record").clicked() {
                let path = timestamped(&dir, "session", "jsonl");
                if let Err(e) = live.0.start_recording(&path) {
                    state.note = Some(format!("cannot record to {}: {e}", path.display()));
                }
            }
        }
    });
    replay::replay_row(ui, live, state, commands);
    if ui.button("Reset coverage").clicked() {
        state.note = Some(match live.0.reset_coverage() {
            Ok(()) => "coverage reset".into(),
            Err(e) => format!("reset: {e}"),
        });
    }
    if let Some(note) = &state.note {
        ui.small(note.as_str());
    }
}
