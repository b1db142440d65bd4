//! A capture's records decoded into frames per direction and link markers,
//! as a stream: two decoders and the frame in progress in memory, whatever
//! the capture's length.

use std::collections::VecDeque;
use std::io::{self, Write};

use penlab_protocol::codec::{DecodeError, Decoder};
use penlab_protocol::message::{Direction, Message, Packet, Pose, StrikeBatch, Telemetry};

use super::{LinkEvent, Record};

/// A frame, or an error in its place, decoded from one direction of a
/// capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When its last byte was seen, microseconds since the capture started.
    pub t_us: u64,
    /// Which way it went.
    pub dir: Direction,
    /// The packet, or what was wrong.
    pub result: Result<Packet, DecodeError>,
    /// Its bytes on the wire (delimiter included), as far as they were seen.
    pub wire: Vec<u8>,
}

/// A marker of the link in a capture, as [`super::timeline`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// Microseconds since the capture started.
    pub t_us: u64,
    /// What happened.
    pub event: LinkEvent,
    /// Why, or where.
    pub detail: Option<String>,
}

impl Mark {
    /// A one-line description, for `replay` and pcapng comments.
    pub fn describe(&self) -> String {
        let what = match self.event {
            LinkEvent::Detached => "link detached: the pen went away",
            LinkEvent::Reattached => "link reattached: the pen is back",
        };
        match &self.detail {
            Some(detail) => format!("{what} ({detail})"),
            None => what.to_owned(),
        }
    }

    /// Reads back what [`Mark::describe`] wrote (a pcapng comment without
    /// its `penlab: ` prefix); `None` when it is no such description.
    pub fn from_description(t_us: u64, text: &str) -> Option<Mark> {
        let (event, rest) = if let Some(r) = text.strip_prefix("link detached: the pen went away") {
            (LinkEvent::Detached, r)
        } else {
            let r = text.strip_prefix("link reattached: the pen is back")?;
            (LinkEvent::Reattached, r)
        };
        let detail = match rest {
            "" => None,
            r => Some(r.strip_prefix(" (")?.strip_suffix(')')?.to_owned()),
        };
        Some(Mark {
            t_us,
            event,
            detail,
        })
    }
}

/// One line of a capture's story: a frame, or the link going or coming.
#[derive(Debug, Clone, PartialEq, Eq)]
// Nearly every entry is a frame: boxing frames would cost an allocation
// each to save space on the few markers.
#[allow(clippy::large_enum_variant)]
pub enum Entry {
    /// A frame (or an error in its place).
    Frame(Event),
    /// A marker of the link.
    Link(Mark),
}

impl Entry {
    /// When it happened, microseconds since the capture started.
    pub fn t_us(&self) -> u64 {
        match self {
            Entry::Frame(e) => e.t_us,
            Entry::Link(m) => m.t_us,
        }
    }
}

/// Decodes records (in time order, as [`super::Records`] gives them) into
/// frames and link markers, in time order; at one instant, in the order
/// they happened. Errors of the records pass through and end the stream.
pub struct Timeline<I> {
    records: I,
    sides: [Side; 2],
    ready: VecDeque<Entry>,
    last_t: u64,
    done: bool,
}

impl<I, E> Timeline<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    /// Decodes `records` as they come.
    pub fn new(records: I) -> Self {
        Timeline {
            records,
            sides: [
                Side::new(Direction::HostToPen),
                Side::new(Direction::PenToHost),
            ],
            ready: VecDeque::new(),
            last_t: 0,
            done: false,
        }
    }

    /// The record stream underneath (for its header or truncation flag).
    pub fn records(&self) -> &I {
        &self.records
    }

    fn take(&mut self, record: Record) {
        self.last_t = record.t_us;
        if let Some(event) = record.event {
            // A frame cut by the gap ends here, as an error.
            for side in &mut self.sides {
                side.finish(record.t_us, &mut self.ready);
            }
            self.ready.push_back(Entry::Link(Mark {
                t_us: record.t_us,
                event,
                detail: record.detail,
            }));
            return;
        }
        let side = match record.dir {
            Direction::HostToPen => &mut self.sides[0],
            Direction::PenToHost => &mut self.sides[1],
        };
        side.feed(record.t_us, &record.hex, &mut self.ready);
    }
}

impl<I, E> Iterator for Timeline<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    type Item = Result<Entry, E>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Some(Ok(entry));
            }
            if self.done {
                return None;
            }
            match self.records.next() {
                Some(Ok(record)) => self.take(record),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    self.done = true;
                    for side in &mut self.sides {
                        side.finish(self.last_t, &mut self.ready);
                    }
                }
            }
        }
    }
}

/// One direction's decoder and the wire bytes of the frame in progress.
pub(super) struct Side {
    dir: Direction,
    decoder: Decoder,
    wire: Vec<u8>,
}

impl Side {
    pub(super) fn new(dir: Direction) -> Self {
        Side {
            dir,
            decoder: Decoder::new(),
            wire: Vec::new(),
        }
    }

    pub(super) fn feed(&mut self, t_us: u64, bytes: &[u8], out: &mut VecDeque<Entry>) {
        let mut input = bytes;
        loop {
            let before = input;
            let Some(result) = self.decoder.decode_packet(&mut input) else {
                self.wire.extend_from_slice(before);
                return;
            };
            self.wire
                .extend_from_slice(&before[..before.len() - input.len()]);
            let wire = std::mem::take(&mut self.wire);
            out.push_back(Entry::Frame(Event {
                t_us,
                dir: self.dir,
                result,
                wire,
            }));
        }
    }

    pub(super) fn finish(&mut self, t_us: u64, out: &mut VecDeque<Entry>) {
        // Whatever was held is over: the next frame starts afresh.
        let wire = std::mem::take(&mut self.wire);
        if let Some(error) = self.decoder.finish() {
            out.push_back(Entry::Frame(Event {
                t_us,
                dir: self.dir,
                result: Err(error),
                wire,
            }));
        }
    }
}

/// A one-line description of an event, for pcapng comments and `replay`.
pub fn describe(event: &Event) -> String {
    let mut out = Vec::new();
    // Writing into memory does not fail.
    let _ = describe_to(&mut out, event);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes [`describe`]'s line to `out`, without building it first.
///
/// The message is its serde JSON. The three a pen streams (strike batches,
/// most of a capture's text with 60 strikes of two fields each; poses;
/// telemetry) are written here, integers through `itoa`, byte for byte as
/// `serde_json` writes them (tests hold them equal), without its escaping
/// scan of every key.
pub fn describe_to(out: &mut impl Write, event: &Event) -> io::Result<()> {
    match &event.result {
        Ok(p) => {
            out.write_all(b"seq ")?;
            write_int(out, p.seq)?;
            out.write_all(b" ")?;
            out.write_all(p.message.msg_type().name().as_bytes())?;
            out.write_all(b" ")?;
            match &p.message {
                Message::StrikeBatch(batch) => write_strike_batch_json(out, batch),
                Message::Pose(pose) => write_pose_json(out, pose),
                Message::Telemetry(t) => write_telemetry_json(out, t),
                message => serde_json::to_writer(&mut *out, message).map_err(io::Error::other),
            }
        }
        Err(e) => write!(out, "{}: {e}", e.code()),
    }
}

/// An integer in decimal, as `Display` writes it.
pub(crate) fn write_int(out: &mut impl Write, n: impl itoa::Integer) -> io::Result<()> {
    out.write_all(itoa::Buffer::new().format(n).as_bytes())
}

/// `Message::StrikeBatch(batch)` as `serde_json::to_writer` writes it.
fn write_strike_batch_json(out: &mut impl Write, batch: &StrikeBatch) -> io::Result<()> {
    out.write_all(br#"{"strike_batch":{"first_strike":"#)?;
    write_int(out, batch.first_strike)?;
    out.write_all(br#","time_us":"#)?;
    write_int(out, batch.time_us)?;
    out.write_all(br#","strikes":["#)?;
    for (i, strike) in batch.strikes.iter().enumerate() {
        out.write_all(if i == 0 {
            br#"{"offset_10us":"#
        } else {
            br#",{"offset_10us":"#
        })?;
        write_int(out, strike.offset_10us)?;
        out.write_all(br#","depth_um":"#)?;
        write_int(out, strike.depth_um)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]}}")
}

/// Integers separated by commas, in brackets: a JSON array.
fn write_int_array<T: itoa::Integer + Copy>(out: &mut impl Write, values: &[T]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, &v) in values.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_int(out, v)?;
    }
    out.write_all(b"]")
}

/// `Message::Pose(pose)` as `serde_json::to_writer` writes it.
fn write_pose_json(out: &mut impl Write, pose: &Pose) -> io::Result<()> {
    out.write_all(br#"{"pose":{"time_us":"#)?;
    write_int(out, pose.time_us)?;
    out.write_all(br#","position_um":"#)?;
    write_int_array(out, &pose.position_um)?;
    out.write_all(br#","orientation_q15":"#)?;
    write_int_array(out, &pose.orientation_q15)?;
    out.write_all(b"}}")
}

/// `Message::Telemetry(t)` as `serde_json::to_writer` writes it.
fn write_telemetry_json(out: &mut impl Write, t: &Telemetry) -> io::Result<()> {
    out.write_all(br#"{"telemetry":{"time_us":"#)?;
    write_int(out, t.time_us)?;
    out.write_all(br#","depth_um":"#)?;
    write_int(out, t.depth_um)?;
    out.write_all(br#","rate_chz":"#)?;
    write_int(out, t.rate_chz)?;
    out.write_all(br#","current_ma":"#)?;
    write_int(out, t.current_ma)?;
    out.write_all(br#","force_mn":"#)?;
    write_int(out, t.force_mn)?;
    out.write_all(br#","battery_pct":"#)?;
    write_int(out, t.battery_pct)?;
    out.write_all(br#","battery_mv":"#)?;
    write_int(out, t.battery_mv)?;
    out.write_all(br#","temperature_dc":"#)?;
    write_int(out, t.temperature_dc)?;
    out.write_all(b"}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A strike batch's line is what serde_json and `Display` make of it.
        #[test]
        fn a_strike_batch_describes_as_serde_json_writes_it(
            seq in proptest::prelude::any::<u16>(),
            first_strike in proptest::prelude::any::<u32>(),
            time_us in proptest::prelude::any::<u32>(),
            strikes in proptest::collection::vec(proptest::prelude::any::<(u16, u16)>(), 0..=60),
        ) {
            use penlab_protocol::message::Strike;
            let batch = StrikeBatch {
                first_strike,
                time_us,
                strikes: strikes
                    .iter()
                    .map(|&(offset_10us, depth_um)| Strike { offset_10us, depth_um })
                    .collect(),
            };
            let message = Message::StrikeBatch(batch);
            let expected = format!(
                "seq {seq} StrikeBatch {}",
                serde_json::to_string(&message).unwrap()
            );
            let event = Event {
                t_us: 0,
                dir: Direction::PenToHost,
                result: Ok(Packet { seq, message }),
                wire: Vec::new(),
            };
            proptest::prop_assert_eq!(describe(&event), expected);
        }
    }

    proptest::proptest! {
        /// So are a pose's and a telemetry frame's, whatever their values.
        #[test]
        fn poses_and_telemetry_describe_as_serde_json_writes_them(
            time_us in proptest::prelude::any::<u32>(),
            position_um in proptest::prelude::any::<[i32; 3]>(),
            orientation_q15 in proptest::prelude::any::<[i16; 4]>(),
            small in proptest::prelude::any::<[u16; 5]>(),
            battery_pct in proptest::prelude::any::<u8>(),
            temperature_dc in proptest::prelude::any::<i16>(),
        ) {
            let pose = Message::Pose(Pose { time_us, position_um, orientation_q15 });
            let telemetry = Message::Telemetry(Telemetry {
                time_us,
                depth_um: small[0],
                rate_chz: small[1],
                current_ma: small[2],
                force_mn: small[3],
                battery_pct,
                battery_mv: small[4],
                temperature_dc,
            });
            for message in [pose, telemetry] {
                let expected = format!(
                    "seq 9 {} {}",
                    message.msg_type(),
                    serde_json::to_string(&message).unwrap()
                );
                let event = Event {
                    t_us: 0,
                    dir: Direction::PenToHost,
                    result: Ok(Packet { seq: 9, message }),
                    wire: Vec::new(),
                };
                proptest::prop_assert_eq!(describe(&event), expected);
            }
        }
    }

    #[test]
    fn other_messages_describe_as_before() {
        for packet in penlab_protocol::samples::telemetry_second(15_000, 7, 0) {
            let expected = format!(
                "seq {} {} {}",
                packet.seq,
                packet.message.msg_type(),
                serde_json::to_string(&packet.message).unwrap()
            );
            let event = Event {
                t_us: 0,
                dir: Direction::PenToHost,
                result: Ok(packet),
                wire: Vec::new(),
            };
            assert_eq!(describe(&event), expected);
        }
    }

    #[test]
    fn a_mark_reads_back_from_its_description() {
        for detail in [None, Some("read: Input/output error (5)".to_owned())] {
            for event in [LinkEvent::Detached, LinkEvent::Reattached] {
                let mark = Mark {
                    t_us: 7,
                    event,
                    detail: detail.clone(),
                };
                assert_eq!(Mark::from_description(7, &mark.describe()), Some(mark));
            }
        }
        assert_eq!(Mark::from_description(0, "seq 1 Ack {}"), None);
    }
}
