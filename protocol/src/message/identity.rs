//! `Identity`: who the pen is, as an owned [`Identity`] or as an
//! [`IdentityView`] whose text borrows the frame's bytes.

use heapless::String;

use super::body::{Viewed, expect_end, malformed};
use super::{MessageError, MessageType};
use crate::wire::{FieldError, Wire, text, wire_struct};

/// Longest model, firmware or serial-number string, in bytes of UTF-8.
pub const MAX_TEXT: usize = 24;

wire_struct! {
    borrowed
    /// Who the pen is: sent after the acknowledgement of a `Hello`.
    pub struct Identity {
        /// Protocol major version of the pen.
        pub protocol_major: u8,
        /// Protocol minor version of the pen.
        pub protocol_minor: u8,
        /// Device model.
        pub model: String<MAX_TEXT>,
        /// Firmware version, free form (e.g. `2.3.1+g1a2b3c`).
        pub firmware: String<MAX_TEXT>,
        /// Serial number.
        pub serial: String<MAX_TEXT>,
    }
}

/// An [`Identity`] whose strings stay in the frame, checked when it was
/// parsed and read where they lie. Kept to two bytes and a slice so that
/// every [`MessageView`](super::MessageView) stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityView<'a> {
    /// Protocol major version of the pen.
    pub protocol_major: u8,
    /// Protocol minor version of the pen.
    pub protocol_minor: u8,
    /// The three length-prefixed strings, already checked.
    texts: &'a [u8],
}

impl<'a> IdentityView<'a> {
    /// Parses an `Identity` payload; errors are those of
    /// [`Message::parse`](super::Message::parse).
    pub fn parse(payload: &'a [u8]) -> Result<Self, MessageError> {
        Self::parse_as(MessageType::Identity, payload)
    }

    fn parse_as(msg_type: MessageType, payload: &'a [u8]) -> Result<Self, MessageError> {
        let (rest, view) = Self::parse_fields(payload).map_err(|e| malformed(msg_type, e))?;
        expect_end(msg_type, rest)?;
        Ok(view)
    }

    /// Field by field, with the field names of the owned parser.
    fn parse_fields(input: &'a [u8]) -> Result<(&'a [u8], Self), FieldError> {
        let at = FieldError::at;
        let (input, protocol_major) = u8::parse(input).map_err(|e| at("protocol_major", e))?;
        let (texts, protocol_minor) = u8::parse(input).map_err(|e| at("protocol_minor", e))?;
        let (input, _) = text::<MAX_TEXT>(texts).map_err(|e| at("model", e))?;
        let (input, _) = text::<MAX_TEXT>(input).map_err(|e| at("firmware", e))?;
        let (rest, _) = text::<MAX_TEXT>(input).map_err(|e| at("serial", e))?;
        let texts = &texts[..texts.len() - rest.len()];
        Ok((
            rest,
            IdentityView {
                protocol_major,
                protocol_minor,
                texts,
            },
        ))
    }

    /// The `index`th string (model, firmware, serial).
    fn text(&self, index: usize) -> &'a str {
        let mut rest = self.texts;
        for _ in 0..index {
            rest = text::<MAX_TEXT>(rest).map_or(&[], |(after, _)| after);
        }
        // Checked when parsed: the fallback is never taken.
        text::<MAX_TEXT>(rest).map_or("", |(_, s)| s)
    }

    /// Device model.
    pub fn model(&self) -> &'a str {
        self.text(0)
    }

    /// Firmware version, free form (e.g. `2.3.1+g1a2b3c`).
    pub fn firmware(&self) -> &'a str {
        self.text(1)
    }

    /// Serial number.
    pub fn serial(&self) -> &'a str {
        self.text(2)
    }

    /// The owned identity.
    pub fn to_repr(&self) -> Identity {
        // Cannot truncate: parsing bounded every string by the capacity.
        let owned = |s: &str| {
            let mut out = String::new();
            let _ = out.push_str(s);
            out
        };
        Identity {
            protocol_major: self.protocol_major,
            protocol_minor: self.protocol_minor,
            model: owned(self.model()),
            firmware: owned(self.firmware()),
            serial: owned(self.serial()),
        }
    }
}

impl From<IdentityView<'_>> for Identity {
    fn from(view: IdentityView<'_>) -> Self {
        view.to_repr()
    }
}

impl Viewed for Identity {
    type View<'a> = IdentityView<'a>;

    fn view(msg_type: MessageType, payload: &[u8]) -> Result<IdentityView<'_>, MessageError> {
        IdentityView::parse_as(msg_type, payload)
    }

    fn from_view(view: IdentityView<'_>) -> Self {
        view.to_repr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    #[test]
    fn the_view_reads_each_string() {
        let identity = Identity {
            protocol_major: 1,
            protocol_minor: 2,
            model: String::try_from("pen-14").unwrap(),
            firmware: String::try_from("").unwrap(),
            serial: String::try_from("PL14-0001ü").unwrap(),
        };
        let mut buf = [0u8; 128];
        let n = Message::Identity(identity.clone()).emit(&mut buf).unwrap();
        let view = IdentityView::parse(&buf[..n]).unwrap();
        assert_eq!((view.protocol_major, view.protocol_minor), (1, 2));
        assert_eq!(view.model(), "pen-14");
        assert_eq!(view.firmware(), "");
        assert_eq!(view.serial(), "PL14-0001ü");
        assert_eq!(Identity::from(view), identity);
        assert!(IdentityView::parse(&buf[..n - 1]).is_err());
    }
}
