//! Recording a live session in the coverage engine's recorded-session
//! format, so `penlab sim --headless` can score it and the view can play it
//! again. The format, and the recorder that puts a pen's late strike
//! batches back in time order, live in `penlab_simulator::recording`; this
//! module keeps the names the live session uses.

pub use penlab_simulator::recording::{HOLD_S, Recorder};
