//! `Hello`: opens a session.

use crate::wire::wire_struct;

wire_struct! {
    /// Opens (or reopens) a session: the pen answers with an acknowledgement,
    /// then its [`Identity`](super::Identity) and
    /// [`Capabilities`](super::Capabilities).
    pub struct Hello {
        /// Protocol major version the host speaks.
        pub major: u8,
        /// Highest protocol minor version the host understands.
        pub minor: u8,
    }
}
