//! SIGINT and SIGTERM for `penlab test`: the first asks every run to stop
//! (the test under way ends, its teardown sends `Stop` and waits for the
//! `Ack`, then the port closes and the process exits 130 or 143); a second
//! one makes the runs leave after a best-effort `Stop`, and if they have
//! not left [`FORCE_GRACE`] later the process exits anyway.

use std::time::Duration;

use anyhow::Context;
use penlab_harness::runner::{Interrupt, InterruptHandle, InterruptState, Signal};
use tokio::signal::unix::{SignalKind, signal};

/// How long a forced exit waits for the runs' best-effort `Stop`s.
pub const FORCE_GRACE: Duration = Duration::from_secs(1);

/// Starts listening (on a thread of its own, since every run has its own
/// runtime) and returns what the runs watch. The handlers are in place when
/// this returns.
pub fn listen() -> anyhow::Result<Interrupt> {
    let (handle, interrupt) = InterruptHandle::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let streams = signal(SignalKind::interrupt())
                    .and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
                let (mut int, mut term) = match streams {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let signal = tokio::select! {
                        _ = int.recv() => Signal::Interrupt,
                        _ = term.recv() => Signal::Terminate,
                    };
                    match handle.raise(signal) {
                        InterruptState::Stopping(s) => {
                            eprintln!("{s}: stopping the motor; a second signal leaves at once");
                        }
                        InterruptState::Forced(first) => {
                            eprintln!("{signal} again: leaving after a best-effort Stop");
                            tokio::time::sleep(FORCE_GRACE).await;
                            std::process::exit(i32::from(first.exit_code()));
                        }
                        InterruptState::Running => {}
                    }
                }
            });
        })
        .context("starting the signal thread")?;
    ready_rx
        .recv()
        .context("the signal thread ended")?
        .context("installing the SIGINT and SIGTERM handlers")?;
    Ok(interrupt)
}
