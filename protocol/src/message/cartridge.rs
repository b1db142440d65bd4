//! `Cartridge`: something happened in the cartridge slot.

use crate::wire::{wire_enum, wire_struct};

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
