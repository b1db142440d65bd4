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
    /// `Hello` while running restarts the session but leaves the motor
    /// running: the handshake says `idle` while strokes go on (R-HELLO-2,
    /// R-STATE-18).
    HelloKeepsMotor = "hello-keeps-motor",
    /// `SetDepth`/`SetRate` off the declared step is rounded to the nearest
    /// step and acknowledged instead of refused (R-CMD-2, R-CMD-3).
    RoundsOffStep = "rounds-off-step",
    /// Strike batches every 150 ms instead of at most 100 ms (R-RUN-1).
    SlowBatches = "slow-batches",
    /// Each `Telemetry` is scheduled a period plus one 10 ms tick after the
    /// previous one, so the mean interval drifts 20 % long on a 50 ms period
    /// (R-RUN-4).
    TelemetryDrift = "telemetry-drift",
    /// The watchdog fires 500 ms after its declared timeout (R-WD-4).
    WatchdogLate = "watchdog-late",
    /// Bytes that do not make a sound frame (line noise, CRC errors) feed the
    /// watchdog (R-WD-2).
    WatchdogFedByNoise = "watchdog-fed-by-noise",
    /// A command with bytes after its last field is carried out and
    /// acknowledged instead of refused with `malformed` (R-STATE-10,
    /// R-FIELD-2).
    TrailingBytesAccepted = "trailing-bytes-accepted",
    /// A duplicate command is answered with the old frame, old pen `seq`
    /// included, instead of a new frame (R-SEQ-5, R-SEQ-1).
    DuplicateOldFrame = "duplicate-old-frame",
    /// Frames with pen-direction codes (`0x80` and up) are answered with a
    /// `Nack` and feed the watchdog, as an echoing line would exploit
    /// (R-STATE-11, R-WD-2).
    PenFramesAnswered = "pen-frames-answered",
    /// `Status` goes out with 7 payload bytes, `active_faults` cut to one
    /// byte (R-MSG-6, R-FIELD-1).
    StatusSevenBytes = "status-seven-bytes",
    /// Strike batches with no strokes: every batch period while running even
    /// with none held, and at every stop (R-MSG-8).
    EmptyBatches = "empty-batches",
    /// `Telemetry` also in `idle`, `faulted` and `emergency_stopped`
    /// (R-RUN-5).
    TelemetryOutsideRunning = "telemetry-outside-running",
    /// The last strike batch of a run goes after the `Ack` of `Stop` or
    /// `EmergencyStop`, not before it (R-RUN-6).
    StrikesAfterStopAck = "strikes-after-stop-ack",
    /// `Stop` while running is acknowledged at once but the motor strikes
    /// for another 150 ms (R-MSG-2, R-STATE-18).
    MotorStopsAfterAck = "motor-stops-after-ack",
    /// The `Status` of a state change caused by `Start` or `Stop` goes out
    /// before the command's `Ack` (R-STATE-14).
    StatusBeforeAck = "status-before-ack",
    /// A used cartridge fitted again sends `inserted` and then
    /// `reuse_lockout` (R-CART-3, R-CART-1).
    LockoutAfterInserted = "lockout-after-inserted",
    /// `Hello` keeps the old session's set points instead of resetting them
    /// to the minimum depth and rate (R-HELLO-4).
    HelloKeepsSetPoints = "hello-keeps-set-points",
    /// The host's last `seq` is kept in `awaiting_hello` (also across a
    /// watchdog expiry), so a new host's first command can be taken for a
    /// duplicate (R-SEQ-8).
    SeqKeptBeforeHello = "seq-kept-before-hello",
    /// `Hello` in `awaiting_hello` reports `idle` even when a critical
    /// fault's cause persists (R-HELLO-7, R-STATE-2).
    HelloIgnoresPersistingFault = "hello-ignores-persisting-fault",
    /// `Start` in `faulted` with the slot empty is refused with
    /// `no_cartridge` instead of `fault_active` (R-STATE-13).
    FaultedStartNoCartridge = "faulted-start-no-cartridge",
    /// `low_battery` latches: it does not clear when the charge is back,
    /// only a `Stop` or `Hello` clears it (R-FAULT-6).
    LowBatteryLatches = "low-battery-latches",
    /// `watchdog_expired` is reported but not kept in `active_faults`
    /// (R-FAULT-5, R-FAULT-2).
    WatchdogFaultDropped = "watchdog-fault-dropped",
    /// `SetDepth` is refused as `busy` for 1.5 s after every accepted set
    /// point, past the 1 s limit (R-BUSY-2).
    BusyTooLong = "busy-too-long",
    /// While the depth drive moves, every command but `StatusRequest` is
    /// refused as `busy`, `Stop` and `EmergencyStop` included (R-BUSY-1,
    /// R-STATE-17).
    BusyRefusesStop = "busy-refuses-stop",
    /// The `Fault { active: false }` of a fault a `Hello` cleared goes
    /// between `Capabilities` and `Status` (R-HELLO-7).
    ClearedFaultInHandshake = "cleared-fault-in-handshake",
    /// Stroke numbers restart at 0 on every `Start`, not only at `Hello`
    /// (R-MSG-7).
    StrikeCountRestarts = "strike-count-restarts",
    /// `Capabilities` declare `labelled_max_depth_um` one step above
    /// `depth_max_um` (R-MSG-4).
    LabelledAboveMax = "labelled-above-max",
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
