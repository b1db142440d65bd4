//! The answer a command step expects (`expect = "ack" | "nack" |
//! "nack:REASON"`) and the check of the answer it got, deadline included:
//! shared by `send`, `send_frame` and `resend_last`.

use penlab_diagnostics::SourceError;
use penlab_host::session::Reply;
use penlab_protocol::message::NackReason;
use penlab_protocol::timing::{ACK_DEADLINE, HOST_LINK_ALLOWANCE};

use super::{ParseCtx, StepError, TestCtx};

/// What a command step expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectReply {
    /// An `Ack` (the default).
    Ack,
    /// A `Nack` with this reason.
    Nack(NackReason),
    /// Any `Nack`.
    AnyNack,
}

impl ExpectReply {
    /// The step's `expect` key (an `Ack` when absent).
    pub(super) fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let text = match table.get("expect") {
            None => return Ok(ExpectReply::Ack),
            Some(toml::Value::String(s)) => s,
            Some(other) => {
                return Err(cx.error(format!(
                    "`expect` is a string (\"ack\", \"nack\" or \"nack:REASON\"), not {other}"
                )));
            }
        };
        match text.split_once(':') {
            None if text == "ack" => Ok(ExpectReply::Ack),
            None if text == "nack" => Ok(ExpectReply::AnyNack),
            Some(("nack", reason)) => {
                let reason: NackReason = toml::Value::String(reason.to_owned())
                    .try_into()
                    .map_err(|_| cx.error(format!("unknown Nack reason {reason:?} in `expect`")))?;
                Ok(ExpectReply::Nack(reason))
            }
            _ => Err(cx.error(format!(
                "`expect` is \"ack\", \"nack\" or \"nack:REASON\", not {text:?}"
            ))),
        }
    }

    /// Checks `reply` to the command `shown` against this expectation and
    /// the deadline, logging it and keeping it as the last reply.
    pub(super) fn check(
        self,
        cx: &mut TestCtx,
        shown: &str,
        reply: Reply,
    ) -> Result<(), StepError> {
        cx.log.push(format!("send {shown}: {reply:?}"));
        cx.last_reply = Some(reply);
        let ok = match (self, reply) {
            (ExpectReply::Ack, Reply::Ack { .. }) | (ExpectReply::AnyNack, Reply::Nack { .. }) => {
                true
            }
            (ExpectReply::Nack(want), Reply::Nack { reason, .. }) => want == reason,
            _ => false,
        };
        if !ok {
            let got = match reply {
                Reply::Ack { .. } => "Ack".to_owned(),
                Reply::Nack { reason, .. } => format!("Nack({reason:?})"),
            };
            let want = match self {
                ExpectReply::Ack => "Ack".to_owned(),
                ExpectReply::AnyNack => "a Nack".to_owned(),
                ExpectReply::Nack(r) => format!("Nack({r:?})"),
            };
            return Err(StepError::Fail(format!(
                "{shown} was answered with {got}; expected {want}"
            )));
        }
        if let Some(problem) = late(&reply) {
            return Err(StepError::Fail(format!("{shown}: {problem}")));
        }
        Ok(())
    }
}

/// An answer that missed the deadline, in words: PROTOCOL.md §8.1 wants
/// every command answered within 50 ms of its last byte, first time; the
/// host judges it late only past 50 ms and the 20 ms link allowance
/// (R-HOST-1).
pub fn late(reply: &Reply) -> Option<String> {
    let retransmissions = match *reply {
        Reply::Ack {
            retransmissions, ..
        }
        | Reply::Nack {
            retransmissions, ..
        } => retransmissions,
    };
    if retransmissions > 0 {
        Some(format!(
            "no answer within the {} ms deadline; answered only after {retransmissions} retransmission(s) (PROTOCOL.md §8)",
            ACK_DEADLINE.as_millis()
        ))
    } else if reply.latency() > ACK_DEADLINE + HOST_LINK_ALLOWANCE {
        Some(format!(
            "the answer took {} ms; the deadline is {} ms and {} ms of link allowance (PROTOCOL.md §8.1)",
            reply.latency().as_millis(),
            ACK_DEADLINE.as_millis(),
            HOST_LINK_ALLOWANCE.as_millis()
        ))
    } else {
        None
    }
}
