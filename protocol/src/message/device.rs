//! Messages from the pen to the host: acknowledgements, the handshake
//! answers, status, telemetry and events.

use heapless::{String, Vec};

use crate::wire::{Overflow, Wire, WireResult, Writer, wire_enum, wire_open_enum, wire_struct};

/// Longest model, firmware or serial-number string, in bytes of UTF-8.
pub const MAX_TEXT: usize = 24;
/// Most strikes one [`StrikeBatch`] carries (fills a maximum-size frame).
pub const MAX_STRIKES: usize = 60;

wire_struct! {
    /// The pen accepted the command with sequence number `ack_seq`.
    pub struct Ack {
        /// Sequence number of the acknowledged command.
        pub ack_seq: u16,
        /// Type code of the acknowledged command.
        pub command: u8,
    }
}

wire_open_enum! {
    /// Why the pen refused a command.
    pub enum NackReason {
        /// A value outside the declared range, or off the declared step.
        OutOfRange = 1,
        /// The command is not allowed in the current state.
        WrongState = 2,
        /// The pen cannot take the command now (e.g. depth drive moving).
        Busy = 3,
        /// The cartridge has been used before and is locked out.
        CartridgeLocked = 4,
        /// The message type is not one the pen knows.
        UnknownMessage = 5,
        /// The payload did not parse.
        Malformed = 6,
        /// No cartridge is inserted.
        NoCartridge = 7,
        /// A latched fault prevents the command.
        FaultActive = 8,
        /// The host's protocol major version is not the pen's.
        UnsupportedVersion = 9,
    }
}

wire_struct! {
    /// The pen refused the command with sequence number `ack_seq`; nothing
    /// changed.
    pub struct Nack {
        /// Sequence number of the refused command.
        pub ack_seq: u16,
        /// Type code of the refused command (as received, even if unknown).
        pub command: u8,
        /// Why.
        pub reason: NackReason,
    }
}

wire_struct! {
    /// Who the pen is: sent after the acknowledgement of a `Hello`.
    pub struct Identity {
        /// Protocol major version of the pen.
        pub protocol_major: u8,
        /// Protocol minor version of the pen.
        pub protocol_minor: u8,
        /// Device model.
        pub model: String<MAX_TEXT>,
        /// Firmware version, free form (e.g. `2.3.1+g1a2b3c`).
        pub firmware: String<MAX_TEXT>,
        /// Serial number.
        pub serial: String<MAX_TEXT>,
    }
}

/// Feature bit: the pen reports [`Pose`] from a tracker.
pub const FEATURE_POSE: u8 = 1 << 0;
/// Feature bit: the pen measures contact force.
pub const FEATURE_FORCE: u8 = 1 << 1;
/// Feature bit: cartridges carry an identity and a reuse lockout.
pub const FEATURE_LOCKOUT: u8 = 1 << 2;

wire_struct! {
    /// What the pen can do and the limits it declares: sent after
    /// [`Identity`]. A host refuses to command anything outside these.
    pub struct Capabilities {
        /// Smallest settable depth, micrometres.
        pub depth_min_um: u16,
        /// Largest settable depth, micrometres.
        pub depth_max_um: u16,
        /// Depth step, micrometres; settable depths are `min + k * step`.
        pub depth_step_um: u16,
        /// Largest depth the labelling declares safe, micrometres
        /// (21 CFR 878.4430(b)(2)(iii)); may be below `depth_max_um`.
        pub labelled_max_depth_um: u16,
        /// Lowest rate, centihertz.
        pub rate_min_chz: u16,
        /// Highest rate, centihertz; equal to the lowest for a fixed-rate pen.
        pub rate_max_chz: u16,
        /// Rate step, centihertz; 0 for a fixed-rate pen.
        pub rate_step_chz: u16,
        /// Needles in the fitted cartridge type.
        pub needle_count: u8,
        /// Motor current limit, milliamperes.
        pub max_current_ma: u16,
        /// Watchdog timeout, milliseconds: the motor stops when the host
        /// has been silent this long.
        pub watchdog_timeout_ms: u16,
        /// Period of [`Telemetry`] frames while running, milliseconds.
        pub telemetry_period_ms: u16,
        /// Feature bits (`FEATURE_*`).
        pub features: u8,
    }
}

impl Capabilities {
    /// Whether `depth_um` is a depth this pen can be set to.
    pub fn accepts_depth(&self, depth_um: u16) -> bool {
        on_grid(
            depth_um,
            self.depth_min_um,
            self.depth_max_um,
            self.depth_step_um,
        )
    }

    /// Whether `rate_chz` is a rate this pen can be set to.
    pub fn accepts_rate(&self, rate_chz: u16) -> bool {
        on_grid(
            rate_chz,
            self.rate_min_chz,
            self.rate_max_chz,
            self.rate_step_chz,
        )
    }

    /// Whether the pen declares a feature bit.
    pub fn has(&self, feature: u8) -> bool {
        self.features & feature == feature
    }
}

/// `value` in `min..=max` and a whole number of steps above `min`; a zero
/// step admits `min` alone.
fn on_grid(value: u16, min: u16, max: u16, step: u16) -> bool {
    if !(min..=max).contains(&value) {
        return false;
    }
    match step {
        0 => value == min,
        step => (value - min).is_multiple_of(step),
    }
}

wire_enum! {
    /// The pen's protocol state (see the state machine in `PROTOCOL.md`).
    pub enum DeviceState {
        /// Powered, waiting for a `Hello`.
        AwaitingHello = 0,
        /// Session open, motor stopped.
        Idle = 1,
        /// Motor running, needles striking.
        Running = 2,
        /// Motor stopped by a latched fault.
        Faulted = 3,
        /// Motor stopped by an emergency stop; only a new `Hello` leaves it.
        EmergencyStopped = 4,
    }
}

wire_enum! {
    /// The cartridge slot.
    pub enum CartridgeState {
        /// No cartridge.
        Absent = 0,
        /// A fresh cartridge, ready to run.
        Ready = 1,
        /// A cartridge that was used and detached: it will not run again.
        Locked = 2,
    }
}

wire_struct! {
    /// The pen's settings and state: the answer to `StatusRequest`, and sent
    /// unprompted on every state change.
    pub struct Status {
        /// Protocol state.
        pub state: DeviceState,
        /// Depth set point, micrometres.
        pub depth_set_um: u16,
        /// Rate set point, centihertz.
        pub rate_set_chz: u16,
        /// Cartridge slot.
        pub cartridge: CartridgeState,
        /// Active faults, one bit per [`FaultCode`]: bit `code - 1`.
        pub active_faults: u16,
    }
}

wire_struct! {
    /// Periodic measurements, every `telemetry_period_ms` while running.
    pub struct Telemetry {
        /// Device uptime, microseconds, wrapping.
        pub time_us: u32,
        /// Measured needle depth, micrometres.
        pub depth_um: u16,
        /// Measured stroke rate, centihertz.
        pub rate_chz: u16,
        /// Motor current, milliamperes.
        pub current_ma: u16,
        /// Contact force on the skin, millinewtons (0 without a sensor).
        pub force_mn: u16,
        /// Battery charge, percent.
        pub battery_pct: u8,
        /// Battery voltage, millivolts.
        pub battery_mv: u16,
        /// Motor temperature, tenths of a degree Celsius.
        pub temperature_dc: i16,
    }
}

/// One stroke of the needle cartridge: every needle strikes together, so a
/// stroke is one record whatever the needle count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Strike {
    /// Time after the batch's `time_us`, in units of 10 µs.
    pub offset_10us: u16,
    /// Measured depth at the bottom of the stroke, micrometres.
    pub depth_um: u16,
}

impl Wire for Strike {
    fn parse(input: &[u8]) -> WireResult<'_, Self> {
        let (input, offset_10us) = u16::parse(input)?;
        let (input, depth_um) = u16::parse(input)?;
        Ok((
            input,
            Strike {
                offset_10us,
                depth_um,
            },
        ))
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        self.offset_10us.emit(w)?;
        self.depth_um.emit(w)
    }
}

wire_struct! {
    /// Strikes since the previous batch. Strikes are numbered from the start
    /// of the session, so a lost batch shows as a gap in the numbering.
    pub struct StrikeBatch {
        /// Number of the first strike in this batch.
        pub first_strike: u32,
        /// Device uptime the strike offsets count from, microseconds.
        pub time_us: u32,
        /// The strikes, oldest first.
        pub strikes: Vec<Strike, MAX_STRIKES>,
    }
}

wire_struct! {
    /// Where the pen is, for pens with a tracker.
    pub struct Pose {
        /// Device uptime, microseconds, wrapping.
        pub time_us: u32,
        /// Needle-tip position in the tracker's frame, micrometres (x, y, z).
        pub position_um: [i32; 3],
        /// Orientation as a unit quaternion (w, x, y, z) scaled by 32 767.
        pub orientation_q15: [i16; 4],
    }
}

wire_open_enum! {
    /// A fault the pen detects.
    pub enum FaultCode {
        /// The motor does not turn although driven.
        MotorStall = 1,
        /// Motor current above the declared limit.
        OverCurrent = 2,
        /// Motor or driver too hot.
        OverTemperature = 3,
        /// The depth drive does not reach its set point.
        DepthDriveJam = 4,
        /// The cartridge came off while the motor ran.
        CartridgeRemovedWhileRunning = 5,
        /// Battery low: a warning, the motor keeps running.
        LowBattery = 6,
        /// The host fell silent past the watchdog timeout.
        WatchdogExpired = 7,
    }
}

impl FaultCode {
    /// Whether this fault stops the motor and latches. Unknown faults are
    /// treated as critical: the safe reading.
    pub fn is_critical(self) -> bool {
        !matches!(self, FaultCode::LowBattery)
    }

    /// The bit of this fault in [`Status::active_faults`], if it has one.
    pub fn bit(self) -> Option<u16> {
        match self.code() {
            code @ 1..=16 => Some(1 << (code - 1)),
            _ => None,
        }
    }
}

wire_struct! {
    /// A fault was raised or cleared.
    pub struct Fault {
        /// Which fault.
        pub code: FaultCode,
        /// Raised (`true`) or cleared (`false`).
        pub active: bool,
        /// Fault-specific detail (e.g. current in mA, temperature in 0.1 °C).
        pub detail: u16,
    }
}

wire_enum! {
    /// What happened in the cartridge slot.
    pub enum CartridgeEventKind {
        /// A fresh cartridge was fitted.
        Inserted = 1,
        /// The cartridge was taken off.
        Removed = 2,
        /// A used cartridge was fitted again and is locked out.
        ReuseLockout = 3,
    }
}

wire_struct! {
    /// A cartridge event.
    pub struct CartridgeEvent {
        /// What happened.
        pub event: CartridgeEventKind,
        /// The cartridge's identity (0 when the pen cannot read one).
        pub cartridge_id: u32,
        /// Needles on the cartridge.
        pub needle_count: u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(min: u16, max: u16, step: u16) -> Capabilities {
        Capabilities {
            depth_min_um: min,
            depth_max_um: max,
            depth_step_um: step,
            labelled_max_depth_um: max,
            rate_min_chz: 11_700,
            rate_max_chz: 11_700,
            rate_step_chz: 0,
            needle_count: 14,
            max_current_ma: 800,
            watchdog_timeout_ms: 1_000,
            telemetry_period_ms: 50,
            features: FEATURE_LOCKOUT,
        }
    }

    #[test]
    fn depth_grid() {
        let c = caps(200, 3_000, 100);
        assert!(c.accepts_depth(200));
        assert!(c.accepts_depth(1_500));
        assert!(c.accepts_depth(3_000));
        assert!(!c.accepts_depth(100));
        assert!(!c.accepts_depth(1_550));
        assert!(!c.accepts_depth(3_100));
    }

    #[test]
    fn fixed_rate_accepts_only_its_rate() {
        let c = caps(0, 2_500, 250);
        assert!(c.accepts_rate(11_700));
        assert!(!c.accepts_rate(11_800));
        assert!(!c.accepts_rate(0));
    }

    #[test]
    fn feature_bits() {
        let c = caps(0, 2_500, 250);
        assert!(c.has(FEATURE_LOCKOUT));
        assert!(!c.has(FEATURE_POSE));
    }

    #[test]
    fn fault_bits_and_severity() {
        assert_eq!(FaultCode::MotorStall.bit(), Some(1));
        assert_eq!(FaultCode::WatchdogExpired.bit(), Some(1 << 6));
        assert_eq!(FaultCode::Other(200).bit(), None);
        assert!(!FaultCode::LowBattery.is_critical());
        assert!(FaultCode::Other(99).is_critical());
        assert_eq!(FaultCode::from_code(3), FaultCode::OverTemperature);
        assert_eq!(FaultCode::from_code(42), FaultCode::Other(42));
    }
}
