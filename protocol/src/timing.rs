//! Timing rules of protocol version 1 (`PROTOCOL.md`, "Timing").

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
}
