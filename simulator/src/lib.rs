//! The coverage engine: where the needles went, how deep and how evenly.
//! Filled in by the simulator-core issue.
