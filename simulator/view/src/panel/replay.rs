//! The panel's replay: a recording named in the panel is played from the
//! start on fresh coverage with its recorded strikes, streamed a line at
//! a time as it plays (the pen's own strikes are set aside meanwhile; see
//! [`LiveSession::start_demo`](penlab_live::session::LiveSession::start_demo)).

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;

use super::PanelState;
use crate::options::{Demo, DemoStrikes};
use crate::pen::Live;
use crate::playback::{DemoEvents, start_on_fresh_coverage};

pub(super) fn replay_row(
    ui: &mut egui::Ui,
    live: &mut Live,
    state: &mut PanelState,
    commands: &mut Commands,
) {
    ui.horizontal(|ui| {
        ui.text_edit_singleline(&mut state.replay_path);
        if ui.button("Replay").clicked() {
            let path = PathBuf::from(state.replay_path.trim());
            state.note = Some(match play(live, path.clone(), commands) {
                Ok(()) => format!("replaying {}", path.display()),
                Err(e) => format!("replay: {e}"),
            });
        }
    });
}

/// Plays the recording at `path` from the start on fresh coverage.
fn play(live: &mut Live, path: PathBuf, commands: &mut Commands) -> penlab_simulator::Result<()> {
    let events = DemoEvents::File(path.clone());
    // A file that is not a recording says so now, not at its first event.
    events.first(1)?;
    let player = start_on_fresh_coverage(
        live,
        Demo {
            events,
            strikes: DemoStrikes::Recorded,
            speed: 1.0,
            name: path.display().to_string(),
        },
    )?;
    commands.insert_resource(player);
    Ok(())
}
