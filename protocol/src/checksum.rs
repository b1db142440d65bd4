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

/// CRC-32C of `bytes`.
#[inline]
pub fn crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_check_value() {
        // The catalogue's check value: CRC of ASCII "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(ALGORITHM.check, 0xE306_9283);
    }

    #[test]
    fn empty_input() {
        assert_eq!(crc32c(&[]), 0);
    }
}
