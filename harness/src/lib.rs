//! Scripted protocol conformance runs against a real or mocked pen.
//!
//! The pieces so far, each usable alone:
//!
//! * [`capture`]: every byte both ways with timestamps, written as a run
//!   goes; decoded for replay and exported to pcapng for Wireshark.
//! * [`monitor`]: a live pen's byte stream over a serial port, decoded, with
//!   sequence gaps reported and an unplugged pen handled.
//! * [`measure`]: measurements held to limits (`117 Hz ± 3 %`), compared
//!   with `approx`.
//! * [`report`]: run reports as plain data, with JUnit XML (`quick-junit`),
//!   a JSON record and a requirement traceability table as views of it.
//! * [`partition`]: `hash:k/n` and `count:k/n` sharding across CI machines.
//! * [`session`]: the host's side of a session over any byte link:
//!   handshake, commands with deadlines and retransmission, heartbeats,
//!   events, capture, and refusal of commands beyond the declared limits.
//!
//! The scenario runner and the shipped conformance suite build on these.

pub mod capture;
pub mod measure;
pub mod monitor;
pub mod partition;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod session;
