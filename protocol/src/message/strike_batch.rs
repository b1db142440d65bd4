//! `StrikeBatch`: the strikes since the previous batch, as an owned
//! [`StrikeBatch`] (60 slots inline, no allocation) or as a
//! [`StrikeBatchView`] over the frame's bytes, read lazily.

use core::iter::FusedIterator;
use core::slice::ChunksExact;

use heapless::Vec;

use super::body::{Viewed, expect_end, malformed};
use super::{MessageError, MessageType};
use crate::wire::{FieldError, Overflow, Wire, WireResult, Writer, records, wire_struct};

/// Most strikes one [`StrikeBatch`] carries (fills a maximum-size frame).
pub const MAX_STRIKES: usize = 60;

/// Bytes of one strike record on the wire.
const STRIKE_LEN: usize = 4;
/// Bytes before the strike records: `first_strike`, `time_us`, the count.
const HEAD_LEN: usize = 9;

/// One stroke of the needle cartridge: every needle strikes together, so a
/// stroke is one record whatever the needle count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Strike {
    /// Time after the batch's `time_us`, in units of 10 µs.
    pub offset_10us: u16,
    /// Measured depth at the bottom of the stroke, micrometres.
    pub depth_um: u16,
}

impl Strike {
    #[inline(always)]
    fn from_bytes(b: [u8; STRIKE_LEN]) -> Self {
        Strike {
            offset_10us: u16::from_le_bytes([b[0], b[1]]),
            depth_um: u16::from_le_bytes([b[2], b[3]]),
        }
    }
}

impl Wire for Strike {
    const SIZE: Option<usize> = Some(STRIKE_LEN);
    fn parse(input: &[u8]) -> WireResult<'_, Self> {
        let (input, offset_10us) = u16::parse(input)?;
        let (input, depth_um) = u16::parse(input)?;
        Ok((
            input,
            Strike {
                offset_10us,
                depth_um,
            },
        ))
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        self.offset_10us.emit(w)?;
        self.depth_um.emit(w)
    }
}

wire_struct! {
    borrowed
    /// Strikes since the previous batch. Strikes are numbered from the start
    /// of the session, so a lost batch shows as a gap in the numbering.
    pub struct StrikeBatch {
        /// Number of the first strike in this batch.
        pub first_strike: u32,
        /// Device uptime the strike offsets count from, microseconds.
        pub time_us: u32,
        /// The strikes, oldest first.
        pub strikes: Vec<Strike, MAX_STRIKES>,
    }
}

/// A [`StrikeBatch`] as it lies in a frame: the header fields read, the
/// strike records left in place and read one by one as they are iterated.
/// What [`Decoder::decode_view`](crate::codec::Decoder::decode_view) lends
/// out; [`StrikeBatchView::to_repr`] (or `From`) makes the owned batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrikeBatchView<'a> {
    /// Number of the first strike in this batch.
    pub first_strike: u32,
    /// Device uptime the strike offsets count from, microseconds.
    pub time_us: u32,
    /// The strike records, `STRIKE_LEN` bytes each.
    strikes: &'a [u8],
}

impl<'a> StrikeBatchView<'a> {
    /// Parses a `StrikeBatch` payload; errors are those of
    /// [`Message::parse`](super::Message::parse).
    pub fn parse(payload: &'a [u8]) -> Result<Self, MessageError> {
        Self::parse_as(MessageType::StrikeBatch, payload)
    }

    #[inline]
    fn parse_as(msg_type: MessageType, payload: &'a [u8]) -> Result<Self, MessageError> {
        // The usual case: a well-formed batch, read at fixed offsets.
        if let Some((head, strikes)) = payload.split_first_chunk::<HEAD_LEN>()
            && usize::from(head[8]) <= MAX_STRIKES
            && strikes.len() == usize::from(head[8]) * STRIKE_LEN
        {
            return Ok(StrikeBatchView {
                first_strike: u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
                time_us: u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
                strikes,
            });
        }
        // Anything else: field by field, to say what is wrong.
        let (rest, view) = Self::parse_fields(payload).map_err(|e| malformed(msg_type, e))?;
        expect_end(msg_type, rest)?;
        Ok(view)
    }

    /// Field by field, with the field names of the owned parser.
    fn parse_fields(input: &'a [u8]) -> Result<(&'a [u8], Self), FieldError> {
        let (input, first_strike) =
            u32::parse(input).map_err(|e| FieldError::at("first_strike", e))?;
        let (input, time_us) = u32::parse(input).map_err(|e| FieldError::at("time_us", e))?;
        let (input, (_, strikes)) =
            records::<Strike, MAX_STRIKES>(input).map_err(|e| FieldError::at("strikes", e))?;
        Ok((
            input,
            StrikeBatchView {
                first_strike,
                time_us,
                strikes,
            },
        ))
    }

    /// Number of strikes.
    pub fn len(&self) -> usize {
        self.strikes.len() / STRIKE_LEN
    }

    /// Whether the batch has no strikes.
    pub fn is_empty(&self) -> bool {
        self.strikes.is_empty()
    }

    /// The strike at `index`, oldest first.
    pub fn get(&self, index: usize) -> Option<Strike> {
        let at = index.checked_mul(STRIKE_LEN)?;
        let bytes = self.strikes.get(at..at.checked_add(STRIKE_LEN)?)?;
        bytes.try_into().ok().map(Strike::from_bytes)
    }

    /// The strikes, oldest first, read from the frame as they are visited.
    pub fn strikes(&self) -> Strikes<'a> {
        Strikes(self.strikes.chunks_exact(STRIKE_LEN))
    }

    /// The owned batch.
    pub fn to_repr(&self) -> StrikeBatch {
        let mut strikes = Vec::new();
        for strike in self.strikes() {
            // Cannot fail: parsing bounded the count by the capacity.
            let _ = strikes.push(strike);
        }
        StrikeBatch {
            first_strike: self.first_strike,
            time_us: self.time_us,
            strikes,
        }
    }
}

impl From<StrikeBatchView<'_>> for StrikeBatch {
    fn from(view: StrikeBatchView<'_>) -> Self {
        view.to_repr()
    }
}

impl Viewed for StrikeBatch {
    type View<'a> = StrikeBatchView<'a>;

    #[inline]
    fn view(msg_type: MessageType, payload: &[u8]) -> Result<StrikeBatchView<'_>, MessageError> {
        StrikeBatchView::parse_as(msg_type, payload)
    }

    fn from_view(view: StrikeBatchView<'_>) -> Self {
        view.to_repr()
    }
}

/// The strikes of a [`StrikeBatchView`], oldest first.
#[derive(Debug, Clone)]
pub struct Strikes<'a>(ChunksExact<'a, u8>);

impl Iterator for Strikes<'_> {
    type Item = Strike;

    #[inline]
    fn next(&mut self) -> Option<Strike> {
        self.0
            .next()
            .and_then(|b| b.try_into().ok())
            .map(Strike::from_bytes)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Strikes<'_> {
    fn next_back(&mut self) -> Option<Strike> {
        self.0
            .next_back()
            .and_then(|b| b.try_into().ok())
            .map(Strike::from_bytes)
    }
}

impl ExactSizeIterator for Strikes<'_> {}
impl FusedIterator for Strikes<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::samples::strike_batch;

    fn payload(batch: &StrikeBatch) -> ([u8; 256], usize) {
        let mut buf = [0u8; 256];
        let n = Message::StrikeBatch(batch.clone()).emit(&mut buf).unwrap();
        (buf, n)
    }

    #[test]
    fn the_view_reads_what_the_owned_batch_holds() {
        let batch = strike_batch(1_000, 12_300_000, 15, 15_000, 1_250);
        let (buf, n) = payload(&batch);
        let view = StrikeBatchView::parse(&buf[..n]).unwrap();
        assert_eq!(view.first_strike, 1_000);
        assert_eq!(view.time_us, 12_300_000);
        assert_eq!(view.len(), 15);
        assert!(!view.is_empty());
        assert!(view.strikes().eq(batch.strikes.iter().copied()));
        assert!(view.strikes().rev().eq(batch.strikes.iter().rev().copied()));
        assert_eq!(view.strikes().len(), 15);
        assert_eq!(view.get(14), Some(batch.strikes[14]));
        assert_eq!(view.get(15), None);
        assert_eq!(view.get(usize::MAX), None);
        assert_eq!(StrikeBatch::from(view), batch);
    }

    #[test]
    fn a_bad_batch_is_refused_as_the_owned_parser_refuses_it() {
        let batch = strike_batch(7, 9, 3, 15_000, 1_250);
        let (mut buf, n) = payload(&batch);
        for cut in 0..n {
            assert_eq!(
                StrikeBatchView::parse(&buf[..cut]).err(),
                Message::parse(MessageType::StrikeBatch.code(), &buf[..cut]).err(),
                "cut at {cut}"
            );
        }
        buf[8] = 61; // more strikes than a batch may hold
        assert!(matches!(
            StrikeBatchView::parse(&buf[..n]),
            Err(MessageError::Malformed {
                field: "strikes",
                ..
            })
        ));
    }
}
