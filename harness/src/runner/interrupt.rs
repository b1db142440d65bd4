//! Interrupting a run from outside (Ctrl-C, SIGTERM), across the threads
//! of a bench: the first signal asks every run to stop (the test under way
//! is cut short, its teardown stops the motor and waits for the `Ack`), a
//! second one asks them to leave at once after a best-effort `Stop`.

use tokio::sync::watch;

pub use penlab_host::signals::Signal;

/// How far an interruption has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptState {
    /// Nothing asked.
    Running,
    /// Stop the run: end the test under way, stop the motor, wait for the
    /// `Ack`.
    Stopping(Signal),
    /// Leave now, after a best-effort `Stop`.
    Forced(Signal),
}

/// What raises an interruption (the signal handler's end).
#[derive(Debug)]
pub struct InterruptHandle {
    state: watch::Sender<InterruptState>,
}

/// What a run watches (cheap to clone, one per thread).
#[derive(Debug, Clone)]
pub struct Interrupt {
    state: watch::Receiver<InterruptState>,
}

impl InterruptHandle {
    /// A handle and the interrupt it raises.
    pub fn new() -> (InterruptHandle, Interrupt) {
        let (state, rx) = watch::channel(InterruptState::Running);
        (InterruptHandle { state }, Interrupt { state: rx })
    }

    /// A signal came: the first one stops the runs, any later one forces
    /// them. Returns the state now.
    pub fn raise(&self, signal: Signal) -> InterruptState {
        self.state.send_modify(|s| {
            *s = match *s {
                InterruptState::Running => InterruptState::Stopping(signal),
                InterruptState::Stopping(first) | InterruptState::Forced(first) => {
                    InterruptState::Forced(first)
                }
            }
        });
        *self.state.borrow()
    }

    /// The state now.
    pub fn state(&self) -> InterruptState {
        *self.state.borrow()
    }
}

impl Interrupt {
    /// One that never fires.
    pub fn never() -> Interrupt {
        // The sender goes at once: `changed` then never resolves, and the
        // state stays `Running`.
        InterruptHandle::new().1
    }

    /// The state now.
    pub fn state(&self) -> InterruptState {
        *self.state.borrow()
    }

    /// The signal, once a stop was asked.
    pub fn signal(&self) -> Option<Signal> {
        match self.state() {
            InterruptState::Running => None,
            InterruptState::Stopping(s) | InterruptState::Forced(s) => Some(s),
        }
    }

    /// Resolves once a stop is asked (at once if it was).
    pub async fn stopping(&self) -> Signal {
        self.until(|s| match s {
            InterruptState::Running => None,
            InterruptState::Stopping(sig) | InterruptState::Forced(sig) => Some(sig),
        })
        .await
    }

    /// Resolves once leaving at once is asked (at once if it was).
    pub async fn forced(&self) -> Signal {
        self.until(|s| match s {
            InterruptState::Forced(sig) => Some(sig),
            _ => None,
        })
        .await
    }

    async fn until(&self, pick: impl Fn(InterruptState) -> Option<Signal>) -> Signal {
        let mut rx = self.state.clone();
        loop {
            if let Some(sig) = pick(*rx.borrow_and_update()) {
                return sig;
            }
            if rx.changed().await.is_err() {
                // The handle is gone: nothing will ever ask.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_signal_forces_and_the_first_names_the_exit_code() {
        let (handle, interrupt) = InterruptHandle::new();
        assert_eq!(interrupt.signal(), None);
        assert_eq!(
            handle.raise(Signal::Terminate),
            InterruptState::Stopping(Signal::Terminate)
        );
        assert_eq!(interrupt.stopping().await, Signal::Terminate);
        let waiter = interrupt.clone();
        let forced = tokio::spawn(async move { waiter.forced().await });
        tokio::task::yield_now().await;
        assert_eq!(
            handle.raise(Signal::Interrupt),
            InterruptState::Forced(Signal::Terminate)
        );
        assert_eq!(forced.await.unwrap(), Signal::Terminate);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Interrupt.exit_code(), 130);
    }

    #[tokio::test(start_paused = true)]
    async fn never_never_fires() {
        let never = Interrupt::never();
        let waited =
            tokio::time::timeout(std::time::Duration::from_secs(3_600), never.stopping()).await;
        assert!(waited.is_err());
        assert_eq!(never.state(), InterruptState::Running);
    }
}
