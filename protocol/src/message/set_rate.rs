//! `SetRate`: the puncture (stroke) rate.

use crate::wire::wire_struct;

wire_struct! {
    /// Sets the puncture (stroke) rate.
    pub struct SetRate {
        /// Target rate in centihertz (117 Hz is 11 700).
        pub rate_chz: u16,
    }
}
