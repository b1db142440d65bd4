//! `Ack`: a command accepted.

use crate::wire::wire_struct;

wire_struct! {
    /// The pen accepted the command with sequence number `ack_seq`.
    pub struct Ack {
        /// Sequence number of the acknowledged command.
        pub ack_seq: u16,
        /// Type code of the acknowledged command.
        pub command: u8,
    }
}
