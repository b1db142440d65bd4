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
        assert_eq!(table_crc32c(&[]), 0);
    }

    #[test]
    fn table_check_value() {
        assert_eq!(table_crc32c(b"123456789"), 0xE306_9283);
    }

    proptest::proptest! {
        /// The hardware path and the catalogue's tables agree everywhere.
        #[test]
        fn both_implementations_agree(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            proptest::prop_assert_eq!(crc32c(&data), table_crc32c(&data));
        }
    }
}
