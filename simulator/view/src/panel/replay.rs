//! The panel's replay: a recording named in the panel is read off the main
//! thread, then played from the start on fresh coverage with its recorded
//! strikes (the pen's own strikes are set aside meanwhile; see
//! [`LiveSession::start_replay`](penlab_live::session::LiveSession::start_replay)).

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;
use penlab_simulator::script::replay_file;
use penlab_simulator::session::Event;

use super::PanelState;
use crate::background::{Background, Progress};
use crate::options::{Demo, DemoStrikes};
use crate::pen::{DemoPlayer, Live};

/// A recording being read: its path and its events, or why not.
pub(super) type ReplayJob = Background<(PathBuf, penlab_simulator::Result<Vec<Event>>)>;

pub(super) fn replay_row(
    ui: &mut egui::Ui,
    live: &mut Live,
    state: &mut PanelState,
    commands: &mut Commands,
) {
    ui.horizontal(|ui| {
        ui.text_edit_singleline(&mut state.replay_path);
        let loading = state.replay.is_some();
        if ui
            .add_enabled(!loading, egui::Button::new("Replay"))
            .clicked()
        {
            let path = PathBuf::from(state.replay_path.trim());
            state.note = Some(format!("reading {}…", path.display()));
            state.replay = Some(Background::spawn("replay read", move || {
                let mut events = Vec::new();
                let read = replay_file(&path, &mut events).map(|_| events);
                (path, read)
            }));
        }
    });
    let Some(job) = &state.replay else {
        return;
    };
    match job.poll() {
        Progress::Running => return,
        Progress::Done((path, Ok(events))) => {
            state.note = Some(match play(live, path, events, commands) {
                Ok(n) => format!("replaying {n} events"),
                Err(e) => format!("replay: {e}"),
            });
        }
        Progress::Done((path, Err(e))) => {
            state.note = Some(format!("replay of {}: {e}", path.display()));
        }
        Progress::Failed => state.note = Some("replay: reading failed (see the log)".into()),
    }
    state.replay = None;
}

/// Plays `events` from the start on fresh coverage; returns how many.
fn play(
    live: &mut Live,
    path: PathBuf,
    events: Vec<Event>,
    commands: &mut Commands,
) -> penlab_simulator::Result<usize> {
    let start_t = live.0.start_replay()?;
    let n = events.len();
    commands.insert_resource(DemoPlayer {
        demo: Demo {
            events,
            strikes: DemoStrikes::Recorded,
            speed: 1.0,
            name: path.display().to_string(),
        },
        next: 0,
        start_t,
        paused: false,
    });
    Ok(n)
}
