//! The penlab wire protocol between a motorised microneedling pen and its host.
//!
//! One crate for both ends, as in postcard-rpc: the pen's firmware and the host
//! tools share the same definitions. The core is `no_std` and needs no allocator.
//!
//! Layers, bottom up (see `PROTOCOL.md` for the normative specification):
//!
//! * [`frame`]: the frame layout `type | seq | payload | CRC-32C`, as a typed
//!   view over bytes ([`frame::Frame`]) and a plain header ([`frame::FrameRepr`]).
//! * [`codec`]: COBS framing with a `0x00` delimiter. [`codec::Decoder`] is a
//!   streaming decoder that takes chunks of any size and never holds more
//!   than [`MAX_ENCODED_FRAME`] bytes; whole frames in a read take a one-pass
//!   fast path. [`codec::encode_packet`] writes a frame into the caller's
//!   buffer without allocating.
//! * [`message`]: every message as a plain `Repr` type with `parse` (`nom`)
//!   and `emit`; [`message::Packet`], a sequence number with its message;
//!   and [`message::PacketView`], the same borrowing the frame's arrays and
//!   text, as [`codec::Decoder::decode_view`] lends it out. One table in
//!   `message/mod.rs` lists every message.
//! * [`seq`]: sequence tracking that reveals loss and duplication.
//! * [`timing`]: the heartbeat, watchdog and acknowledgement rules.
//! * `env` (with `std`): the test bench's environment-channel commands
//!   (force, cartridges, faults), shared by hosts and mock pens.
//!
//! ```
//! use penlab_protocol::{codec::{Decoder, encode_packet}, message::{Message, Packet, SetDepth}};
//!
//! let packet = Packet { seq: 7, message: Message::SetDepth(SetDepth { depth_um: 1_500 }) };
//! let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
//! let n = encode_packet(&packet, &mut wire).unwrap();
//!
//! let mut decoder = Decoder::new();
//! let mut input = &wire[..n];
//! let frame = decoder.decode(&mut input).unwrap().unwrap();
//! assert_eq!(Packet::parse(&frame).unwrap(), packet);
//! ```
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

pub mod checksum;
pub mod codec;
#[cfg(feature = "std")]
pub mod env;
pub mod frame;
pub mod message;
pub mod samples;
pub mod seq;
pub mod timing;
mod wire;

/// Protocol major version: a host and a pen talk only if these are equal.
pub const PROTOCOL_MAJOR: u8 = 1;
/// Protocol minor version: additions that older peers can ignore safely.
pub const PROTOCOL_MINOR: u8 = 0;

/// `REQUIREMENTS.md`: every normative statement of `PROTOCOL.md` by its
/// identifier, as a Markdown table (for reports that trace tests to them).
pub const REQUIREMENTS_MD: &str = include_str!("../REQUIREMENTS.md");

/// Largest frame before COBS encoding: header, payload and CRC.
pub const MAX_FRAME: usize = 256;
/// Largest COBS-encoded frame, without its delimiter. Anything longer between
/// two delimiters is rejected before it is buffered.
pub const MAX_ENCODED_FRAME: usize = MAX_FRAME + MAX_FRAME.div_ceil(254);
/// Largest frame on the wire: the encoded frame and its `0x00` delimiter.
pub const MAX_WIRE_FRAME: usize = MAX_ENCODED_FRAME + 1;
/// Frame delimiter on the wire.
pub const DELIMITER: u8 = 0x00;
