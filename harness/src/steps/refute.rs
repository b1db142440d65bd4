//! `refute`: no message of a type may arrive within a time.
//!
//! ```toml
//! { refute = "strike_batch", for_ms = 300 }
//! ```

use penlab_diagnostics::SourceError;
use penlab_host::session::Inbound;
use penlab_protocol::message::MessageType;

use super::await_msg::message_type;
use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx, describe_message};

/// Fails if a message of a type arrives within the time.
#[derive(Debug)]
pub struct Refute {
    message_type: MessageType,
    /// How long to watch, ms (templated).
    for_ms: toml::Value,
}

impl StepKind for Refute {
    const KEY: &'static str = "refute";
    const OPTIONS: &'static [&'static str] = &["for_ms"];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let step = Refute {
            message_type: message_type(&table[Self::KEY], cx)?,
            for_ms: table
                .get("for_ms")
                .cloned()
                .unwrap_or(toml::Value::Integer(500)),
        };
        cx.check_ms(&step.for_ms, "for_ms")?;
        Ok(step)
    }
}

impl Step for Refute {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let window = cx.ms(&self.for_ms)?;
            let events = cx.session.idle(window).await.map_err(StepError::session)?;
            if let Some(Inbound {
                result: Ok(p),
                at: when,
                ..
            }) = events
                .iter()
                .find(|e| matches!(&e.result, Ok(p) if p.message.msg_type() == self.message_type))
            {
                return Err(StepError::Fail(format!(
                    "{} arrived at {when:?} although none may within {} ms: {}",
                    self.message_type.name(),
                    window.as_millis(),
                    describe_message(&p.message)
                )));
            }
            Ok(())
        })
    }
}
