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

/// An [`Identity`] whose strings are borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityView<'a> {
    /// Protocol major version of the pen.
    pub protocol_major: u8,
    /// Protocol minor version of the pen.
    pub protocol_minor: u8,
    /// Device model.
    pub model: &'a str,
    /// Firmware version, free form.
    pub firmware: &'a str,
    /// Serial number.
    pub serial: &'a str,
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
        let (input, protocol_minor) = u8::parse(input).map_err(|e| at("protocol_minor", e))?;
        let (input, model) = text::<MAX_TEXT>(input).map_err(|e| at("model", e))?;
        let (input, firmware) = text::<MAX_TEXT>(input).map_err(|e| at("firmware", e))?;
        let (input, serial) = text::<MAX_TEXT>(input).map_err(|e| at("serial", e))?;
        Ok((
            input,
            IdentityView {
                protocol_major,
                protocol_minor,
                model,
                firmware,
                serial,
            },
        ))
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
            model: owned(self.model),
            firmware: owned(self.firmware),
            serial: owned(self.serial),
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
