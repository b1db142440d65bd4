//! Messages: one plain `Repr` type per message, with `parse` from a frame's
//! payload and `emit` into a caller's buffer.
//!
//! Type codes below `0x80` go from host to pen, codes from `0x80` up from pen
//! to host. A frame whose type this version does not know is reported as
//! [`MessageError::UnknownType`] and skipped: the framing does not depend on
//! the type, so the stream stays in step.

mod device;
mod host;

pub use device::*;
pub use host::*;

use crate::frame::{self, Frame, FrameError, FrameRepr};
use crate::wire::{Body, FieldProblem, Overflow, Writer};

/// Who sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From host to pen: commands.
    HostToPen,
    /// From pen to host: replies, telemetry and events.
    PenToHost,
}

macro_rules! message_types {
    ($( $(#[$meta:meta])* $name:ident = $code:literal ),* $(,)?) => {
        /// The type code of a message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum MessageType { $( $(#[$meta])* $name = $code ),* }

        impl MessageType {
            /// Every message type, in code order.
            pub const ALL: &'static [MessageType] = &[$(MessageType::$name),*];

            /// The wire code.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The message type for a wire code, if this version defines it.
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $($code => Some(MessageType::$name),)*
                    _ => None,
                }
            }

            /// The name used in specs, captures and reports.
            pub const fn name(self) -> &'static str {
                match self {
                    $(MessageType::$name => stringify!($name),)*
                }
            }
        }
    };
}

message_types! {
    /// [`Hello`]
    Hello = 0x01,
    /// [`SetDepth`]
    SetDepth = 0x02,
    /// [`SetRate`]
    SetRate = 0x03,
    /// Start the motor.
    Start = 0x04,
    /// Stop the motor.
    Stop = 0x05,
    /// Stop the motor at once and latch until a new `Hello`.
    EmergencyStop = 0x06,
    /// Ask for a [`Status`].
    StatusRequest = 0x07,
    /// Keep the watchdog fed.
    Heartbeat = 0x08,
    /// [`Ack`]
    Ack = 0x80,
    /// [`Nack`]
    Nack = 0x81,
    /// [`Identity`]
    Identity = 0x82,
    /// [`Capabilities`]
    Capabilities = 0x83,
    /// [`Status`]
    Status = 0x84,
    /// [`Telemetry`]
    Telemetry = 0x85,
    /// [`StrikeBatch`]
    StrikeBatch = 0x86,
    /// [`Pose`]
    Pose = 0x87,
    /// [`Fault`]
    Fault = 0x88,
    /// [`CartridgeEvent`]
    Cartridge = 0x89,
}

impl MessageType {
    /// Who sends this message.
    pub const fn direction(self) -> Direction {
        if self.code() & 0x80 == 0 {
            Direction::HostToPen
        } else {
            Direction::PenToHost
        }
    }

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

/// Every message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // fixed-capacity and allocation-free by design
pub enum Message {
    /// Opens a session.
    Hello(Hello),
    /// Sets the depth.
    SetDepth(SetDepth),
    /// Sets the rate.
    SetRate(SetRate),
    /// Starts the motor.
    Start,
    /// Stops the motor.
    Stop,
    /// Stops the motor at once; latched until a new `Hello`.
    EmergencyStop,
    /// Asks for a [`Status`].
    StatusRequest,
    /// Feeds the watchdog.
    Heartbeat,
    /// Command accepted.
    Ack(Ack),
    /// Command refused.
    Nack(Nack),
    /// Who the pen is.
    Identity(Identity),
    /// What the pen can do.
    Capabilities(Capabilities),
    /// Settings and state.
    Status(Status),
    /// Periodic measurements.
    Telemetry(Telemetry),
    /// Strikes.
    StrikeBatch(StrikeBatch),
    /// Tracker pose.
    Pose(Pose),
    /// Fault raised or cleared.
    Fault(Fault),
    /// Cartridge event.
    Cartridge(CartridgeEvent),
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

#[inline]
fn parse_body<T: Body>(msg_type: MessageType, payload: &[u8]) -> Result<T, MessageError> {
    let (rest, body) = T::parse_fields(payload).map_err(|e| MessageError::Malformed {
        msg_type,
        field: e.field,
        problem: e.problem,
    })?;
    expect_end(msg_type, rest)?;
    Ok(body)
}

fn expect_end(msg_type: MessageType, rest: &[u8]) -> Result<(), MessageError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(MessageError::TrailingBytes {
            msg_type,
            extra: rest.len(),
        })
    }
}

impl Message {
    /// The message's type code.
    pub const fn msg_type(&self) -> MessageType {
        match self {
            Message::Hello(_) => MessageType::Hello,
            Message::SetDepth(_) => MessageType::SetDepth,
            Message::SetRate(_) => MessageType::SetRate,
            Message::Start => MessageType::Start,
            Message::Stop => MessageType::Stop,
            Message::EmergencyStop => MessageType::EmergencyStop,
            Message::StatusRequest => MessageType::StatusRequest,
            Message::Heartbeat => MessageType::Heartbeat,
            Message::Ack(_) => MessageType::Ack,
            Message::Nack(_) => MessageType::Nack,
            Message::Identity(_) => MessageType::Identity,
            Message::Capabilities(_) => MessageType::Capabilities,
            Message::Status(_) => MessageType::Status,
            Message::Telemetry(_) => MessageType::Telemetry,
            Message::StrikeBatch(_) => MessageType::StrikeBatch,
            Message::Pose(_) => MessageType::Pose,
            Message::Fault(_) => MessageType::Fault,
            Message::Cartridge(_) => MessageType::Cartridge,
        }
    }

    /// Parses a payload of the given type code.
    #[inline]
    pub fn parse(msg_type: u8, payload: &[u8]) -> Result<Message, MessageError> {
        let ty = MessageType::from_code(msg_type).ok_or(MessageError::UnknownType { msg_type })?;
        let unit = |m: Message| expect_end(ty, payload).map(|()| m);
        Ok(match ty {
            MessageType::Hello => Message::Hello(parse_body(ty, payload)?),
            MessageType::SetDepth => Message::SetDepth(parse_body(ty, payload)?),
            MessageType::SetRate => Message::SetRate(parse_body(ty, payload)?),
            MessageType::Start => unit(Message::Start)?,
            MessageType::Stop => unit(Message::Stop)?,
            MessageType::EmergencyStop => unit(Message::EmergencyStop)?,
            MessageType::StatusRequest => unit(Message::StatusRequest)?,
            MessageType::Heartbeat => unit(Message::Heartbeat)?,
            MessageType::Ack => Message::Ack(parse_body(ty, payload)?),
            MessageType::Nack => Message::Nack(parse_body(ty, payload)?),
            MessageType::Identity => Message::Identity(parse_body(ty, payload)?),
            MessageType::Capabilities => Message::Capabilities(parse_body(ty, payload)?),
            MessageType::Status => Message::Status(parse_body(ty, payload)?),
            MessageType::Telemetry => Message::Telemetry(parse_body(ty, payload)?),
            MessageType::StrikeBatch => Message::StrikeBatch(parse_body(ty, payload)?),
            MessageType::Pose => Message::Pose(parse_body(ty, payload)?),
            MessageType::Fault => Message::Fault(parse_body(ty, payload)?),
            MessageType::Cartridge => Message::Cartridge(parse_body(ty, payload)?),
        })
    }

    /// Writes the payload into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut w = Writer::new(buf);
        match self {
            Message::Start
            | Message::Stop
            | Message::EmergencyStop
            | Message::StatusRequest
            | Message::Heartbeat => {}
            Message::Hello(b) => b.emit_fields(&mut w)?,
            Message::SetDepth(b) => b.emit_fields(&mut w)?,
            Message::SetRate(b) => b.emit_fields(&mut w)?,
            Message::Ack(b) => b.emit_fields(&mut w)?,
            Message::Nack(b) => b.emit_fields(&mut w)?,
            Message::Identity(b) => b.emit_fields(&mut w)?,
            Message::Capabilities(b) => b.emit_fields(&mut w)?,
            Message::Status(b) => b.emit_fields(&mut w)?,
            Message::Telemetry(b) => b.emit_fields(&mut w)?,
            Message::StrikeBatch(b) => b.emit_fields(&mut w)?,
            Message::Pose(b) => b.emit_fields(&mut w)?,
            Message::Fault(b) => b.emit_fields(&mut w)?,
            Message::Cartridge(b) => b.emit_fields(&mut w)?,
        }
        Ok(w.written())
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

    /// Parses a frame whose length and CRC are already checked (as the
    /// [`Decoder`](crate::codec::Decoder)'s frames are).
    #[inline]
    pub(crate) fn parse_checked<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Packet, PacketError> {
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
