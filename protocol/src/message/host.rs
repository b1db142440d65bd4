//! Commands from the host to the pen. Each one is answered by an
//! [`Ack`](super::Ack) or a [`Nack`](super::Nack) within the acknowledgement
//! deadline. `Start`, `Stop`, `EmergencyStop`, `StatusRequest` and `Heartbeat`
//! carry no payload and are unit variants of [`Message`](super::Message).

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

wire_struct! {
    /// Sets the needle penetration depth.
    pub struct SetDepth {
        /// Target depth in micrometres; a multiple of the declared step
        /// within the declared range.
        pub depth_um: u16,
    }
}

wire_struct! {
    /// Sets the puncture (stroke) rate.
    pub struct SetRate {
        /// Target rate in centihertz (117 Hz is 11 700).
        pub rate_chz: u16,
    }
}
