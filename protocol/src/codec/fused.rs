//! The fused fast path: delimiter, COBS and CRC-32C in two short passes
//! over one whole frame, with every store of the decoded frame an aligned
//! word that the CRC takes from a register, not back from memory.
//!
//! Pass one walks the code bytes (each says where the next one is) and
//! marks where they fall in the decoded frame. Without `0xFF` codes, the
//! decoded frame is the encoded one moved down a byte, with a zero where
//! each code byte was: pass two copies it a word at a time, clears the
//! marked bytes with a table mask, checks that no zero byte came before
//! the delimiter, and feeds each word to the CRC. The delimiter itself
//! lands on the byte after the frame, so the decoded frame ends there with
//! the zero padding [`checksum::padded_frame_is_intact`] would lay down.
//!
//! Like `cobs::decode_delimited` it answers only the usual case and
//! declines the rest (`0xFF` codes, frames too near the end of the read,
//! malformed input), using the frame buffer only as scratch then; it is
//! only ever asked first.

use super::cobs::FRAME_BUF;
use crate::{MAX_ENCODED_FRAME, checksum};

/// Bytes of the code-position bitmap: one bit per decoded byte.
const MARKS: usize = FRAME_BUF / 8;

/// Each byte of a bitmap spread to a mask of the bytes of a word whose bit
/// is set.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut bits = 0;
    while bits < 256 {
        let mut byte = 0;
        while byte < 8 {
            if bits & (1 << byte) != 0 {
                table[bits] |= 0xFF << (8 * byte);
            }
            byte += 1;
        }
        bits += 1;
    }
    table
};

/// The high bit of every byte of `word` that is zero, and possibly of
/// bytes above a zero byte: the lowest flag, and "any flag among the low
/// `n` bytes", are exact.
#[inline(always)]
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(0x0101_0101_0101_0101) & !word & 0x8080_8080_8080_8080
}

/// A decoded frame: bytes taken from the read (delimiter included), the
/// decoded length, and whether the frame passed its CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Bytes of the read the frame took, its delimiter included.
    pub wire: usize,
    /// Decoded length, CRC included.
    pub len: usize,
    /// Whether the CRC over the decoded frame is that of an intact one.
    pub intact: bool,
}

/// Decodes the frame at the start of `src` into `out`, padded with zeros
/// to whole words, and checks its CRC. `None` whenever the fast path does
/// not apply (see the module); an idle delimiter is `wire: 1, len: 0`.
///
/// When it answers, `out[..len]` and `len` are what `cobs::decode` gives
/// for the bytes before the first zero of `src`, and `wire` is one past
/// that zero (`tests::the_fused_path_is_the_slow_path_where_it_answers`).
/// How much of the read the fused path needs in front of it: the longest
/// encoded frame, its delimiter, and a word's read past that.
pub(crate) const WINDOW: usize = MAX_ENCODED_FRAME + 9;

/// Decodes the frame at the start of `src` into `out`, padded with zeros
/// to whole words, and checks its CRC. `None` whenever the fast path does
/// not apply (see the module; that includes any read shorter than
/// [`WINDOW`]), leaving `out` as scratch; an idle delimiter is `wire: 1,
/// len: 0`.
///
/// When it answers, `out[..len]` and `len` are what `cobs::decode` gives
/// for the bytes before the first zero of `src`, and `wire` is one past
/// that zero (`tests::the_fused_path_is_the_slow_path_where_it_answers`).
#[inline(always)]
pub(crate) fn decode_frame(src: &[u8], out: &mut [u8; FRAME_BUF]) -> Option<Decoded> {
    decode_window(src.first_chunk::<WINDOW>()?, out)
}

/// [`decode_frame`] on a window of known length (no bounds checks left in
/// the loops), in one function per CPU feature set: on x86-64 with SSE4.2
/// the CRC is one `crc32` instruction a word, taking each word as it is
/// made (`multiversion` compiles both clones and picks one, as for
/// `checksum::padded_frame_is_intact`); elsewhere [`checksum::crc32c`] of
/// the words afterwards.
#[multiversion::multiversion(targets("x86_64+sse4.2"))]
fn decode_window(src: &[u8; WINDOW], out: &mut [u8; FRAME_BUF]) -> Option<Decoded> {
    // The clone with SSE4.2, chosen at run time: the instruction a word.
    #[multiversion::target::target_cfg_attr(
        all(target_arch = "x86_64", target_feature = "sse4.2"),
        cfg(all())
    )]
    #[multiversion::target::target_cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "sse4.2")),
        cfg(any())
    )]
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse4.2")))]
    #[multiversion::inherit_target]
    #[inline]
    fn step(register: u64, word: u64) -> u64 {
        core::arch::x86_64::_mm_crc32_u64(register, word)
    }
    #[multiversion::target::target_cfg_attr(
        all(target_arch = "x86_64", target_feature = "sse4.2"),
        cfg(all())
    )]
    #[multiversion::target::target_cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "sse4.2")),
        cfg(any())
    )]
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse4.2")))]
    #[inline]
    fn finish(register: u64, _words: &[u8]) -> u32 {
        !(register as u32)
    }
    // Without SSE4.2, or with it enabled for the whole build (then
    // `multiversion` calls the default clone, which inherits no target
    // feature to make the intrinsic safe to call): the CRC afterwards.
    #[multiversion::target::target_cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "sse4.2")),
        cfg(all())
    )]
    #[multiversion::target::target_cfg_attr(
        all(target_arch = "x86_64", target_feature = "sse4.2"),
        cfg(any())
    )]
    #[inline]
    fn step(register: u64, _word: u64) -> u64 {
        register
    }
    #[multiversion::target::target_cfg_attr(
        not(all(target_arch = "x86_64", target_feature = "sse4.2")),
        cfg(all())
    )]
    #[multiversion::target::target_cfg_attr(
        all(target_arch = "x86_64", target_feature = "sse4.2"),
        cfg(any())
    )]
    #[inline]
    fn finish(_register: u64, words: &[u8]) -> u32 {
        checksum::crc32c(words)
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse4.2"))]
    #[inline]
    fn step(register: u64, _word: u64) -> u64 {
        register
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse4.2"))]
    #[inline]
    fn finish(_register: u64, words: &[u8]) -> u32 {
        checksum::crc32c(words)
    }

    // Pass one: the chain of code bytes, up to the one that is a zero.
    let first = usize::from(src[0]);
    if first == 0 {
        return Some(Decoded {
            wire: 1,
            len: 0,
            intact: false,
        });
    }
    if first == 0xFF {
        return None;
    }
    let mut marks = [0u8; MARKS];
    let mut at = first;
    loop {
        if at > MAX_ENCODED_FRAME {
            return None;
        }
        let code = src[at];
        // One test for the two codes that end the walk: 0 (the
        // delimiter) and 0xFF (a block with no zero after it).
        if code.wrapping_add(1) <= 1 {
            if code == 0 {
                break;
            }
            return None;
        }
        // The code byte at `at` is a zero at `at - 1` of the decoded frame.
        marks[(at - 1) / 8] |= 1 << ((at - 1) % 8);
        at += usize::from(code);
    }
    // Pass two: `at` is the delimiter, if no zero comes before it; the
    // decoded frame is the `at - 1` bytes after the first code, read in
    // whole words up to 7 bytes past the delimiter.
    let len = at - 1;
    let words = len.div_ceil(8);
    let wire = at + 1;
    let (src_words, _) = src[1..].as_chunks::<8>();
    let (out_words, _) = out.as_chunks_mut::<8>();
    let (Some((src_last, src_body)), Some((out_last, out_body))) = (
        src_words.get(..words).and_then(<[_]>::split_last),
        out_words.get_mut(..words).and_then(<[_]>::split_last_mut),
    ) else {
        // No word at all: the empty frame (`01 00`), too short for a CRC.
        return Some(Decoded {
            wire,
            len,
            intact: false,
        });
    };
    let mut register = u64::from(!0u32);
    let mut zeros = 0;
    for ((o, s), &mark) in out_body.iter_mut().zip(src_body).zip(&marks) {
        let raw = u64::from_le_bytes(*s);
        zeros |= zero_bytes(raw);
        let word = raw & !SPREAD[usize::from(mark)];
        *o = word.to_le_bytes();
        register = step(register, word);
    }
    // The last word: only its bytes before the delimiter are the frame's.
    let raw = u64::from_le_bytes(*src_last);
    let keep = u64::MAX >> (8 * (8 * words - len));
    zeros |= zero_bytes(raw) & keep;
    if zeros != 0 {
        return None; // a zero before the delimiter: not this frame
    }
    let word = raw & keep & !SPREAD[usize::from(marks[words - 1])];
    *out_last = word.to_le_bytes();
    register = step(register, word);
    // Room for the slow path's padding check, were the CRC to fail: the
    // word after the frame, zero, as it would lay it down.
    *out_words.get_mut(words)? = [0; 8];
    let crc = finish(register, out.get(..8 * words)?);
    Some(Decoded {
        wire,
        len,
        intact: checksum::PADDED_RESIDUES.get(8 * words - len) == Some(&crc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use crate::codec::cobs;
    use crate::{MAX_FRAME, MAX_WIRE_FRAME};
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn spread_masks_the_marked_bytes() {
        assert_eq!(SPREAD[0], 0);
        assert_eq!(SPREAD[1], 0xFF);
        assert_eq!(SPREAD[0b1000_0001], 0xFF00_0000_0000_00FF);
        assert_eq!(SPREAD[255], u64::MAX);
    }

    /// A frame as the encoder writes it, its CRC sealed.
    fn sealed(contents: &[u8]) -> Vec<u8> {
        let mut frame = contents.to_vec();
        frame.extend_from_slice(&checksum::crc32c(contents).to_le_bytes());
        frame
    }

    proptest! {
        /// Whenever the fused path answers, it is the slow path: the first
        /// zero byte of the read is the delimiter, `cobs::decode` (and the
        /// `cobs` crate) decode the same bytes, and the CRC verdict is the
        /// plain check's. Valid frames with no `0xFF` code and room after
        /// them are never declined.
        #[test]
        fn the_fused_path_is_the_slow_path_where_it_answers(
            contents in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME - 4),
            noise in proptest::collection::vec(any::<u8>(), 0..300),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
            damage in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let mut frame = sealed(&contents);
            if let Some((at, xor)) = damage {
                let at = at.index(frame.len());
                frame[at] ^= xor;
            }
            let mut wire = [0u8; MAX_WIRE_FRAME];
            let n = ::cobs::encode(&frame, &mut wire);
            let mut src: Vec<u8> = wire[..n].to_vec();
            src.push(0);
            src.extend(&noise);
            if let Some((at, bit)) = flip {
                src[at.index(n + 1)] ^= 1 << (bit % 8);
            }
            let mut out = [0xAAu8; FRAME_BUF];
            let delimiter = src.iter().position(|&b| b == 0);
            let answer = decode_frame(&src, &mut out);
            if let Some(d) = answer {
                let body = delimiter.expect("a delimiter");
                prop_assert_eq!(d.wire, body + 1);
                if body == 0 {
                    prop_assert_eq!(d.len, 0);
                } else {
                    let mut slow = [0u8; FRAME_BUF];
                    prop_assert_eq!(cobs::decode(&src[..body], &mut slow), Some(d.len));
                    prop_assert_eq!(&out[..d.len], &slow[..d.len]);
                    let mut theirs = src[..body].to_vec();
                    let m = ::cobs::decode_in_place(&mut theirs).expect("the cobs crate decodes it");
                    prop_assert_eq!(&out[..d.len], &theirs[..m]);
                    // Zeros after the frame, up to the word after the last.
                    let padded = d.len.next_multiple_of(8) + 8;
                    prop_assert!(out[d.len..padded].iter().all(|&b| b == 0));
                    if d.len >= 4 {
                        let (contents, carried) = slow[..d.len].split_at(d.len - 4);
                        let plain = checksum::crc32c(contents).to_le_bytes() == carried;
                        prop_assert_eq!(d.intact, plain);
                    }
                }
            } else {
                // Declined: only for what the fast path leaves to others.
                let has_ff = wire[..n].contains(&0xFF);
                let short_tail = src.len() < WINDOW;
                prop_assert!(flip.is_some() || has_ff || short_tail, "declined a valid frame");
            }
            if flip.is_none() && !wire[..n].contains(&0xFF) && src.len() >= WINDOW {
                let d = answer.expect("a valid frame is decoded");
                prop_assert_eq!(d.wire, n + 1);
                prop_assert_eq!(&out[..d.len], &frame[..]);
                prop_assert_eq!(d.intact, damage.is_none_or(|(_, xor)| xor == 0));
            }
        }

        /// Any bytes at all: an answer is always the slow path's.
        #[test]
        fn arbitrary_bytes_decode_as_the_slow_path(src in proptest::collection::vec(any::<u8>(), WINDOW - 20..WINDOW + 20)) {
            let mut out = [0u8; FRAME_BUF];
            if let Some(d) = decode_frame(&src, &mut out) {
                let body = src.iter().position(|&b| b == 0).expect("a delimiter");
                prop_assert_eq!(d.wire, body + 1);
                let mut slow = [0u8; FRAME_BUF];
                prop_assert_eq!(cobs::decode(&src[..body], &mut slow), Some(d.len));
                prop_assert_eq!(&out[..d.len], &slow[..d.len]);
            }
        }

        /// Cut anywhere before its delimiter, and followed by bytes with no
        /// zero among them, a frame is declined.
        #[test]
        fn an_unfinished_frame_is_declined(contents in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME - 4), cut in any::<prop::sample::Index>()) {
            let frame = sealed(&contents);
            let mut wire = [0u8; MAX_WIRE_FRAME];
            let n = ::cobs::encode(&frame, &mut wire);
            let mut out = [0u8; FRAME_BUF];
            let mut src = wire[..cut.index(n + 1)].to_vec();
            src.extend([0x55; WINDOW]);
            prop_assert_eq!(decode_frame(&src, &mut out), None);
        }
    }
}
