//! `Status`: the pen's settings and state.

use crate::wire::{wire_enum, wire_struct};

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
        /// Active faults, one bit per [`FaultCode`](super::FaultCode): bit
        /// `code - 1`.
        pub active_faults: u16,
    }
}
