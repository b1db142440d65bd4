//! Planted bugs: mistakes real pen firmware makes, switched on one by one so
//! that a conformance suite can prove it catches them.

use std::fmt;
use std::str::FromStr;

macro_rules! bugs {
    ($( $(#[$meta:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// A deliberate deviation from `PROTOCOL.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PlantedBug {
            $( $(#[$meta])* $variant ),*
        }

        impl PlantedBug {
            /// Every planted bug.
            pub const ALL: &'static [PlantedBug] = &[$(PlantedBug::$variant),*];

            /// The name used on the command line (`--bug NAME`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(PlantedBug::$variant => $name),*
                }
            }
        }
    };
}

bugs! {
    /// The depth drive goes one step deeper than the set point (§5.1
    /// `SetDepth`; 21 CFR 878.4430(b)(2)(i) depth accuracy).
    DepthOffByOneStep = "depth-off-by-one-step",
    /// The heartbeat watchdog never expires (§7, §8).
    WatchdogNeverFires = "watchdog-never-fires",
    /// Every frame carries the same sequence number (§3).
    SeqNotIncremented = "seq-not-incremented",
    /// `SetDepth` above `depth_max_um` is accepted and carried out (§5.1).
    DepthBeyondMaxAccepted = "depth-beyond-max-accepted",
    /// A used cartridge fitted again is not locked out (§10).
    LockoutMissing = "lockout-missing",
    /// Every `Ack`/`Nack` (and what follows it) goes out 80 ms late, past
    /// the 50 ms deadline (§8).
    LateAck = "late-ack",
    /// `Status` frames carry a wrong CRC (§2.2).
    BadCrcOnStatus = "bad-crc-on-status",
    /// `Stop` while running stops the motor but is never acknowledged (§5.1,
    /// §7).
    StopNotAckedWhileRunning = "stop-not-acked-while-running",
    /// Taking the cartridge off while running raises no fault and the motor
    /// keeps running (§10).
    NoFaultOnCartridgeRemoval = "no-fault-on-cartridge-removal",
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown `--bug` name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bug `{0}`; known: {known}", known = PlantedBug::ALL.iter().map(|b| b.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownBug(pub String);

impl FromStr for PlantedBug {
    type Err = UnknownBug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlantedBug::ALL
            .iter()
            .copied()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBug(s.to_owned()))
    }
}

/// A set of planted bugs (empty: a correct pen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BugSet(Vec<PlantedBug>);

impl BugSet {
    /// No bugs.
    pub fn none() -> Self {
        BugSet::default()
    }

    /// Whether `bug` is planted.
    pub fn has(&self, bug: PlantedBug) -> bool {
        self.0.contains(&bug)
    }

    /// The planted bugs.
    pub fn iter(&self) -> impl Iterator<Item = PlantedBug> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<PlantedBug> for BugSet {
    fn from_iter<I: IntoIterator<Item = PlantedBug>>(iter: I) -> Self {
        let mut v: Vec<PlantedBug> = iter.into_iter().collect();
        v.sort();
        v.dedup();
        BugSet(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for bug in PlantedBug::ALL {
            assert_eq!(bug.name().parse::<PlantedBug>().unwrap(), *bug);
        }
        let err = "no-such-bug".parse::<PlantedBug>().unwrap_err();
        assert!(err.to_string().contains("late-ack"));
    }

    #[test]
    fn set_membership() {
        let set: BugSet = [PlantedBug::LateAck, PlantedBug::LateAck]
            .into_iter()
            .collect();
        assert!(set.has(PlantedBug::LateAck));
        assert!(!set.has(PlantedBug::LockoutMissing));
        assert_eq!(set.iter().count(), 1);
    }
}
