//! The coverage engine: where the needles went, how deep and how evenly.
//!
//! Headless and pure: no window, no GPU, no serial port. A [`session::Session`]
//! takes a pose stream and strike events for one [`tool::Tool`] on one
//! [`surface::Surface`], casts each needle onto the mesh
//! ([`contact`]), counts punctures in a fixed-size UV density grid
//! ([`accumulate`]) and tracks depths and passes; [`metrics`] turns that into
//! a [`report::Report`] and [`heatmap`] into a PNG. [`script`] drives
//! sessions from TOML scripts and recorded sessions.

pub mod accumulate;
pub mod contact;
pub mod error;
pub mod face;
pub mod heatmap;
pub mod metrics;
pub mod pose;
pub mod recording;
pub mod report;
pub mod script;
pub mod session;
pub mod surface;
pub mod surfaces;
pub mod tool;

pub use error::{Error, Result};
