//! Sequence numbers: each side numbers its frames `0, 1, 2, ...` (wrapping
//! at 65 536) from its first frame after a `Hello`. The receiver's tracker
//! tells a frame in order from a lost run and from a retransmission.

/// What a received sequence number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeqEvent {
    /// The first frame seen: nothing to compare with.
    First,
    /// The next frame, as expected.
    InOrder,
    /// `lost` frames were skipped before this one.
    Gap {
        /// How many frames are missing.
        lost: u16,
    },
    /// The same number as the previous frame: a retransmission or a
    /// duplicated frame. A command received twice is acknowledged again but
    /// not executed again.
    Duplicate,
}

/// Tracks one sender's sequence numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqTracker {
    last: Option<u16>,
}

impl SeqTracker {
    /// A tracker that has seen nothing.
    pub const fn new() -> Self {
        SeqTracker { last: None }
    }

    /// Forgets the history (a new session).
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The last sequence number seen.
    pub fn last(&self) -> Option<u16> {
        self.last
    }

    /// Records `seq` and classifies it. After a gap the tracker follows the
    /// sender: what was lost is reported once, not on every later frame.
    pub fn observe(&mut self, seq: u16) -> SeqEvent {
        let event = match self.last {
            None => SeqEvent::First,
            Some(last) if seq == last => SeqEvent::Duplicate,
            Some(last) => match seq.wrapping_sub(last).wrapping_sub(1) {
                0 => SeqEvent::InOrder,
                lost => SeqEvent::Gap { lost },
            },
        };
        self.last = Some(seq);
        event
    }
}

/// Numbers outgoing frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqCounter {
    next: u16,
}

impl SeqCounter {
    /// A counter starting at 0.
    pub const fn new() -> Self {
        SeqCounter { next: 0 }
    }

    /// The number for the next frame; advances, wrapping.
    pub fn next_seq(&mut self) -> u16 {
        let seq = self.next;
        self.next = self.next.wrapping_add(1);
        seq
    }

    /// Starts again from 0 (a new session).
    pub fn reset(&mut self) {
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_gap_duplicate_and_wrap() {
        let mut t = SeqTracker::new();
        assert_eq!(t.observe(65_534), SeqEvent::First);
        assert_eq!(t.observe(65_535), SeqEvent::InOrder);
        assert_eq!(t.observe(0), SeqEvent::InOrder);
        assert_eq!(t.observe(0), SeqEvent::Duplicate);
        assert_eq!(t.observe(4), SeqEvent::Gap { lost: 3 });
        assert_eq!(t.observe(5), SeqEvent::InOrder);
        // Going backwards looks like a (large) gap: the sender restarted.
        assert_eq!(t.observe(2), SeqEvent::Gap { lost: 65_532 });
        t.reset();
        assert_eq!(t.observe(9), SeqEvent::First);
    }

    #[test]
    fn counter_wraps() {
        let mut c = SeqCounter { next: 65_535 };
        assert_eq!(c.next_seq(), 65_535);
        assert_eq!(c.next_seq(), 0);
        c.reset();
        assert_eq!(c.next_seq(), 0);
    }
}
