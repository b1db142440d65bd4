//! COBS decoding, two ways.
//!
//! [`decode_delimited`] is the fast path: one pass over a read that finds
//! the frame's end, checks the encoding and decodes it, a machine word at
//! a time. It handles only the usual case (a whole, valid frame within the
//! bound) and declines everything else without side effects.
//! [`decode`] is the general decoder of one body whose delimiter has
//! already been found; the decoder's slow path uses it for everything the
//! fast path declines, so errors are reported as they always were.

use crate::MAX_ENCODED_FRAME;

/// Size of the decoder's frame buffer: the longest decoded body (one byte
/// shorter than [`MAX_ENCODED_FRAME`]) and room for one stray word written
/// past it.
pub(crate) const FRAME_BUF: usize = 272;

/// The decoded frame, 8-byte aligned so that the CRC runs in whole words
/// from its first byte.
#[derive(Debug, Clone)]
#[repr(C, align(8))]
pub(crate) struct FrameBuf(pub [u8; FRAME_BUF]);

impl FrameBuf {
    pub(crate) const fn new() -> Self {
        FrameBuf([0; FRAME_BUF])
    }
}

/// The low `n` bytes of a word, for `n` in `0..8`.
const LOW_BYTES: [u64; 8] = {
    let mut masks = [0u64; 8];
    let mut n = 1;
    while n < 8 {
        masks[n] = (1 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// The high bit of every byte of `word` that is zero (and possibly of bytes
/// above a zero byte: borrows propagate upwards only, so the lowest flag is
/// exact, and so is "any flag among the low `n` bytes").
#[inline(always)]
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(0x0101_0101_0101_0101) & !word & 0x8080_8080_8080_8080
}

/// Decodes the frame at the start of `src` (COBS body, then the `0x00`
/// delimiter) into `out`; returns the body's length (the delimiter's
/// position) and the decoded length. `Some((0, 0))` is an idle delimiter.
///
/// `None` if the frame is not whole in `src`, is not valid COBS, or would
/// pass [`MAX_ENCODED_FRAME`]: the slow path then finds the delimiter and
/// reports what is wrong. When this returns a frame, the slow path would
/// have found the same delimiter (no zero byte comes before it: every block
/// is checked for one) and decoded the same bytes.
///
/// Blocks of up to seven bytes, nearly all of them in our little-endian
/// payloads, are one unaligned word read, one zero test and one word
/// write: the masked word carries the block and the zero that follows it.
#[inline(always)]
pub(crate) fn decode_delimited(src: &[u8], out: &mut [u8; FRAME_BUF]) -> Option<(usize, usize)> {
    let (mut i, mut o) = (0usize, 0usize);
    // Whether `o` counts a zero after the last block that ends the frame
    // instead (the zero goes between blocks, not after the last one).
    let mut trailing_zero = 0;
    loop {
        let code = usize::from(*src.get(i)?);
        if code == 0 {
            return Some((i, o - trailing_zero));
        }
        if i + code > MAX_ENCODED_FRAME {
            return None; // oversize, or noise: the slow path tells which
        }
        // Bounds: o <= i < MAX_ENCODED_FRAME, so a word at `o` fits FRAME_BUF.
        if code <= 8
            && let Some(bytes) = src.get(i + 1..i + 9)
        {
            let word = u64::from_le_bytes(bytes.try_into().ok()?);
            let keep = LOW_BYTES[code - 1];
            if zero_bytes(word) & keep != 0 {
                return None; // the delimiter comes inside the block
            }
            out.get_mut(o..o + 8)?
                .copy_from_slice(&(word & keep).to_le_bytes());
            o += code;
            trailing_zero = 1;
        } else {
            let block = src.get(i + 1..i + code)?;
            if block.contains(&0) {
                return None;
            }
            out.get_mut(o..o + block.len())?.copy_from_slice(block);
            o += block.len();
            trailing_zero = 0;
            if code != 0xFF {
                *out.get_mut(o)? = 0;
                o += 1;
                trailing_zero = 1;
            }
        }
        i += code;
    }
}

/// Decodes one COBS-encoded body (no zero bytes, delimiter removed) into
/// `out`; `None` if a code byte promises more bytes than there are.
///
/// A plain byte loop: runs in our payloads are a few bytes long, and a
/// `memcpy` call per run costs more than it saves.
/// `tests::decode_agrees_with_the_cobs_crate` checks it against the `cobs`
/// crate on arbitrary input.
#[inline]
pub(crate) fn decode(src: &[u8], out: &mut [u8]) -> Option<usize> {
    let (mut i, mut o) = (0, 0);
    while let Some(&code) = src.get(i) {
        let block = src.get(i + 1..i + usize::from(code))?;
        let dst = out.get_mut(o..o + block.len())?;
        for (d, s) in dst.iter_mut().zip(block) {
            *d = *s;
        }
        o += block.len();
        i += usize::from(code);
        if code != 0xFF && i < src.len() {
            *out.get_mut(o)? = 0;
            o += 1;
        }
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use crate::{MAX_FRAME, MAX_WIRE_FRAME};
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn masks_and_zero_flags() {
        assert_eq!(LOW_BYTES[0], 0);
        assert_eq!(LOW_BYTES[3], 0x00FF_FFFF);
        assert_eq!(LOW_BYTES[7], 0x00FF_FFFF_FFFF_FFFF);
        assert_eq!(zero_bytes(0x0101_0101_0101_0101), 0);
        assert_eq!(zero_bytes(0x0101_0101_0101_0100) & 0xFF, 0x80);
        // A zero in byte 2: flagged there, nothing flagged below it.
        let word = 0x8001_FF01_0100_7F01;
        assert_eq!(zero_bytes(word) & LOW_BYTES[2], 0);
        assert_eq!(zero_bytes(word) & LOW_BYTES[3], 0x80_0000);
        assert_eq!(zero_bytes(u64::MAX), 0);
        assert_eq!(zero_bytes(0x8080_8080_8080_8080), 0);
    }

    proptest! {
        #[test]
        fn decode_agrees_with_the_cobs_crate(data in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME)) {
            let mut encoded = [0u8; MAX_WIRE_FRAME];
            let n = cobs::encode(&data, &mut encoded);
            let mut out = [0u8; MAX_WIRE_FRAME];
            let m = decode(&encoded[..n], &mut out).expect("valid COBS");
            prop_assert_eq!(&out[..m], &data[..]);
        }

        #[test]
        fn decode_rejects_what_the_cobs_crate_rejects(raw in proptest::collection::vec(1u8.., 1..MAX_ENCODED_FRAME)) {
            let mut ours = [0u8; MAX_WIRE_FRAME];
            let mut theirs: Vec<u8> = raw.clone();
            let reference = cobs::decode_in_place(&mut theirs);
            match (decode(&raw, &mut ours), reference) {
                (Some(m), Ok(n)) => prop_assert_eq!(&ours[..m], &theirs[..n]),
                (None, Err(_)) => {}
                (a, b) => prop_assert!(false, "ours {:?}, cobs crate {:?}", a, b),
            }
        }

        /// Whenever the fast path decodes a frame, it is the frame the slow
        /// path finds (first zero byte) and decodes (`decode`); valid frames
        /// within the bound are never declined.
        #[test]
        fn the_fast_path_is_the_slow_path_where_it_answers(
            data in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME),
            noise in proptest::collection::vec(any::<u8>(), 0..40),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let mut wire = [0u8; MAX_WIRE_FRAME];
            let n = cobs::encode(&data, &mut wire);
            let mut src: Vec<u8> = wire[..n].to_vec();
            src.push(0);
            src.extend(&noise);
            if let Some((at, bit)) = flip {
                src[at.index(n + 1)] ^= 1 << (bit % 8);
            }
            let mut fast = [0u8; FRAME_BUF];
            let delimiter = src.iter().position(|&b| b == 0);
            match decode_delimited(&src, &mut fast) {
                Some((body, len)) => {
                    prop_assert_eq!(Some(body), delimiter);
                    let mut slow = [0u8; FRAME_BUF];
                    prop_assert_eq!(decode(&src[..body], &mut slow), Some(len));
                    prop_assert_eq!(&fast[..len], &slow[..len]);
                }
                None => prop_assert!(flip.is_some() || n > MAX_ENCODED_FRAME, "declined a valid frame"),
            }
            if flip.is_none() && n <= MAX_ENCODED_FRAME {
                let (body, len) = decode_delimited(&src, &mut fast).unwrap();
                prop_assert_eq!(body, n);
                prop_assert_eq!(&fast[..len], &data[..]);
            }
        }

        /// Cut anywhere before its delimiter, a frame is declined, not
        /// decoded short.
        #[test]
        fn an_unfinished_frame_is_declined(data in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME), cut in any::<prop::sample::Index>()) {
            let mut wire = [0u8; MAX_WIRE_FRAME];
            let n = cobs::encode(&data, &mut wire);
            let mut fast = [0u8; FRAME_BUF];
            prop_assert_eq!(decode_delimited(&wire[..cut.index(n + 1)], &mut fast), None);
        }
    }
}
