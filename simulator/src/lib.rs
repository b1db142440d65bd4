//! The coverage engine: where the needles went, how deep and how evenly.
//!
//! Headless and pure: no window, no GPU, no serial port. A [`session::Session`]
//! takes a pose stream and strike events for one [`tool::Tool`] on one
//! [`surface::Surface`], casts each needle onto the mesh
//! ([`contact`]), counts punctures in a fixed-size UV density grid
//! ([`accumulate`]) and tracks depths and passes; [`metrics`] turns that into
//! a [`report::Report`] and [`heatmap`] into a PNG; [`summary`] writes the
//! report as text and [`headless`] runs a whole headless session. [`script`] drives
//! sessions from TOML scripts and recorded sessions.

pub mod accumulate;
pub mod compare;
pub mod contact;
pub mod cues;
pub mod diffmap;
pub mod error;
pub mod face;
pub mod gltf_mesh;
pub mod graphs;
pub mod headless;
pub mod heatmap;
pub mod metrics;
pub mod obj;
pub mod overrides;
pub mod pose;
pub mod recording;
pub mod report;
pub mod rubric;
pub mod script;
pub mod series;
pub mod session;
pub mod snapshot;
pub mod summary;
pub mod surface;
pub mod surfaces;
pub mod tool;
pub mod trainee;

pub use error::{Error, Result};
