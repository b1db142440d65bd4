//! SIGINT (Ctrl-C) and SIGTERM in the window: the first stops the pen's
//! motor (`Stop`, its `Ack` awaited with a bound, as every exit does), then
//! the window closes and the process exits 130 (or 143). A second signal
//! leaves at once, [`FORCE_GRACE`] after it, whatever the first left
//! undone; the pen link's own rule (it stops the motor when the view stops
//! polling it) covers a main loop that is stuck.
//!
//! Bevy's own Ctrl-C handler is replaced by this one: it ends the app with
//! an error code, and knows nothing of SIGTERM.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bevy::prelude::*;
use penlab_host::signals::{self, Reaction, Signal};

pub use penlab_host::signals::FORCE_GRACE;

use crate::pen::Live;

/// The exit code of the first signal received (0: none yet).
#[derive(Resource, Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicU8>);

impl Interrupt {
    /// The exit code the signal asks for (130 for SIGINT, 143 for SIGTERM),
    /// once one came.
    pub fn exit_code(&self) -> Option<u8> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }
}

fn signal_name(code: u8) -> Signal {
    if code == 143 {
        Signal::Terminate
    } else {
        Signal::Interrupt
    }
}

/// Installs the SIGINT and SIGTERM handlers (on a thread of their own) and
/// returns what the app watches. The handlers are in place when this
/// returns.
pub fn listen() -> std::io::Result<Interrupt> {
    let interrupt = Interrupt::default();
    let seen = Arc::clone(&interrupt.0);
    signals::listen("penlab-signals", move |signal| {
        let code = signal.exit_code();
        match seen.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => {
                eprintln!(
                    "{signal}: stopping the motor, then closing the view; a second signal leaves at once"
                );
                Reaction::Continue
            }
            Err(first) => {
                eprintln!("{signal} again: leaving after a best-effort Stop");
                Reaction::ExitAfterGrace(first)
            }
        }
    })?;
    Ok(interrupt)
}

/// Closes the app on a signal, once the motor is stopped.
pub struct SignalPlugin {
    /// What the handlers set.
    pub interrupt: Interrupt,
}

impl Plugin for SignalPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.interrupt.clone())
            .add_systems(First, stop_on_signal);
    }
}

fn stop_on_signal(
    interrupt: Res<Interrupt>,
    live: Option<ResMut<Live>>,
    mut exit: MessageWriter<AppExit>,
    mut done: Local<bool>,
) {
    let Some(code) = interrupt.exit_code() else {
        return;
    };
    if *done {
        return;
    }
    *done = true;
    // The motor stops before the window goes: `Stop`, and its `Ack` waited
    // for (bounded), on the link's thread.
    let stop = live.and_then(|mut live| live.0.shutdown());
    match stop {
        Some(stop) => eprintln!("{}: motor stopped ({stop})", signal_name(code)),
        None => eprintln!("{}: no pen on the line", signal_name(code)),
    }
    exit.write(AppExit::from_code(code));
}
