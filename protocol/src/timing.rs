//! Timing rules of protocol version 1 (`PROTOCOL.md` §8; requirement
//! identifiers such as R-RUN-1 are listed in `REQUIREMENTS.md`).

use core::time::Duration;

/// The pen answers every command with an `Ack` or `Nack` within this time of
/// receiving its last byte.
pub const ACK_DEADLINE: Duration = Duration::from_millis(50);

/// A host that has sent nothing else for this long sends a `Heartbeat`.
pub const HEARTBEAT_PERIOD: Duration = Duration::from_millis(250);

/// Default watchdog timeout (a pen declares its own in `Capabilities`):
/// a pen that has received no valid frame for this long stops its motor,
/// reports `WatchdogExpired` and waits for a new `Hello`.
pub const DEFAULT_WATCHDOG_TIMEOUT: Duration = Duration::from_millis(1_000);

/// The watchdog must allow at least this many heartbeat periods, so that a
/// single lost heartbeat never stops a treatment.
pub const MIN_HEARTBEATS_PER_WATCHDOG: u32 = 4;

/// After acknowledging `Hello`, the pen sends `Identity` and `Capabilities`
/// within this time.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_millis(200);

/// A host retransmits an unacknowledged command (same sequence number) at
/// most this many times before it reports the pen unresponsive.
pub const MAX_RETRANSMISSIONS: u8 = 2;

/// What a host adds to every time limit it checks at its own end: USB-serial
/// bridges hold bytes up to 16 ms and both ends schedule their reads
/// (`PROTOCOL.md` §8.1, R-HOST-1, R-HOST-2). Not added to limits checked
/// with the pen's own `time_us`.
pub const HOST_LINK_ALLOWANCE: Duration = Duration::from_millis(20);

/// Longest time between two `StrikeBatch` frames while the motor strikes
/// (§8.5, R-RUN-1).
pub const STRIKE_BATCH_MAX_INTERVAL: Duration = Duration::from_millis(100);

/// A pen answers `busy` to no `SetDepth` or `SetRate` this long after it
/// last accepted a set point (§8.3, R-BUSY-2).
pub const BUSY_LIMIT: Duration = Duration::from_millis(1_000);

/// A host retries a command refused as `busy` no sooner than this after the
/// `Nack`, as a new command (§8.3, R-HOST-4).
pub const BUSY_RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// A host retries a command refused as `busy` at most this many times, then
/// treats the pen as faulty (§8.3, R-HOST-4, R-HOST-5).
pub const MAX_BUSY_RETRIES: u8 = 10;

/// The watchdog has stopped the motor at most this long after its timeout
/// (§8.4, R-WD-4): one acknowledgement deadline.
pub const WATCHDOG_GRACE: Duration = ACK_DEADLINE;

/// The mean of this many consecutive `Telemetry` intervals is within
/// [`TELEMETRY_MEAN_TOLERANCE_PCT`] of the period (§8.5, R-RUN-4).
pub const TELEMETRY_MEAN_WINDOW: usize = 20;

/// Tolerance of the mean `Telemetry` interval, percent of the period.
pub const TELEMETRY_MEAN_TOLERANCE_PCT: u32 = 5;

/// How far one `Telemetry` interval may be from the period (§8.5, R-RUN-4):
/// 20 % of it, and at least 10 ms.
pub fn telemetry_interval_tolerance(period: Duration) -> Duration {
    (period / 5).max(Duration::from_millis(10))
}

/// Whether a declared watchdog timeout leaves room for the heartbeat rule.
pub fn watchdog_is_sane(timeout: Duration) -> bool {
    timeout >= HEARTBEAT_PERIOD * MIN_HEARTBEATS_PER_WATCHDOG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_watchdog_allows_four_heartbeats() {
        assert!(watchdog_is_sane(DEFAULT_WATCHDOG_TIMEOUT));
        assert!(!watchdog_is_sane(Duration::from_millis(999)));
    }

    #[test]
    fn telemetry_tolerance_is_a_fifth_and_at_least_ten_ms() {
        let ms = Duration::from_millis;
        assert_eq!(telemetry_interval_tolerance(ms(50)), ms(10));
        assert_eq!(telemetry_interval_tolerance(ms(10)), ms(10));
        assert_eq!(telemetry_interval_tolerance(ms(100)), ms(20));
        assert_eq!(telemetry_interval_tolerance(ms(1_000)), ms(200));
    }

    #[test]
    fn busy_retries_outlast_the_busy_limit() {
        // Ten retries 100 ms apart reach past the longest a pen may be busy.
        assert!(BUSY_RETRY_INTERVAL * u32::from(MAX_BUSY_RETRIES) >= BUSY_LIMIT);
    }
}
