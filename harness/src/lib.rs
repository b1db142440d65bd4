//! Scripted protocol conformance runs against a real or mocked pen.
//!
//! Scenarios, the runner and reports, over the host's side of a session
//! (`penlab-host`: transports, the protocol session, captures):
//!
//! * [`scenario`]: scenario files (TOML), checked when they load.
//! * [`steps`]: every kind of step, one type each, in one table.
//! * [`runner`]: runs suites against a [`runner::Target`], stops the motor
//!   after every test, and emits events that the reporters consume.
//! * [`report`]: run reports as plain data; live output, JUnit XML
//!   (`quick-junit`) and a JSON record with a requirement traceability
//!   table as views of it.
//! * [`bench`]: a whole `penlab test` on one pen or a bench of them.
//! * [`measure`]: measurements held to limits (`117 Hz ± 3 %`), compared
//!   with `approx`.
//! * [`transcript`]: every byte of a test, and the rules of the spec every
//!   test is held to on it afterwards.
//! * [`operator`]: prompts for an operator at a real pen's bench.
//! * [`partition`]: `hash:k/n` and `count:k/n` sharding across CI machines.
//! * [`characterise`]: the accuracy study across the declared range, with
//!   CSV, JSON and plots.
//! * [`evidence`]: the evidence bundle: provenance, an HTML report, the
//!   requirement matrix, anomalies and `SHA256SUMS`.

pub mod bench;
pub mod characterise;
pub mod evidence;
pub mod measure;
pub mod operator;
pub mod partition;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod steps;
pub mod transcript;
