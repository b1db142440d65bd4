//! The rule that every test ends with the motor stopped, in one place.
//!
//! A [`MotorGuard`] owns a test's context (and so its session) from the
//! moment the session exists. Its only way to run the test, [`MotorGuard::run`],
//! runs the body and then, whatever the body did, the teardown on the same
//! session: `Stop` and its `Ack` (or the pen's watchdog timeout,
//! [`Session::stop_motor_safely`]). The body cannot skip it: an error or an
//! early return ends the body's future, a panic is caught around it, the
//! test timeout and an interruption (Ctrl-C, SIGTERM) cut it short, and in
//! every case the teardown runs next. A second interruption during the
//! teardown leaves at once after a best-effort `Stop`. If a guard is ever
//! dropped before its teardown ran (its future dropped from outside), it
//! still sends a best-effort `Stop` on the runtime it belongs to.
//!
//! [`Session::stop_motor_safely`]: penlab_host::session::Session::stop_motor_safely

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use penlab_host::session::{Reply, SessionError, UnconfirmedStop};

use super::interrupt::{Interrupt, InterruptState, Signal};
use crate::steps::{Step, StepError, TestCtx};

/// Longest the best-effort `Stop` of a forced exit may take to write.
pub const FORCED_STOP_WRITE: Duration = Duration::from_millis(200);

/// How a test's body ended.
#[derive(Debug)]
pub(crate) enum BodyEnd {
    /// It ran to its end, or a step stopped it.
    Finished(Result<(), StepError>),
    /// The test timeout passed.
    TimedOut(Duration),
    /// It panicked outside a step (a step's panic is the step's error).
    Panicked(String),
    /// A signal cut it short.
    Interrupted(Signal),
}

/// How the teardown ended.
#[derive(Debug)]
pub(crate) enum TeardownEnd {
    /// The pen answered `Stop`: an `Ack`, or a `Nack` (its own failure).
    Answered(Reply),
    /// The pen did not acknowledge `Stop` (see [`UnconfirmedStop`]).
    Unconfirmed(UnconfirmedStop),
    /// A second signal: `Stop` written (or not) without waiting for its
    /// answer.
    Forced {
        /// The signal that interrupted the run.
        signal: Signal,
        /// Whether the `Stop` went out.
        sent: Result<(), SessionError>,
    },
}

/// What [`MotorGuard::run`] gives back.
pub(crate) struct Guarded {
    pub ctx: TestCtx,
    pub body: BodyEnd,
    pub teardown: TeardownEnd,
}

/// A test's context, whose session is stopped before the guard lets go.
pub(crate) struct MotorGuard<'i> {
    ctx: Option<TestCtx>,
    interrupt: &'i Interrupt,
    timeout: Duration,
}

impl<'i> MotorGuard<'i> {
    /// Guards `ctx`; the body will be cut short after `timeout` or when
    /// `interrupt` fires.
    pub fn new(ctx: TestCtx, interrupt: &'i Interrupt, timeout: Duration) -> Self {
        MotorGuard {
            ctx: Some(ctx),
            interrupt,
            timeout,
        }
    }

    /// Runs `body`, then the teardown, on the same session.
    pub async fn run(mut self, body: &dyn Step) -> Guarded {
        let Some(mut ctx) = self.ctx.take() else {
            unreachable!("a guard runs once: `run` takes it by value")
        };
        let end = {
            let body = AssertUnwindSafe(body.run(&mut ctx)).catch_unwind();
            tokio::select! {
                biased;
                signal = self.interrupt.stopping() => BodyEnd::Interrupted(signal),
                ended = tokio::time::timeout(self.timeout, body) => match ended {
                    Ok(Ok(result)) => BodyEnd::Finished(result),
                    Ok(Err(panic)) => BodyEnd::Panicked(panic_message(&*panic)),
                    Err(_) => BodyEnd::TimedOut(self.timeout),
                },
            }
        };
        // Past this point the body's future is gone, whatever it was doing.
        let teardown = teardown(&mut ctx, self.interrupt).await;
        Guarded {
            ctx,
            body: end,
            teardown,
        }
    }
}

impl Drop for MotorGuard<'_> {
    fn drop(&mut self) {
        // Only when `run` never ran or its future was dropped part way.
        let Some(mut ctx) = self.ctx.take() else {
            return;
        };
        tracing::error!("a test ended before its teardown: sending Stop");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = ctx.session.send_stop_now(FORCED_STOP_WRITE).await;
            });
        }
    }
}

async fn teardown(ctx: &mut TestCtx, interrupt: &Interrupt) -> TeardownEnd {
    let stopped = if let InterruptState::Forced(signal) = interrupt.state() {
        Err(signal)
    } else {
        tokio::select! {
            biased;
            signal = interrupt.forced() => Err(signal),
            stopped = ctx.session.stop_motor_safely() => Ok(stopped),
        }
    };
    match stopped {
        Ok(Ok(reply)) => TeardownEnd::Answered(reply),
        Ok(Err(unconfirmed)) => TeardownEnd::Unconfirmed(unconfirmed),
        Err(signal) => TeardownEnd::Forced {
            signal,
            sent: ctx.session.send_stop_now(FORCED_STOP_WRITE).await,
        },
    }
}

/// The text a panic was raised with.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}
