//! A live simulator session, without a window: a pen on the line and the
//! coverage it leaves, as the 3D view (`penlab-view`) and tests drive it.
//!
//! - [`link`]: the pen, in process (the built-in mock) or on a serial port,
//!   run on its own thread; commands in, events out.
//! - [`clock`]: maps the pen's clock onto the host's, so each strike lands
//!   where the tool was when it struck.
//! - [`coverage`]: the coverage engine's session plus the live heatmap,
//!   updated only where punctures landed.
//! - [`record`]: recording a live session for replay.
//! - [`session`]: all of it together, polled once a frame.

pub mod clock;
pub mod coverage;
pub mod link;
pub mod record;
pub mod session;
