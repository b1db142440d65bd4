//! `send`: a command, and the answer it must get. A `SetDepth` or
//! `SetRate` refused as `busy` is sent again as a new command 100 ms later,
//! at most 10 times (PROTOCOL.md §8.3, R-HOST-4), unless the step expects
//! `busy`; a `busy` a pen may not give fails the test.
//!
//! ```toml
//! { send = { set_depth = { depth_um = "${depth}" } } }                 # expect = "ack" by default
//! { send = { set_depth = { depth_um = "${depth_max + depth_step}" } }, expect = "nack:out_of_range", allow_out_of_limits = true }
//! ```

use penlab_diagnostics::SourceError;
use penlab_host::session::{Reply, SessionError};
use penlab_protocol::message::{Message, NackReason};
use penlab_protocol::timing::{BUSY_LIMIT, BUSY_RETRY_INTERVAL, MAX_BUSY_RETRIES};

use super::{ExpectReply, ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};
use crate::steps::describe_message;

/// Sends a command and checks its answer.
#[derive(Debug)]
pub struct Send {
    /// The message (`{ set_depth = { depth_um = 1250 } }`, `"start"`), its
    /// values still templated.
    message: toml::Value,
    expect: ExpectReply,
    /// Send even if outside the pen's declared limits.
    allow_out_of_limits: bool,
}

impl StepKind for Send {
    const KEY: &'static str = "send";
    const OPTIONS: &'static [&'static str] = &["expect", "allow_out_of_limits"];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let expect = ExpectReply::parse(table, cx)?;
        let allow_out_of_limits = match table.get("allow_out_of_limits") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(cx.error(format!(
                    "`allow_out_of_limits` is true or false, not {other}"
                )));
            }
        };
        let message = table[Self::KEY].clone();
        let _: Message = cx.fill_as(&message, Self::KEY)?;
        Ok(Send {
            message,
            expect,
            allow_out_of_limits,
        })
    }
}

impl Send {
    async fn send_once(&self, cx: &mut TestCtx, message: Message) -> Result<Reply, StepError> {
        cx.session.options_mut().allow_out_of_limits = self.allow_out_of_limits;
        let reply = cx.session.command(message).await;
        cx.session.options_mut().allow_out_of_limits = false;
        reply.map_err(|e| match e {
            SessionError::OutOfLimits { .. } => StepError::Error(e.to_string()),
            other => StepError::session(other),
        })
    }
}

/// A `busy` the pen may not give: 1 000 ms or more after the last accepted
/// set point (R-BUSY-2), or on the tenth retry (R-HOST-5).
fn check_busy(cx: &TestCtx, shown: &str, reply: &Reply, retries: u8) -> Result<(), StepError> {
    let sent = tokio::time::Instant::now() - reply.latency();
    if let Some(accepted) = cx.last_set_point {
        // The command left after the Ack arrived: the pen's own interval
        // is at least this long.
        let since = sent.saturating_duration_since(accepted);
        if since >= BUSY_LIMIT {
            return Err(StepError::Fail(format!(
                "{shown} was answered with Nack(Busy) {} ms after the last accepted set point; a pen is busy for less than {} ms (PROTOCOL.md §8.3, R-BUSY-2)",
                since.as_millis(),
                BUSY_LIMIT.as_millis()
            )));
        }
    }
    if retries >= MAX_BUSY_RETRIES {
        return Err(StepError::Fail(format!(
            "{shown} was answered with Nack(Busy) on retry {retries}: the pen is faulty (PROTOCOL.md §8.3, R-HOST-5)"
        )));
    }
    Ok(())
}

impl Step for Send {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let message: Message = cx.fill(&self.message)?;
            let shown = describe_message(&message);
            let set_point = matches!(message, Message::SetDepth(_) | Message::SetRate(_));
            let mut retries = 0u8;
            let reply = loop {
                let reply = self.send_once(cx, message.clone()).await?;
                let busy = matches!(
                    reply,
                    Reply::Nack {
                        reason: NackReason::Busy,
                        ..
                    }
                );
                if !busy || !set_point || self.expect == ExpectReply::Nack(NackReason::Busy) {
                    break reply;
                }
                check_busy(cx, &shown, &reply, retries)?;
                // R-HOST-4: again as a new command, 100 ms on.
                retries += 1;
                let events = cx
                    .session
                    .idle(BUSY_RETRY_INTERVAL)
                    .await
                    .map_err(StepError::session)?;
                cx.backlog.extend(events);
            };
            if retries > 0 {
                cx.log.push(format!(
                    "send {shown}: Nack(Busy) {retries} time(s), retried (PROTOCOL.md §8.3)"
                ));
            }
            if matches!(reply, Reply::Ack { .. })
                && matches!(
                    message,
                    Message::SetDepth(_) | Message::SetRate(_) | Message::Hello(_)
                )
            {
                cx.last_set_point = Some(tokio::time::Instant::now());
            }
            self.expect.check(cx, &shown, reply)
        })
    }
}
