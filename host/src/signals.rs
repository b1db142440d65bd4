//! SIGINT and SIGTERM, heard on a thread of their own for whatever commands
//! a pen: the caller decides what each signal does (the first asks for the
//! motor to stop), and may ask for a forced exit, which comes
//! [`FORCE_GRACE`] later so that a best-effort `Stop` still goes out.

use std::fmt;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

/// How long a forced exit waits for the best-effort `Stop`s.
pub const FORCE_GRACE: Duration = Duration::from_secs(1);

/// The signal that interrupted a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a service manager, CI's timeout.
    Terminate,
}

impl Signal {
    /// The exit code a shell gives a process ended by the signal: 128 + its
    /// number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// What the process does after a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Go on: the run stops by itself.
    Continue,
    /// Leave with this exit code, [`FORCE_GRACE`] from now.
    ExitAfterGrace(u8),
}

/// Installs the SIGINT and SIGTERM handlers on a thread named `thread` and
/// calls `on_signal` there for each signal. The handlers are in place when
/// this returns.
pub fn listen<F>(thread: &str, mut on_signal: F) -> std::io::Result<()>
where
    F: FnMut(Signal) -> Reaction + Send + 'static,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            // A runtime of its own: the callers' runs have theirs, or none.
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
                    if let Reaction::ExitAfterGrace(code) = on_signal(signal) {
                        tokio::time::sleep(FORCE_GRACE).await;
                        std::process::exit(i32::from(code));
                    }
                }
            });
        })?;
    ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("the signal thread ended"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_has_the_shells_exit_code_and_its_name() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Interrupt.to_string(), "SIGINT");
        assert_eq!(Signal::Terminate.to_string(), "SIGTERM");
    }
}
