//! COBS framing on the wire: a streaming decoder and an allocation-free
//! encoder.
//!
//! On the wire every frame is COBS-encoded, so it contains no `0x00`, and is
//! followed by one `0x00` delimiter. A receiver that loses step (garbage on
//! the line, a dropped or flipped byte) loses at most the frame it is in: the
//! next delimiter puts it back in step.
//!
//! The [`Decoder`] has two paths. The fast one takes a whole frame from the
//! caller's read in one pass (`cobs::decode_delimited`: delimiter, COBS
//! and zero checks a word at a time) and checks the CRC in whole words. The
//! slow one (a `memchr` delimiter scan, a buffer for frames split across
//! reads, the bound, the discarding of oversize runs) takes everything the
//! fast one declines, and reports every error. Both end in the same length
//! and CRC checks. Messages come out as borrowed views
//! ([`Decoder::decode_view`]) or owned packets ([`Decoder::decode_packet`]).

mod cobs;
mod fused;

use self::cobs::FrameBuf;
use crate::frame::{Frame, FrameError, MIN_FRAME};
use crate::message::{EmitError, MessageError, Packet, PacketError, PacketView};
use crate::{DELIMITER, MAX_ENCODED_FRAME, MAX_FRAME, MAX_WIRE_FRAME, checksum};

/// What the decoder reports instead of a frame. After any of these it is
/// already back in step for the next frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DecodeError {
    /// More than [`MAX_ENCODED_FRAME`] bytes without a delimiter: they are
    /// dropped, unbuffered, up to the next delimiter.
    #[error("no delimiter within {limit} bytes; discarding to the next delimiter")]
    Oversize {
        /// The limit that was passed.
        limit: usize,
    },
    /// The bytes between two delimiters are not valid COBS.
    #[error("invalid COBS encoding in a {len}-byte frame")]
    Cobs {
        /// Encoded length.
        len: usize,
    },
    /// The decoded frame is too short, too long, or fails its CRC.
    #[error(transparent)]
    Frame(FrameError),
    /// The frame is sound but its message is not (including unknown types).
    #[error("seq {seq}: {error}")]
    Message {
        /// Sequence number of the frame.
        seq: u16,
        /// What is wrong with the message.
        error: MessageError,
    },
    /// The stream ended inside a frame.
    #[error("stream ended {len} byte(s) into a frame")]
    Truncated {
        /// Bytes received of the unfinished frame.
        len: usize,
    },
}

impl DecodeError {
    /// A short stable name for the error, as used in the test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Oversize { .. } => "oversize",
            DecodeError::Cobs { .. } => "cobs",
            DecodeError::Frame(FrameError::TooShort { .. }) => "too_short",
            DecodeError::Frame(FrameError::TooLong { .. }) => "too_long",
            DecodeError::Frame(FrameError::CrcMismatch { .. }) => "crc_mismatch",
            DecodeError::Message {
                error: MessageError::UnknownType { .. },
                ..
            } => "unknown_type",
            DecodeError::Message {
                error: MessageError::Malformed { .. },
                ..
            } => "malformed",
            DecodeError::Message {
                error: MessageError::TrailingBytes { .. },
                ..
            } => "trailing_bytes",
            DecodeError::Truncated { .. } => "truncated",
        }
    }
}

impl From<PacketError> for DecodeError {
    fn from(e: PacketError) -> Self {
        match e {
            PacketError::Frame(f) => DecodeError::Frame(f),
            PacketError::Message { seq, error } => DecodeError::Message { seq, error },
        }
    }
}

/// Counters kept by a [`Decoder`], for monitors and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecoderStats {
    /// Bytes fed in.
    pub bytes: u64,
    /// Frames that passed length and CRC checks.
    pub frames: u64,
    /// Errors reported.
    pub errors: u64,
    /// Bytes dropped without being buffered (oversize runs).
    pub bytes_discarded: u64,
}

/// A streaming frame decoder with a fixed buffer of [`MAX_ENCODED_FRAME`]
/// bytes. Feed it chunks of any size, down to one byte; it never panics and
/// never holds more than its buffer, whatever the input.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Encoded bytes of a frame that spans reads, delimiter included.
    partial: [u8; MAX_WIRE_FRAME],
    len: usize,
    /// The last decoded frame, which [`Decoder::decode`] lends out.
    frame: FrameBuf,
    discarding: bool,
    stats: DecoderStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the encoded bytes of a complete frame are.
enum Source<'a> {
    /// Entirely in the caller's read, delimiter included.
    Input(&'a [u8]),
    /// In `partial`, gathered over several reads.
    Partial,
}

/// One COBS-encoded frame body and what follows its delimiter, or `None`
/// if there is no delimiter.
#[inline]
fn delimited(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(DELIMITER, input)?;
    Some((input.get(at + 1..)?, input.get(..at)?))
}

impl Decoder {
    /// A decoder waiting for the start of a frame.
    pub const fn new() -> Self {
        Decoder {
            partial: [0; MAX_WIRE_FRAME],
            len: 0,
            frame: FrameBuf::new(),
            discarding: false,
            stats: DecoderStats {
                bytes: 0,
                frames: 0,
                errors: 0,
                bytes_discarded: 0,
            },
        }
    }

    /// Counters since creation.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes of an unfinished frame held now.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Takes bytes from the front of `input` up to the end of the next frame
    /// and returns that frame (length- and CRC-checked) or the error in its
    /// place. Returns `None` once `input` is used up without completing a
    /// frame; the partial frame is kept for the next call.
    ///
    /// ```
    /// # use penlab_protocol::codec::Decoder;
    /// # fn handle(_: &[u8]) {}
    /// let mut decoder = Decoder::new();
    /// let chunk: &[u8] = &[0x11, 0x22, 0x00]; // whatever the port gave
    /// let mut input = chunk;
    /// while let Some(result) = decoder.decode(&mut input) {
    ///     match result {
    ///         Ok(frame) => handle(frame.payload()),
    ///         Err(error) => eprintln!("skipped: {error}"),
    ///     }
    /// }
    /// ```
    #[inline]
    pub fn decode<'d>(
        &'d mut self,
        input: &mut &[u8],
    ) -> Option<Result<Frame<&'d [u8]>, DecodeError>> {
        Some(
            self.next_frame(input)?
                .map(|len| Frame::new_unchecked(&self.frame.0[..len])),
        )
    }

    /// Like [`Decoder::decode`], then parses the frame into a [`PacketView`]
    /// that borrows the decoder: no copy of the frame's arrays or text, no
    /// allocation. Unknown message types and malformed payloads come back as
    /// [`DecodeError::Message`]; the stream stays in step. The fast path:
    /// the same results as [`Decoder::decode_packet`], without the copy.
    ///
    /// ```
    /// # use penlab_protocol::codec::{Decoder, encode_packet};
    /// # use penlab_protocol::message::{Message, MessageView, Packet, SetDepth};
    /// # let packet = Packet { seq: 1, message: Message::SetDepth(SetDepth { depth_um: 900 }) };
    /// # let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
    /// # let n = encode_packet(&packet, &mut wire).unwrap();
    /// let mut decoder = Decoder::new();
    /// let mut input = &wire[..n];
    /// while let Some(Ok(view)) = decoder.decode_view(&mut input) {
    ///     if let MessageView::SetDepth(d) = view.message {
    ///         assert_eq!(d.depth_um, 900);
    ///     }
    /// }
    /// ```
    #[inline(always)]
    pub fn decode_view<'d>(
        &'d mut self,
        input: &mut &[u8],
    ) -> Option<Result<PacketView<'d>, DecodeError>> {
        let len = match self.next_frame(input)? {
            Ok(len) => len,
            Err(e) => return Some(Err(e)),
        };
        let result = PacketView::parse_checked(&self.frame.0[..len]);
        if result.is_err() {
            self.stats.errors += 1;
        }
        Some(result.map_err(DecodeError::from))
    }

    /// Like [`Decoder::decode`], then parses the frame into a [`Packet`].
    /// Unknown message types and malformed payloads come back as
    /// [`DecodeError::Message`]; the stream stays in step.
    #[inline]
    pub fn decode_packet(&mut self, input: &mut &[u8]) -> Option<Result<Packet, DecodeError>> {
        Some(self.decode_view(input)?.map(|view| view.to_packet()))
    }

    /// Feeds a whole chunk, handing every packet or error to `sink`.
    #[inline]
    pub fn feed(&mut self, mut chunk: &[u8], mut sink: impl FnMut(Result<Packet, DecodeError>)) {
        while let Some(result) = self.decode_packet(&mut chunk) {
            sink(result);
        }
    }

    /// Feeds a whole chunk, handing every packet view or error to `sink`:
    /// [`Decoder::feed`] without the copies.
    #[inline]
    pub fn feed_views(
        &mut self,
        mut chunk: &[u8],
        mut sink: impl FnMut(Result<PacketView<'_>, DecodeError>),
    ) {
        while let Some(result) = self.decode_view(&mut chunk) {
            sink(result);
        }
    }

    /// The next frame from `input`, decoded into `self.frame`: its length,
    /// or the error in its place.
    #[inline(always)]
    fn next_frame(&mut self, input: &mut &[u8]) -> Option<Result<usize, DecodeError>> {
        if self.len == 0 && !self.discarding {
            // The fused path: a whole frame in this read, decoded and its
            // CRC checked in two passes.
            while let Some(d) = fused::decode_frame(input, &mut self.frame.0) {
                *input = input.get(d.wire..).unwrap_or_default();
                self.stats.bytes += d.wire as u64;
                if d.wire > 1 {
                    if d.intact && (MIN_FRAME..=MAX_FRAME).contains(&d.len) {
                        self.stats.frames += 1;
                        return Some(Ok(d.len));
                    }
                    return Some(self.check_frame(d.len));
                } // else an idle delimiter
            }
            // The fast path: a whole frame in this read, decoded where it lies.
            while let Some((encoded, decoded)) = cobs::decode_delimited(input, &mut self.frame.0) {
                *input = input.get(encoded + 1..).unwrap_or_default();
                self.stats.bytes += encoded as u64 + 1;
                if encoded > 0 {
                    return Some(self.check_frame(decoded));
                } // else an idle delimiter
            }
        }
        self.next_frame_slow(input)
    }

    /// Everything the fast path declines: frames split across reads,
    /// oversize runs, bad COBS, the end of a read.
    fn next_frame_slow(&mut self, input: &mut &[u8]) -> Option<Result<usize, DecodeError>> {
        loop {
            if input.is_empty() {
                return None;
            }
            let Some((rest, body)) = delimited(input) else {
                // No delimiter in what is left: keep it, within the bound.
                let chunk = core::mem::take(input);
                self.stats.bytes += chunk.len() as u64;
                return self.hold(chunk).map(Err);
            };
            let with_delimiter = &input[..=body.len()];
            self.stats.bytes += with_delimiter.len() as u64;
            *input = rest;
            if self.discarding {
                self.discarding = false;
                self.stats.bytes_discarded += body.len() as u64;
                continue;
            }
            if self.len == 0 {
                if body.is_empty() {
                    continue; // idle delimiter
                }
                // The whole frame is in this read: decode it where it lies.
                return Some(
                    self.finish_frame(with_delimiter.len(), Source::Input(with_delimiter)),
                );
            }
            if let Some(oversize) = self.hold(with_delimiter) {
                // This delimiter already ends the oversize run.
                self.discarding = false;
                return Some(Err(oversize));
            }
            let encoded_len = core::mem::take(&mut self.len);
            return Some(self.finish_frame(encoded_len, Source::Partial));
        }
    }

    /// Ends the stream: reports an unfinished frame, if any, and resets.
    pub fn finish(&mut self) -> Option<DecodeError> {
        let len = core::mem::take(&mut self.len);
        let discarding = core::mem::take(&mut self.discarding);
        if len == 0 || discarding {
            return None;
        }
        self.stats.errors += 1;
        Some(DecodeError::Truncated { len })
    }

    /// Buffers `bytes` of the current frame, or, if that would pass the
    /// bound, drops them and everything up to the next delimiter.
    fn hold(&mut self, bytes: &[u8]) -> Option<DecodeError> {
        if self.discarding {
            self.stats.bytes_discarded += bytes.len() as u64;
            return None;
        }
        let end = self.len + bytes.len();
        let delimited = bytes.last() == Some(&DELIMITER);
        if end > MAX_ENCODED_FRAME + usize::from(delimited) {
            self.stats.bytes_discarded += end as u64;
            self.len = 0;
            self.discarding = true;
            self.stats.errors += 1;
            return Some(DecodeError::Oversize {
                limit: MAX_ENCODED_FRAME,
            });
        }
        self.partial[self.len..end].copy_from_slice(bytes);
        self.len = end;
        None
    }

    fn finish_frame(&mut self, wire_len: usize, source: Source<'_>) -> Result<usize, DecodeError> {
        let encoded_len = wire_len - 1;
        if encoded_len > MAX_ENCODED_FRAME {
            self.stats.bytes_discarded += encoded_len as u64;
            return self.fail(DecodeError::Oversize {
                limit: MAX_ENCODED_FRAME,
            });
        }
        let wire = match source {
            Source::Input(bytes) => bytes,
            Source::Partial => &self.partial[..wire_len],
        };
        match cobs::decode(&wire[..encoded_len], &mut self.frame.0) {
            Some(decoded_len) => self.check_frame(decoded_len),
            None => self.fail(DecodeError::Cobs { len: encoded_len }),
        }
    }

    /// Length and CRC checks of the `len` bytes decoded into `self.frame`.
    #[inline(always)]
    fn check_frame(&mut self, len: usize) -> Result<usize, DecodeError> {
        if len < MIN_FRAME {
            return self.fail(DecodeError::Frame(FrameError::TooShort { len }));
        }
        if len > MAX_FRAME {
            return self.fail(DecodeError::Frame(FrameError::TooLong { len }));
        }
        if !checksum::padded_frame_is_intact(&mut self.frame.0, len) {
            // Say exactly what is wrong, the long way.
            let frame = Frame::new_unchecked(&self.frame.0[..len]);
            if let Err(e) = frame.check_crc() {
                return self.fail(DecodeError::Frame(e));
            }
        }
        self.stats.frames += 1;
        Ok(len)
    }

    fn fail<T>(&mut self, error: DecodeError) -> Result<T, DecodeError> {
        self.stats.errors += 1;
        Err(error)
    }
}

/// COBS-encodes a frame (as written by [`Packet::emit`]) into `out` and
/// appends the delimiter; returns the bytes written. Never allocates.
pub fn encode_frame(frame: &[u8], out: &mut [u8]) -> Result<usize, EmitError> {
    let n = ::cobs::try_encode(frame, out).map_err(|_| EmitError::BufferTooSmall)?;
    *out.get_mut(n).ok_or(EmitError::BufferTooSmall)? = DELIMITER;
    Ok(n + 1)
}

/// Writes `packet` as it goes on the wire (framed, CRC'd, COBS-encoded and
/// delimited) into `out`; returns the bytes written. `out` of
/// [`MAX_WIRE_FRAME`] bytes always suffices. Never
/// allocates.
pub fn encode_packet(packet: &Packet, out: &mut [u8]) -> Result<usize, EmitError> {
    let mut raw = [0u8; MAX_FRAME];
    let n = packet.emit(&mut raw)?;
    encode_frame(&raw[..n], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoder_is_small_and_fixed() {
        // The buffer for a frame split across reads, the decoded frame, and
        // counters, whatever the input.
        assert!(core::mem::size_of::<Decoder>() <= MAX_WIRE_FRAME + cobs::FRAME_BUF + 64);
    }
}
