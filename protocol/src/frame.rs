//! The frame: `type (u8) | seq (u16 LE) | payload | CRC-32C (u32 LE)`.
//!
//! [`Frame`] is a typed view over a buffer that holds one decoded (un-COBSed)
//! frame, in the manner of smoltcp's wire types: accessors read fields in
//! place, setters write them. [`FrameRepr`] is the plain header.

use core::ops::Range;

use nom::Parser;
use nom::number::complete::{le_u16, u8 as byte};

use crate::{MAX_FRAME, checksum};

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const SEQ: Range<usize> = 1..3;
    pub const PAYLOAD_START: usize = 3;
}

/// Bytes before the payload: message type and sequence number.
pub const HEADER_LEN: usize = field::PAYLOAD_START;
/// Shortest valid frame: a header, an empty payload and the CRC.
pub const MIN_FRAME: usize = HEADER_LEN + checksum::LEN;
/// Largest payload a frame can carry.
pub const MAX_PAYLOAD: usize = MAX_FRAME - MIN_FRAME;

/// Why a decoded frame's bytes are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum FrameError {
    /// Fewer bytes than a header and a CRC.
    #[error("frame of {len} bytes is shorter than the minimum of {MIN_FRAME}")]
    TooShort {
        /// Decoded length.
        len: usize,
    },
    /// More bytes than [`MAX_FRAME`].
    #[error("frame of {len} bytes is longer than the maximum of {MAX_FRAME}")]
    TooLong {
        /// Decoded length.
        len: usize,
    },
    /// The CRC in the frame is not the CRC of its contents.
    #[error("CRC mismatch: frame says {received:#010x}, contents give {computed:#010x}")]
    CrcMismatch {
        /// CRC carried by the frame.
        received: u32,
        /// CRC computed over the frame's header and payload.
        computed: u32,
    },
}

/// A typed view over the bytes of one decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length; accessors may panic on a
    /// short buffer. Use [`Frame::new_checked`] for bytes from outside.
    pub const fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps a buffer after checking its length (not its CRC).
    pub fn new_checked(buffer: T) -> Result<Self, FrameError> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer is long enough for every accessor and no longer
    /// than the protocol allows.
    pub fn check_len(&self) -> Result<(), FrameError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_FRAME {
            Err(FrameError::TooShort { len })
        } else if len > MAX_FRAME {
            Err(FrameError::TooLong { len })
        } else {
            Ok(())
        }
    }

    /// Gives back the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole frame, CRC included.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Message type code.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Sequence number of the sender.
    pub fn seq(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::SEQ];
        u16::from_le_bytes([b[0], b[1]])
    }

    /// The message body.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.payload_range()]
    }

    /// The CRC carried by the frame.
    pub fn crc(&self) -> u32 {
        let b = self.buffer.as_ref();
        let c = &b[b.len() - checksum::LEN..];
        u32::from_le_bytes([c[0], c[1], c[2], c[3]])
    }

    /// The CRC of the frame's header and payload.
    pub fn computed_crc(&self) -> u32 {
        let b = self.buffer.as_ref();
        checksum::crc32c(&b[..b.len() - checksum::LEN])
    }

    /// Checks the carried CRC against the contents.
    pub fn check_crc(&self) -> Result<(), FrameError> {
        let (received, computed) = (self.crc(), self.computed_crc());
        if received == computed {
            Ok(())
        } else {
            Err(FrameError::CrcMismatch { received, computed })
        }
    }

    fn payload_range(&self) -> Range<usize> {
        field::PAYLOAD_START..self.buffer.as_ref().len() - checksum::LEN
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Writes the message type code.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    /// Writes the sequence number.
    pub fn set_seq(&mut self, value: u16) {
        self.buffer.as_mut()[field::SEQ].copy_from_slice(&value.to_le_bytes());
    }

    /// The message body, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }

    /// Computes the CRC over header and payload and writes it at the end.
    pub fn fill_crc(&mut self) {
        let crc = self.computed_crc();
        let b = self.buffer.as_mut();
        let at = b.len() - checksum::LEN;
        b[at..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// The plain frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRepr {
    /// Message type code.
    pub msg_type: u8,
    /// Sequence number of the sender.
    pub seq: u16,
}

impl FrameRepr {
    /// Parses the header of a length-checked frame, verifying its CRC.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Self, FrameError> {
        frame.check_len()?;
        frame.check_crc()?;
        let header = frame.as_bytes();
        let parsed: nom::IResult<&[u8], (u8, u16)> = (byte, le_u16).parse(header);
        let len = header.len();
        // Unreachable after check_len, but never panic on wire bytes.
        let (_, (msg_type, seq)) = parsed.map_err(|_| FrameError::TooShort { len })?;
        Ok(FrameRepr { msg_type, seq })
    }

    /// Length of a frame carrying `payload_len` bytes of payload.
    pub const fn buffer_len(payload_len: usize) -> usize {
        MIN_FRAME + payload_len
    }

    /// Writes the header into a frame whose payload is already in place, then
    /// seals it with its CRC.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_msg_type(self.msg_type);
        frame.set_seq(self.seq);
        frame.fill_crc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SetDepth(1500 µm), seq 0x0102: 02 | 02 01 | dc 05 | crc
    fn sample() -> [u8; 9] {
        let mut bytes = [0x02, 0x02, 0x01, 0xdc, 0x05, 0, 0, 0, 0];
        let crc = checksum::crc32c(&bytes[..5]).to_le_bytes();
        bytes[5..].copy_from_slice(&crc);
        bytes
    }

    #[test]
    fn each_field_reads_from_its_offset() {
        let bytes = sample();
        let frame = Frame::new_checked(&bytes[..]).unwrap();
        assert_eq!(frame.msg_type(), 0x02);
        assert_eq!(frame.seq(), 0x0102);
        assert_eq!(frame.payload(), &[0xdc, 0x05]);
        assert_eq!(frame.crc(), checksum::crc32c(&bytes[..5]));
        assert_eq!(frame.check_crc(), Ok(()));
    }

    #[test]
    fn each_setter_writes_its_offset() {
        let mut bytes = [0u8; 9];
        let mut frame = Frame::new_unchecked(&mut bytes[..]);
        frame.payload_mut().copy_from_slice(&[0xdc, 0x05]);
        FrameRepr {
            msg_type: 0x02,
            seq: 0x0102,
        }
        .emit(&mut frame);
        assert_eq!(bytes, sample());
    }

    #[test]
    fn repr_round_trip() {
        let bytes = sample();
        let repr = FrameRepr::parse(&Frame::new_unchecked(&bytes[..])).unwrap();
        assert_eq!(
            repr,
            FrameRepr {
                msg_type: 2,
                seq: 0x0102
            }
        );
        assert_eq!(FrameRepr::buffer_len(2), bytes.len());
    }

    #[test]
    fn length_limits() {
        assert_eq!(
            Frame::new_checked(&[0u8; MIN_FRAME - 1][..]),
            Err(FrameError::TooShort { len: MIN_FRAME - 1 })
        );
        assert!(Frame::new_checked(&[0u8; MIN_FRAME][..]).is_ok());
        assert!(Frame::new_checked(&[0u8; MAX_FRAME][..]).is_ok());
        assert_eq!(
            Frame::new_checked(&[0u8; MAX_FRAME + 1][..]),
            Err(FrameError::TooLong { len: MAX_FRAME + 1 })
        );
    }

    #[test]
    fn any_bit_flip_is_caught_by_the_crc() {
        let good = sample();
        for bit in 0..good.len() * 8 {
            let mut bytes = good;
            bytes[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(
                    FrameRepr::parse(&Frame::new_unchecked(&bytes[..])),
                    Err(FrameError::CrcMismatch { .. })
                ),
                "bit {bit} flipped unnoticed"
            );
        }
    }
}
