//! `send`: a command, and the answer it must get.
//!
//! ```toml
//! { send = { set_depth = { depth_um = "${depth}" } } }                 # expect = "ack" by default
//! { send = { set_depth = { depth_um = "${depth_max + depth_step}" } }, expect = "nack:out_of_range", allow_out_of_limits = true }
//! ```

use penlab_diagnostics::SourceError;
use penlab_host::session::SessionError;
use penlab_protocol::message::Message;

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

impl Step for Send {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let message: Message = cx.fill(&self.message)?;
            let shown = describe_message(&message);
            cx.session.options_mut().allow_out_of_limits = self.allow_out_of_limits;
            let reply = cx.session.command(message).await;
            cx.session.options_mut().allow_out_of_limits = false;
            let reply = reply.map_err(|e| match e {
                SessionError::OutOfLimits { .. } => StepError::Error(e.to_string()),
                other => StepError::session(other),
            })?;
            self.expect.check(cx, &shown, reply)
        })
    }
}
