//! Link trouble (undecodable frames, sequence gaps, duplicates, stray
//! refusals), summed up and reported at most once a period: a burst of
//! noise is one summary, not an event per bad byte.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use penlab_protocol::message::NackReason;

use super::{Events, LinkEvent, emit};

/// At most one [`LinkEvent::LinkTrouble`] per this period.
const TROUBLE_PERIOD: Duration = Duration::from_millis(500);

/// Link trouble since the last report.
#[derive(Debug, Default)]
pub(super) struct Trouble {
    pub(super) undecoded: BTreeMap<&'static str, u32>,
    pub(super) lost: u32,
    pub(super) duplicates: u32,
    notes: Vec<String>,
    notes_dropped: u32,
    last_report: Option<Instant>,
}

impl Trouble {
    const MAX_NOTES: usize = 4;

    pub(super) fn note(&mut self, note: String) {
        if self.notes.len() < Self::MAX_NOTES {
            self.notes.push(note);
        } else {
            self.notes_dropped += 1;
        }
    }

    fn pending(&self) -> bool {
        !self.undecoded.is_empty()
            || self.lost > 0
            || self.duplicates > 0
            || !self.notes.is_empty()
            || self.notes_dropped > 0
    }

    /// The first trouble is reported at once, later trouble at most once a
    /// period.
    pub(super) fn due(&self) -> bool {
        self.pending()
            && self
                .last_report
                .is_none_or(|t| t.elapsed() >= TROUBLE_PERIOD)
    }

    pub(super) fn report(&mut self, events: &Events) {
        if !self.pending() {
            return;
        }
        let mut parts = Vec::new();
        if !self.undecoded.is_empty() {
            let total: u32 = self.undecoded.values().sum();
            let kinds: Vec<String> = self
                .undecoded
                .iter()
                .map(|(code, n)| format!("{code} ×{n}"))
                .collect();
            parts.push(format!(
                "{total} frame(s) failed to decode ({})",
                kinds.join(", ")
            ));
        }
        if self.lost > 0 {
            parts.push(format!("{} frame(s) lost (sequence gaps)", self.lost));
        }
        if self.duplicates > 0 {
            parts.push(format!("{} duplicated frame(s)", self.duplicates));
        }
        parts.append(&mut self.notes);
        if self.notes_dropped > 0 {
            parts.push(format!("{} more like these", self.notes_dropped));
        }
        emit(
            events,
            LinkEvent::LinkTrouble {
                what: parts.join("; "),
            },
        );
        *self = Trouble {
            last_report: Some(Instant::now()),
            ..Trouble::default()
        };
    }
}

pub(super) fn nack_text(reason: NackReason) -> String {
    match reason {
        NackReason::OutOfRange => "out of range (outside its limits or off its step)".to_owned(),
        NackReason::WrongState => "not allowed in its current state".to_owned(),
        NackReason::Busy => "busy".to_owned(),
        NackReason::CartridgeLocked => "the cartridge was used before and is locked out".to_owned(),
        NackReason::UnknownMessage => "it does not know this command".to_owned(),
        NackReason::Malformed => "malformed".to_owned(),
        NackReason::NoCartridge => "no cartridge fitted".to_owned(),
        NackReason::FaultActive => "a fault is active".to_owned(),
        NackReason::UnsupportedVersion => "it does not speak this protocol version".to_owned(),
        NackReason::Other(code) => format!("reason code {code}"),
    }
}
