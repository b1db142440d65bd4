//! `wait_ms` (the session kept alive with heartbeats) and `silent_ms`
//! (nothing sent at all, as a host that has gone quiet: for the watchdog).
//! What arrives meanwhile is kept for a later `await`.
//!
//! ```toml
//! { wait_ms = 800 }
//! { silent_ms = "${watchdog_ms + 500}" }
//! ```

use penlab_diagnostics::SourceError;

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

/// Keeps the session alive (heartbeats) for a time, ms (templated).
#[derive(Debug)]
pub struct WaitMs(toml::Value);

/// Sends nothing at all for a time, ms (templated).
#[derive(Debug)]
pub struct SilentMs(toml::Value);

impl StepKind for WaitMs {
    const KEY: &'static str = "wait_ms";

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let value = table[Self::KEY].clone();
        cx.check_ms(&value, Self::KEY)?;
        Ok(WaitMs(value))
    }
}

impl StepKind for SilentMs {
    const KEY: &'static str = "silent_ms";

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let value = table[Self::KEY].clone();
        cx.check_ms(&value, Self::KEY)?;
        Ok(SilentMs(value))
    }
}

impl Step for WaitMs {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(wait(cx, &self.0, false))
    }
}

impl Step for SilentMs {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(wait(cx, &self.0, true))
    }
}

async fn wait(cx: &mut TestCtx, ms: &toml::Value, quiet: bool) -> Result<(), StepError> {
    let d = cx.ms(ms)?;
    let events = if quiet {
        cx.session.silent(d).await
    } else {
        cx.session.idle(d).await
    }
    .map_err(StepError::session)?;
    let what = if quiet { "silent for" } else { "waited" };
    cx.log.push(format!(
        "{what} {} ms: {} frame(s) from the pen",
        d.as_millis(),
        events.len()
    ));
    cx.backlog.extend(events);
    Ok(())
}
