//! SIGINT and SIGTERM for `penlab test`: the first asks every run to stop
//! (the test under way ends, its teardown sends `Stop` and waits for the
//! `Ack`, then the port closes and the process exits 130 or 143); a second
//! one makes the runs leave after a best-effort `Stop`, and if they have
//! not left [`FORCE_GRACE`](penlab_host::signals::FORCE_GRACE) later the process exits anyway.

use anyhow::Context;
use penlab_harness::runner::{Interrupt, InterruptHandle, InterruptState};
use penlab_host::signals::{self, Reaction};

/// Starts listening (on a thread of its own, since every run has its own
/// runtime) and returns what the runs watch. The handlers are in place when
/// this returns.
pub fn listen() -> anyhow::Result<Interrupt> {
    let (handle, interrupt) = InterruptHandle::new();
    signals::listen("signals", move |signal| match handle.raise(signal) {
        InterruptState::Stopping(s) => {
            eprintln!("{s}: stopping the motor; a second signal leaves at once");
            Reaction::Continue
        }
        InterruptState::Forced(first) => {
            eprintln!("{signal} again: leaving after a best-effort Stop");
            Reaction::ExitAfterGrace(first.exit_code())
        }
        InterruptState::Running => Reaction::Continue,
    })
    .context("installing the SIGINT and SIGTERM handlers")?;
    Ok(interrupt)
}
