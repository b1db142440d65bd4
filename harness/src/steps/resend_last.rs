//! `resend_last`: the previous command again with its sequence number, as
//! after a lost answer.
//!
//! ```toml
//! { resend_last = true, expect = "ack" }   # answered, not re-run
//! ```

use penlab_diagnostics::SourceError;

use super::{ExpectReply, ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

/// Resends the last command byte for byte and checks its answer.
#[derive(Debug)]
pub struct ResendLast {
    expect: ExpectReply,
}

impl StepKind for ResendLast {
    const KEY: &'static str = "resend_last";
    const OPTIONS: &'static [&'static str] = &["expect"];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        match table[Self::KEY] {
            toml::Value::Boolean(true) => Ok(ResendLast {
                expect: ExpectReply::parse(table, cx)?,
            }),
            _ => Err(cx.error("`resend_last` is `true`")),
        }
    }
}

impl Step for ResendLast {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let reply = cx.session.resend_last().await.map_err(StepError::session)?;
            self.expect.check(
                cx,
                "the last command, resent with its sequence number",
                reply,
            )
        })
    }
}
