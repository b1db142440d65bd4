//! `Nack`: a command refused, and why.

use crate::wire::{wire_open_enum, wire_struct};

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
