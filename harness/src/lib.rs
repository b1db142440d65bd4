//! Scripted protocol conformance runs against a real or mocked pen.
//!
//! Scenarios, the runner and reports, over the host's side of a session
//! (`penlab-host`: transports, the protocol session, captures):
//!
//! * [`measure`]: measurements held to limits (`117 Hz ± 3 %`), compared
//!   with `approx`.
//! * [`report`]: run reports as plain data, with JUnit XML (`quick-junit`),
//!   a JSON record and a requirement traceability table as views of it.
//! * [`partition`]: `hash:k/n` and `count:k/n` sharding across CI machines.
//! * [`scenario`]: scenario files (TOML), checked when they load.
//! * [`runner`]: runs suites against a [`runner::Target`] and emits events
//!   that the reporters consume.

pub mod measure;
pub mod partition;
pub mod report;
pub mod runner;
pub mod scenario;
