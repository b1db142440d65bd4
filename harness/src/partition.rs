//! Sharding a suite across CI machines, as cargo-nextest does:
//! `--partition hash:k/n` or `--partition count:k/n`.
//!
//! `hash` puts each test in a shard by a stable hash of its id, so a test
//! stays on its shard as the suite grows; `count` deals tests out in turn,
//! which balances shard sizes. Shards are numbered from 1; the `n` shards of
//! a partition together run every test exactly once.

use std::fmt;
use std::str::FromStr;

use crc::{CRC_64_XZ, Crc};

/// A shard of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// How tests are assigned.
    pub kind: PartitionKind,
    /// This shard, `1..=total`.
    pub shard: u32,
    /// Number of shards.
    pub total: u32,
}

/// How tests are assigned to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// By a stable hash of the test id.
    Hash,
    /// Round-robin in suite order.
    Count,
}

/// A partition string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid partition {input:?}: {reason} (expected hash:k/n or count:k/n with 1 ≤ k ≤ n)")]
pub struct PartitionError {
    input: String,
    reason: &'static str,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| PartitionError {
            input: input.to_owned(),
            reason,
        };
        let (kind, rest) = input.split_once(':').ok_or_else(|| fail("missing `:`"))?;
        let kind = match kind {
            "hash" => PartitionKind::Hash,
            "count" => PartitionKind::Count,
            _ => return Err(fail("unknown kind")),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| fail("missing `/`"))?;
        let shard: u32 = k.parse().map_err(|_| fail("shard is not a number"))?;
        let total: u32 = n.parse().map_err(|_| fail("shard count is not a number"))?;
        if total == 0 || shard == 0 || shard > total {
            return Err(fail("shard out of range"));
        }
        Ok(Partition { kind, shard, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Hash => "hash",
            PartitionKind::Count => "count",
        };
        write!(f, "{kind}:{}/{}", self.shard, self.total)
    }
}

/// CRC-64/XZ: stable across platforms, builds and Rust versions, unlike
/// `std`'s hasher.
static STABLE_HASH: Crc<u64> = Crc::<u64>::new(&CRC_64_XZ);

impl Partition {
    /// Whether this shard runs the test with id `test_id`, at position
    /// `index` (0-based) in suite order.
    pub fn includes(&self, test_id: &str, index: usize) -> bool {
        let bucket = match self.kind {
            PartitionKind::Hash => STABLE_HASH.checksum(test_id.as_bytes()) % u64::from(self.total),
            PartitionKind::Count => index as u64 % u64::from(self.total),
        };
        bucket == u64::from(self.shard - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        let p: Partition = "hash:2/5".parse().unwrap();
        assert_eq!(
            p,
            Partition {
                kind: PartitionKind::Hash,
                shard: 2,
                total: 5
            }
        );
        assert_eq!(p.to_string(), "hash:2/5");
        assert_eq!(
            "count:1/1".parse::<Partition>().unwrap().kind,
            PartitionKind::Count
        );
        for bad in [
            "hash:0/3",
            "hash:4/3",
            "hash:1/0",
            "hash1/3",
            "slice:1/3",
            "hash:a/3",
            "hash:1-3",
        ] {
            let err = bad.parse::<Partition>().unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn hash_assignment_is_stable() {
        // Pinned: a change here would move tests between CI shards.
        let p = |k| Partition {
            kind: PartitionKind::Hash,
            shard: k,
            total: 4,
        };
        let shard_of = |id: &str| (1..=4).find(|&k| p(k).includes(id, 0)).unwrap();
        assert_eq!(STABLE_HASH.checksum(b"123456789"), 0x995d_c9bb_df19_39fa);
        let ids = [
            "handshake.order",
            "depth.accuracy",
            "watchdog.expiry",
            "lockout.reuse",
        ];
        let shards: Vec<u32> = ids.iter().map(|id| shard_of(id)).collect();
        let expected: Vec<u32> = ids
            .iter()
            .map(|id| (STABLE_HASH.checksum(id.as_bytes()) % 4) as u32 + 1)
            .collect();
        assert_eq!(shards, expected);
    }

    proptest! {
        #[test]
        fn shards_cover_every_test_exactly_once(
            ids in prop::collection::vec("[a-z.]{1,20}", 0..60),
            total in 1u32..8,
            hash in any::<bool>(),
        ) {
            let kind = if hash { PartitionKind::Hash } else { PartitionKind::Count };
            for (index, id) in ids.iter().enumerate() {
                let owners = (1..=total)
                    .filter(|&shard| Partition { kind, shard, total }.includes(id, index))
                    .count();
                prop_assert_eq!(owners, 1);
            }
        }

        #[test]
        fn count_shards_differ_in_size_by_at_most_one(len in 0usize..200, total in 1u32..9) {
            let sizes: Vec<usize> = (1..=total)
                .map(|shard| (0..len).filter(|&i| Partition { kind: PartitionKind::Count, shard, total }.includes("x", i)).count())
                .collect();
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }
    }
}
