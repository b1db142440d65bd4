//! What every message body implements, and the helpers the generated
//! dispatch in `message/mod.rs` calls.
//!
//! A body has two parsers. [`Body::parse_fields`] (from `wire_struct!`) is
//! the full `nom` parser behind [`Message::parse`](super::Message::parse):
//! it names the field that failed and how. [`Viewed::view`] is the fast
//! path behind [`MessageView::parse`](super::MessageView::parse): straight
//! reads for fixed-layout bodies, a borrowed view for bodies with arrays or
//! text. Whenever the fast path does not like a payload it asks the full
//! parser, so the two give the same errors by construction.

use super::{MessageError, MessageType};
use crate::wire::{Body, FieldError};

/// A message body's view: what [`MessageView`](super::MessageView) holds.
pub(crate) trait Viewed: Body {
    /// The body itself for fixed-layout bodies; a view borrowing the
    /// payload for bodies with arrays or text.
    type View<'a>;

    /// Parses a whole payload; on failure, the full parser's error.
    fn view(msg_type: MessageType, payload: &[u8]) -> Result<Self::View<'_>, MessageError>;

    /// The owned body of a view.
    fn from_view(view: Self::View<'_>) -> Self;
}

/// A field error, as the message error it is.
pub(crate) fn malformed(msg_type: MessageType, e: FieldError) -> MessageError {
    MessageError::Malformed {
        msg_type,
        field: e.field,
        problem: e.problem,
    }
}

/// The full parser over a whole payload.
#[inline]
pub(crate) fn parse_body<T: Body>(
    msg_type: MessageType,
    payload: &[u8],
) -> Result<T, MessageError> {
    let (rest, body) = T::parse_fields(payload).map_err(|e| malformed(msg_type, e))?;
    expect_end(msg_type, rest)?;
    Ok(body)
}

/// Nothing may follow the last field.
#[inline]
pub(crate) fn expect_end(msg_type: MessageType, rest: &[u8]) -> Result<(), MessageError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(MessageError::TrailingBytes {
            msg_type,
            extra: rest.len(),
        })
    }
}
