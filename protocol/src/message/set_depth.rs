//! `SetDepth`: the needle penetration depth.

use crate::wire::wire_struct;

wire_struct! {
    /// Sets the needle penetration depth.
    pub struct SetDepth {
        /// Target depth in micrometres; a multiple of the declared step
        /// within the declared range.
        pub depth_um: u16,
    }
}
