//! The host's side of a session with a pen, shared by every host tool
//! (the conformance harness, the live simulator link, the monitor):
//!
//! * [`transport`]: one [`transport::Transport`] that opens a pen from one
//!   address string (a serial path, `tcp:HOST:PORT`, `socket://HOST:PORT`,
//!   `rfc2217://HOST:PORT`, `usb:VID:PID[:SERIAL]`, or an in-process pen
//!   such as the built-in mock), giving a byte link and, where the pen has
//!   one, its environment channel ([`env`]); and waits for a pen that went
//!   away to come back ([`transport::Transport::reopen`]).
//! * [`rfc2217`]: the RFC 2217 client under `rfc2217://` (a serial port
//!   exported by ser2net or a labgrid exporter).
//! * [`ports`]: the machine's serial ports, and the pure matcher that finds
//!   a `usb:` pen among them.
//! * [`session`]: the protocol session over any byte link: handshake,
//!   commands with deadlines and retransmission, heartbeats, events in
//!   order, every byte captured, and the safety rules of `PROTOCOL.md` §14.
//! * [`limits`]: the pen's declared `Capabilities`, checked once at the
//!   handshake; everything downstream holds a [`limits::PenLimits`] and may
//!   rely on it.
//! * [`capture`]: every byte both ways with timestamps, written as a run
//!   goes, with markers where the link went and came back; decoded for
//!   replay and exported to pcapng.
//! * [`monitor`]: a live pen's byte stream, decoded as it arrives.
//!
//! It knows nothing of scenarios, reports or the simulator; the mock pen is
//! plugged in by whoever builds a [`transport::Transport::in_process`].

pub mod capture;
pub mod env;
pub mod limits;
pub mod monitor;
pub mod ports;
pub mod rfc2217;
pub mod session;
pub mod signals;
pub mod transport;
