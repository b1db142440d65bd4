//! Messages: one plain `Repr` type per message, with `parse` from a frame's
//! payload and `emit` into a caller's buffer; [`Message`], the owned union
//! of them all; and [`MessageView`], the same union as the fast decoder
//! lends it out, borrowing arrays and text from the frame.
//!
//! Type codes below `0x80` go from host to pen, codes from `0x80` up from pen
//! to host. A frame whose type this version does not know is reported as
//! [`MessageError::UnknownType`] and skipped: the framing does not depend on
//! the type, so the stream stays in step.
//!
//! # To add a message
//!
//! 1. Write its body in a file of its own, `message/<name>.rs`, with
//!    `wire_struct!` (see `set_depth.rs`): fields in wire order, each a
//!    type the wire layer knows (integers, `bool`, arrays, `wire_enum!` or
//!    `wire_open_enum!` codes, `heapless::String`, `heapless::Vec`). That
//!    gives the full parser, the emitter, and a fast view that is the
//!    struct itself. Only a body with arrays or text whose copy matters is
//!    marked `borrowed` and given a view type that borrows the payload and
//!    `impl Viewed` by hand (see `strike_batch.rs`).
//! 2. Add `mod <name>;` and `pub use <name>::*;` below, and one entry to
//!    the `messages!` table: code, name, body type (`as View<'a>` for a
//!    borrowed view; nothing for a message without payload), direction.
//!    The table generates [`MessageType`] (code, name, direction, `ALL`),
//!    the [`Message`] and [`MessageView`] variants, both parsers' dispatch,
//!    emit, and the view-to-owned conversion. The compiler refuses a code
//!    used twice or a direction that disagrees with the code.
//! 3. Outside the code: the message's section in `PROTOCOL.md`, its layout
//!    in the independent Python checker (`vectors/check.py`), a sample in
//!    `samples::every_message`, a strategy in `tests/properties.rs`, and
//!    regenerated vectors (`cargo run -p penlab-protocol --example
//!    gen_vectors > protocol/vectors/vectors.json`); `tests/vectors.rs`
//!    fails until there is a vector for every type.

pub(crate) mod body;
mod table;

mod ack;
mod capabilities;
mod cartridge;
mod fault;
mod hello;
mod identity;
mod nack;
mod pose;
mod set_depth;
mod set_rate;
mod status;
mod strike_batch;
mod telemetry;

pub use ack::*;
pub use capabilities::*;
pub use cartridge::*;
pub use fault::*;
pub use hello::*;
pub use identity::*;
pub use nack::*;
pub use pose::*;
pub use set_depth::*;
pub use set_rate::*;
pub use status::*;
pub use strike_batch::*;
pub use telemetry::*;

use crate::frame::{self, Frame, FrameError, FrameRepr};
use crate::wire::{Body, FieldProblem, Overflow, Writer};
use body::{Viewed, expect_end, parse_body};
use table::messages;

/// Who sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From host to pen: commands.
    HostToPen,
    /// From pen to host: replies, telemetry and events.
    PenToHost,
}

messages! {
    /// Opens a session ([`Hello`]).
    0x01 => Hello(Hello), HostToPen;
    /// Sets the depth ([`SetDepth`]).
    0x02 => SetDepth(SetDepth), HostToPen;
    /// Sets the rate ([`SetRate`]).
    0x03 => SetRate(SetRate), HostToPen;
    /// Starts the motor.
    0x04 => Start, HostToPen;
    /// Stops the motor.
    0x05 => Stop, HostToPen;
    /// Stops the motor at once; latched until a new `Hello`.
    0x06 => EmergencyStop, HostToPen;
    /// Asks for a [`Status`].
    0x07 => StatusRequest, HostToPen;
    /// Feeds the watchdog.
    0x08 => Heartbeat, HostToPen;
    /// Command accepted ([`Ack`]).
    0x80 => Ack(Ack), PenToHost;
    /// Command refused ([`Nack`]).
    0x81 => Nack(Nack), PenToHost;
    /// Who the pen is ([`Identity`]).
    0x82 => Identity(Identity as IdentityView<'a>), PenToHost;
    /// What the pen can do ([`Capabilities`]).
    0x83 => Capabilities(Capabilities), PenToHost;
    /// Settings and state ([`Status`]).
    0x84 => Status(Status), PenToHost;
    /// Periodic measurements ([`Telemetry`]).
    0x85 => Telemetry(Telemetry), PenToHost;
    /// Strikes ([`StrikeBatch`]).
    0x86 => StrikeBatch(StrikeBatch as StrikeBatchView<'a>), PenToHost;
    /// Tracker pose ([`Pose`]).
    0x87 => Pose(Pose), PenToHost;
    /// Fault raised or cleared ([`Fault`]).
    0x88 => Fault(Fault), PenToHost;
    /// Cartridge event ([`CartridgeEvent`]).
    0x89 => Cartridge(CartridgeEvent), PenToHost;
}

impl MessageType {
    /// Whether the pen answers this message with an `Ack` or `Nack`.
    pub const fn is_command(self) -> bool {
        matches!(self.direction(), Direction::HostToPen)
    }
}

impl core::fmt::Display for MessageType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MessageView<'_>> for Message {
    fn from(view: MessageView<'_>) -> Self {
        view.to_message()
    }
}

/// Why a frame's payload is not a valid message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum MessageError {
    /// A type code this version does not define; the frame is skipped.
    #[error("unknown message type {msg_type:#04x}")]
    UnknownType {
        /// The type code.
        msg_type: u8,
    },
    /// A field is missing or holds an illegal value.
    #[error("malformed {msg_type}: field `{field}`: {problem:?}")]
    Malformed {
        /// The message type.
        msg_type: MessageType,
        /// The field that failed.
        field: &'static str,
        /// How it failed.
        problem: FieldProblem,
    },
    /// Bytes after the last field. Extensions add message types, never
    /// fields, so these are an error.
    #[error("{msg_type} has {extra} byte(s) after its last field")]
    TrailingBytes {
        /// The message type.
        msg_type: MessageType,
        /// How many.
        extra: usize,
    },
}

/// Why a packet could not be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The caller's buffer is too small.
    #[error("buffer too small for the frame")]
    BufferTooSmall,
}

impl From<Overflow> for EmitError {
    fn from(_: Overflow) -> Self {
        EmitError::BufferTooSmall
    }
}

/// A message and the sender's sequence number: the plain `Repr` of a frame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Packet {
    /// Sender's sequence number.
    pub seq: u16,
    /// The message.
    pub message: Message,
}

/// Why a frame is not a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The frame itself is bad (length or CRC).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The frame is sound but its message is not.
    #[error("seq {seq}: {error}")]
    Message {
        /// Sequence number of the frame.
        seq: u16,
        /// What is wrong with the message.
        error: MessageError,
    },
}

impl Packet {
    /// Parses a frame, checking its length and CRC first.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Packet, PacketError> {
        FrameRepr::parse(frame)?;
        Self::parse_checked(frame)
    }

    /// Parses a frame whose length and CRC are already checked.
    fn parse_checked<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Packet, PacketError> {
        let seq = frame.seq();
        let message = Message::parse(frame.msg_type(), frame.payload())
            .map_err(|error| PacketError::Message { seq, error })?;
        Ok(Packet { seq, message })
    }

    /// Writes the frame (header, payload, CRC; not yet COBS-encoded) into
    /// `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let body = buf
            .get_mut(frame::HEADER_LEN..)
            .ok_or(EmitError::BufferTooSmall)?;
        let payload_len = self.message.emit(body)?;
        let len = FrameRepr::buffer_len(payload_len);
        if len > crate::MAX_FRAME {
            return Err(EmitError::BufferTooSmall);
        }
        let mut frame = Frame::new_unchecked(buf.get_mut(..len).ok_or(EmitError::BufferTooSmall)?);
        FrameRepr {
            msg_type: self.message.msg_type().code(),
            seq: self.seq,
        }
        .emit(&mut frame);
        Ok(len)
    }
}

/// A [`Packet`] whose arrays and text are still in the frame: what
/// [`Decoder::decode_view`](crate::codec::Decoder::decode_view) lends out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketView<'a> {
    /// Sender's sequence number.
    pub seq: u16,
    /// The message.
    pub message: MessageView<'a>,
}

impl<'a> PacketView<'a> {
    /// Parses a frame, checking its length and CRC first. Accepts and
    /// refuses exactly what [`Packet::parse`] does, with the same errors.
    pub fn parse(frame: Frame<&'a [u8]>) -> Result<Self, PacketError> {
        FrameRepr::parse(&frame)?;
        Self::parse_checked(frame.into_inner())
    }

    /// Parses the bytes of a frame whose length and CRC are already checked.
    #[inline]
    pub(crate) fn parse_checked(frame: &'a [u8]) -> Result<Self, PacketError> {
        let (header, rest) = frame
            .split_first_chunk::<{ frame::HEADER_LEN }>()
            .ok_or(FrameError::TooShort { len: frame.len() })?;
        let payload = rest
            .len()
            .checked_sub(crate::checksum::LEN)
            .and_then(|end| rest.get(..end))
            .ok_or(FrameError::TooShort { len: frame.len() })?;
        let seq = u16::from_le_bytes([header[1], header[2]]);
        let message = MessageView::parse(header[0], payload)
            .map_err(|error| PacketError::Message { seq, error })?;
        Ok(PacketView { seq, message })
    }

    /// The owned packet.
    pub fn to_packet(&self) -> Packet {
        Packet {
            seq: self.seq,
            message: self.message.to_message(),
        }
    }
}

impl From<PacketView<'_>> for Packet {
    fn from(view: PacketView<'_>) -> Self {
        view.to_packet()
    }
}
