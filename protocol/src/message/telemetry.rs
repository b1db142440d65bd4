//! `Telemetry`: periodic measurements.

use crate::wire::wire_struct;

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
