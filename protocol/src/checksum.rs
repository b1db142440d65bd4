//! The frame check sequence.
//!
//! CRC-32/ISCSI (CRC-32C, Castagnoli) from the `crc` crate's catalogue. It
//! keeps a Hamming distance of 6 up to 5,243 data bits, far beyond our
//! 2,016-bit maximum frame, and many pen MCUs compute it in hardware.

use crc::{CRC_32_ISCSI, Crc, Table};

/// The catalogue entry, named in `PROTOCOL.md`.
pub const ALGORITHM: crc::Algorithm<u32> = CRC_32_ISCSI;

/// Slice-by-16 tables: 16 KiB of flash buys several times the throughput of
/// a byte-wise table, which the host decoder's throughput target needs.
static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&ALGORITHM);

/// Number of CRC bytes at the end of every frame (little-endian).
pub const LEN: usize = 4;

/// CRC-32C of `bytes`. With `std` (hosts) it uses the CPU's CRC-32C
/// instruction where there is one, through the `crc32c` crate; without
/// (firmware), the `crc` crate's tables. Both compute [`ALGORITHM`]; a test
/// holds them equal.
#[inline]
pub fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        ::crc32c::crc32c(bytes)
    }
    #[cfg(not(feature = "std"))]
    {
        table_crc32c(bytes)
    }
}

/// CRC-32C of `bytes` from the `crc` crate's slice-by-16 tables.
#[inline]
pub fn table_crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

/// CRC-32C of `words`, whose length is a multiple of 8 (the decoder's
/// padded frame): [`crc32c`] of them, in fewer steps.
///
/// On x86-64 with SSE4.2 it is one `crc32` instruction a word, inline, with
/// no per-call feature check or head/body/tail split (what a call of the
/// `crc32c` crate costs, about 7 ns, was a third of the framing time on a
/// 32-byte frame). `multiversion` compiles it once with SSE4.2 and once
/// without, and with `std` picks a clone at the first call (one atomic
/// load and an indirect call after that); without `std` it picks the one
/// the build's target features allow. Elsewhere, and in a build that
/// enables SSE4.2 for every function (`-C target-cpu=native`), it is
/// [`crc32c`].
#[multiversion::multiversion(targets("x86_64+sse4.2"))]
fn words_crc32c(words: &[u8]) -> u32 {
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
    fn crc(words: &[u8]) -> u32 {
        use core::arch::x86_64::_mm_crc32_u64;
        let (whole, rest) = words.as_chunks::<8>();
        let mut register = u64::from(!0u32);
        for word in whole {
            register = _mm_crc32_u64(register, u64::from_le_bytes(*word));
        }
        // Never taken by the decoder (whole words); kept correct anyway.
        let crc = !(register as u32);
        if rest.is_empty() {
            crc
        } else {
            table_append(crc, rest)
        }
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
    fn crc(words: &[u8]) -> u32 {
        crc32c(words)
    }
    // SSE4.2 enabled for the whole build: `multiversion` then calls the
    // default clone, which inherits no target feature to make the
    // intrinsic safe to call, so the general entry (its hardware path).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse4.2"))]
    #[inline]
    fn crc(words: &[u8]) -> u32 {
        crc32c(words)
    }
    crc(words)
}

/// The CRC-32C of some bytes whose CRC is `crc`, followed by `more`.
#[cfg_attr(
    any(not(target_arch = "x86_64"), target_feature = "sse4.2"),
    allow(dead_code)
)]
fn table_append(crc: u32, more: &[u8]) -> u32 {
    // The catalogue's `init` and `xorout` are both all ones: undo the one,
    // carry on from the register, redo the other.
    let mut digest = CRC32C.digest_with_initial(!crc.reverse_bits());
    digest.update(more);
    digest.finalize()
}

/// The CRC of a valid frame (contents, then their CRC, little-endian)
/// followed by `k` zero bytes, for `k` in `0..8`: the same for every valid
/// frame. A valid frame leaves the CRC register at the catalogue's residue
/// whatever its contents, and the zeros move that constant to another
/// constant; each step is invertible, so no invalid frame lands there. The
/// empty frame's CRC is 0, which makes `4 + k` zero bytes a valid frame
/// with its padding.
pub(crate) const PADDED_RESIDUES: [u32; 8] = {
    const BYTEWISE: Crc<u32> = Crc::<u32>::new(&ALGORITHM);
    const ZEROS: [u8; 12] = [0; 12];
    let mut residues = [0u32; 8];
    let mut k = 0;
    while k < 8 {
        residues[k] = BYTEWISE.checksum(ZEROS.split_at(LEN + k).0);
        k += 1;
    }
    residues
};

/// Whether the frame (contents and CRC) in the first `len` bytes of `buf`
/// is intact, checked in whole 8-byte words: the bytes after the frame up
/// to the next multiple of 8 are overwritten with zeros, and the CRC of
/// the padded frame is compared with [`PADDED_RESIDUES`]. Equivalent to
/// comparing the carried CRC with the contents' (a test holds them equal),
/// with no byte-wise head or tail. `false` also if `buf` has no room for
/// the padding; the caller then checks the long way.
#[inline(always)]
pub(crate) fn padded_frame_is_intact(buf: &mut [u8], len: usize) -> bool {
    let padded = len.next_multiple_of(8);
    let Some(padding) = buf.get_mut(len..len + 8) else {
        return false;
    };
    padding.copy_from_slice(&[0; 8]);
    match (buf.get(..padded), PADDED_RESIDUES.get(padded - len)) {
        (Some(words), Some(&residue)) => words_crc32c(words) == residue,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn sealed(contents: &[u8]) -> std::vec::Vec<u8> {
        let mut frame = contents.to_vec();
        frame.extend_from_slice(&crc32c(contents).to_le_bytes());
        frame
    }

    #[test]
    fn residues_are_those_of_the_catalogue() {
        // The register after any valid frame is the catalogue's residue;
        // with no padding the CRC is that, with the final XOR.
        assert_eq!(PADDED_RESIDUES[0], ALGORITHM.residue ^ 0xFFFF_FFFF);
        for (k, &residue) in PADDED_RESIDUES.iter().enumerate() {
            let mut padded = sealed(b"any frame at all");
            padded.extend(std::iter::repeat_n(0, k));
            assert_eq!(crc32c(&padded), residue, "k = {k}");
        }
    }

    proptest::proptest! {
        /// The padded check says "intact" exactly when the carried CRC is
        /// the contents' CRC, for intact frames and for damaged ones.
        #[test]
        fn the_padded_check_is_the_plain_check(
            contents in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..252),
            damage in proptest::prelude::any::<Option<(proptest::sample::Index, u8)>>(),
        ) {
            let mut frame = sealed(&contents);
            if let Some((at, xor)) = damage {
                let at = at.index(frame.len());
                frame[at] ^= xor;
            }
            let (body, carried) = frame.split_at(frame.len() - LEN);
            let plain = crc32c(body).to_le_bytes() == carried;
            let mut buf = [0xAAu8; 272];
            buf[..frame.len()].copy_from_slice(&frame);
            proptest::prop_assert_eq!(padded_frame_is_intact(&mut buf, frame.len()), plain);
        }
    }

    #[test]
    fn catalogue_check_value() {
        // The catalogue's check value: CRC of ASCII "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(ALGORITHM.check, 0xE306_9283);
    }

    #[test]
    fn empty_input() {
        assert_eq!(crc32c(&[]), 0);
        assert_eq!(table_crc32c(&[]), 0);
    }

    #[test]
    fn table_check_value() {
        assert_eq!(table_crc32c(b"123456789"), 0xE306_9283);
    }

    proptest::proptest! {
        /// The word-wise check (the CPU's instruction, where there is one)
        /// is the catalogue's CRC, on whole words and on any length.
        #[test]
        fn the_word_wise_crc_is_the_crc(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            proptest::prop_assert_eq!(words_crc32c(&data), table_crc32c(&data));
            let whole = data.len() / 8 * 8;
            proptest::prop_assert_eq!(words_crc32c(&data[..whole]), table_crc32c(&data[..whole]));
        }
    }

    proptest::proptest! {
        /// The hardware path and the catalogue's tables agree everywhere.
        #[test]
        fn both_implementations_agree(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            proptest::prop_assert_eq!(crc32c(&data), table_crc32c(&data));
        }
    }
}
