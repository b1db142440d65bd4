//! What the pen link's end-to-end tests share: a mock pen on a real
//! pseudo-terminal, and its transcript decoded.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::time::{Duration, Instant};

use penlab_firmware_mock::background::BackgroundPen;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{Mock, MockConfig};
use penlab_firmware_mock::transcript::{Dir, Transcript};
use penlab_live::link::{LinkEvent, PenLink};
use penlab_protocol::message::{Message, MessageType};

/// How long a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(3);

/// A mock pen (skinpen-like) on a pseudo-terminal, on its own thread,
/// recording a transcript of every byte both ways.
pub struct PtyPen {
    /// The terminal (or its link).
    pub path: String,
    /// When the mock started: its transcript's zero, near enough.
    pub started: Instant,
    pen: BackgroundPen,
}

impl PtyPen {
    /// A pen on a new terminal.
    pub fn start() -> PtyPen {
        PtyPen::start_at(None)
    }

    /// A pen on a new terminal, reached through `link` (a symlink, as
    /// `penlab mock --link` makes) when given.
    pub fn start_at(link: Option<PathBuf>) -> PtyPen {
        let profile = Profile::builtin("skinpen-like").unwrap();
        let mut config = MockConfig::new(DeviceConfig::new(profile));
        config.record = true;
        let pen = BackgroundPen::start(config, link).unwrap();
        PtyPen {
            path: pen.path().to_owned(),
            started: pen.started(),
            pen,
        }
    }

    /// Ends the mock (the host's side of the port is still open) and gives
    /// back its transcript.
    pub fn end(self) -> (Mock, Frames) {
        let mock = self.pen.end();
        let frames = Frames::of(mock.transcript().unwrap());
        (mock, frames)
    }

    /// Transcript time of a host instant, µs.
    pub fn t_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_micros() as u64
    }
}

/// The transcript, decoded: (t µs, from the host, message, seq).
pub struct Frames(pub Vec<(u64, bool, Message, u16)>);

impl Frames {
    pub fn of(transcript: &Transcript) -> Frames {
        Frames(
            transcript
                .packets()
                .into_iter()
                .map(|(t, dir, p)| (t, dir == Dir::HostToPen, p.message, p.seq))
                .collect(),
        )
    }

    /// The first `Stop` from the host at or after `since` that the pen
    /// acknowledged: (when it was read, when it was acknowledged).
    pub fn stop_acknowledged_after(&self, since: u64) -> Option<(u64, u64)> {
        let stop = MessageType::Stop.code();
        self.0
            .iter()
            .filter(|(t, host, m, _)| *host && *t >= since && *m == Message::Stop)
            .find_map(|(t, _, _, seq)| {
                self.0.iter().find_map(|(at, host, m, _)| match m {
                    Message::Ack(a)
                        if !host && at >= t && a.command == stop && a.ack_seq == *seq =>
                    {
                        Some((*t, *at))
                    }
                    _ => None,
                })
            })
    }

    /// What the host sent within `from..to`, by message type.
    pub fn host_sent(&self, from: u64, to: u64) -> Vec<MessageType> {
        self.0
            .iter()
            .filter(|(t, host, _, _)| *host && (from..to).contains(t))
            .map(|(_, _, m, _)| m.msg_type())
            .collect()
    }

    pub fn first_host_after(&self, since: u64, kind: MessageType) -> Option<u64> {
        self.0
            .iter()
            .find(|(t, host, m, _)| *host && *t > since && m.msg_type() == kind)
            .map(|(t, ..)| *t)
    }
}

/// Polls the link until an event matches `pred`.
pub fn wait_for(
    link: &PenLink,
    within: Duration,
    what: &str,
    mut pred: impl FnMut(&LinkEvent) -> bool,
) -> LinkEvent {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match link.try_recv() {
            Some(event) if pred(&event) => return event,
            Some(event) => seen.push(event),
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    panic!("no {what} within {within:?}; saw {seen:#?}")
}
