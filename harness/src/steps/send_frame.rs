//! `send_frame`: any type code and payload, with a sound CRC and the next
//! sequence number, for unknown and malformed commands.
//!
//! ```toml
//! { send_frame = { type = 0x7e, payload = "0102" }, expect = "nack:unknown_message" }
//! ```

use penlab_diagnostics::SourceError;

use super::{ExpectReply, ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

/// Sends a frame of any type and payload and checks its answer.
#[derive(Debug)]
pub struct SendFrame {
    msg_type: u8,
    payload: Vec<u8>,
    expect: ExpectReply,
}

impl StepKind for SendFrame {
    const KEY: &'static str = "send_frame";
    const OPTIONS: &'static [&'static str] = &["expect"];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let frame = table[Self::KEY].as_table().ok_or_else(|| {
            cx.error("`send_frame` is a table: { type = 126, payload = \"0102\" }")
        })?;
        let msg_type = match frame.get("type") {
            Some(toml::Value::Integer(t)) => {
                u8::try_from(*t).map_err(|_| cx.error(format!("`type` {t} is not a byte")))?
            }
            _ => return Err(cx.error("`send_frame` needs `type`, a byte")),
        };
        let payload = match frame.get("payload") {
            None => Vec::new(),
            Some(toml::Value::String(h)) => {
                hex::decode(h).map_err(|e| cx.error(format!("`payload` is not hex: {e}")))?
            }
            Some(other) => return Err(cx.error(format!("`payload` is a hex string, not {other}"))),
        };
        if let Some(extra) = frame
            .keys()
            .find(|k| !["type", "payload"].contains(&k.as_str()))
        {
            return Err(cx.error(format!(
                "unknown key `{extra}` in `send_frame`; it takes type, payload"
            )));
        }
        Ok(SendFrame {
            msg_type,
            payload,
            expect: ExpectReply::parse(table, cx)?,
        })
    }
}

impl Step for SendFrame {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let shown = format!(
                "a frame of type {:#04x} with payload {}",
                self.msg_type,
                hex::encode(&self.payload)
            );
            let reply = cx
                .session
                .command_frame(self.msg_type, &self.payload)
                .await
                .map_err(StepError::session)?;
            self.expect.check(cx, &shown, reply)
        })
    }
}
