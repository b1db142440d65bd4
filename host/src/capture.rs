//! Captures: every byte both ways, timestamped, one JSON object a line.
//!
//! ```text
//! {"format":"penlab-capture","version":1,"started_unix_us":1763700000000000,"target":"/dev/ttyACM0","baud":115200}
//! {"t_us":0,"dir":"host_to_pen","hex":"020101020105ee81c16e00"}
//! {"t_us":812,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
//! {"t_us":5020113,"dir":"pen_to_host","hex":"","event":"detached","detail":"read: Input/output error"}
//! {"t_us":7311020,"dir":"pen_to_host","hex":"","event":"reattached","detail":"/dev/ttyACM1"}
//! ```
//!
//! A record with an `event` marks the link itself ([`LinkEvent`]): the pen
//! went away, or came back. It still has a `dir` and an empty `hex`, so that
//! a reader of version 1 without markers takes it for an empty read and
//! goes on; the version stays 1. Decoding restarts after a marker, since
//! a frame cut by the gap cannot be joined to bytes after it.
//!
//! Each record is written and flushed as the bytes pass, so a run that is
//! killed keeps everything it saw; a last line cut off mid-write is reported
//! as such and skipped, not taken for corruption. Records hold the bytes as
//! they were read or written, not frames: a capture shows garbage, split
//! reads and broken frames exactly as they happened. [`decode`] turns a
//! capture into frames per direction; [`write_pcapng`] exports them for
//! Wireshark and tshark.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use penlab_protocol::codec::{DecodeError, Decoder};
use penlab_protocol::message::{Direction, Packet};
use serde::{Deserialize, Serialize};

/// The `format` value that marks a penlab capture.
pub const FORMAT: &str = "penlab-capture";
/// The capture format version this code writes and reads.
pub const VERSION: u32 = 1;

/// The first line of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Wall-clock start of the capture, microseconds since the Unix epoch;
    /// record times count from here.
    pub started_unix_us: u64,
    /// What was on the other end: a port path, a TCP address, a mock profile.
    pub target: String,
    /// Line speed, for serial ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
}

impl Header {
    /// A header for a capture of `target` starting at `started_unix_us`.
    pub fn new(target: impl Into<String>, started_unix_us: u64, baud: Option<u32>) -> Self {
        Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            started_unix_us,
            target: target.into(),
            baud,
        }
    }
}

/// Bytes that crossed the link in one direction at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Microseconds since the capture started.
    pub t_us: u64,
    /// Which way the bytes went.
    pub dir: Direction,
    /// The bytes, as hex in the file.
    #[serde(with = "hex")]
    pub hex: Vec<u8>,
    /// Set on a marker of the link itself; its `dir` and `hex` then mean
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<LinkEvent>,
    /// What a marker says besides: why the link went, where it came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What happened to the link, marked in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkEvent {
    /// The pen went away: unplugged, reset, its port closed.
    Detached,
    /// It came back, and the capture goes on.
    Reattached,
}

impl LinkEvent {
    /// How `replay` and pcapng comments say it.
    pub fn name(self) -> &'static str {
        match self {
            LinkEvent::Detached => "detached",
            LinkEvent::Reattached => "reattached",
        }
    }
}

/// Writes a capture as the run goes.
pub struct CaptureWriter<W: Write> {
    out: W,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the header and returns a writer for the records.
    pub fn new(mut out: W, header: &Header) -> io::Result<Self> {
        write_line(&mut out, header)?;
        Ok(CaptureWriter { out })
    }

    /// Appends one record and flushes it to the file.
    pub fn record(&mut self, t_us: u64, dir: Direction, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        write_line(
            &mut self.out,
            &Record {
                t_us,
                dir,
                hex: bytes.to_vec(),
                event: None,
                detail: None,
            },
        )
    }

    /// Appends a marker of the link itself (see the module) and flushes it.
    pub fn mark(&mut self, t_us: u64, event: LinkEvent, detail: Option<&str>) -> io::Result<()> {
        write_line(
            &mut self.out,
            &Record {
                t_us,
                dir: Direction::PenToHost,
                hex: Vec::new(),
                event: Some(event),
                detail: detail.map(str::to_owned),
            },
        )
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn write_line<T: Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Reading failed.
    #[error("reading the capture: {0}")]
    Io(#[from] io::Error),
    /// The first line is not a penlab capture header.
    #[error("line 1: not a penlab capture ({0})")]
    NotACapture(String),
    /// A newer format than this code reads.
    #[error("line 1: capture format version {found}; this penlab reads version {VERSION}")]
    Version {
        /// The file's version.
        found: u32,
    },
    /// A record line that is not a record.
    #[error("line {line}, column {column}: {message}")]
    BadRecord {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// A capture read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The header.
    pub header: Header,
    /// The records in file order.
    pub records: Vec<Record>,
    /// The last line was cut off mid-write (the run was killed); it was
    /// skipped.
    pub truncated_tail: bool,
}

/// Reads a capture. A cut-off last line is tolerated; any other bad line
/// is an error that names its line and column.
pub fn read(input: impl BufRead) -> Result<Capture, CaptureError> {
    let mut lines = Vec::new();
    let mut reader = input;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        lines.push(line);
    }
    let Some(first) = lines.first() else {
        return Err(CaptureError::NotACapture("the file is empty".into()));
    };
    let header: Header = serde_json::from_str(first.trim_end())
        .map_err(|e| CaptureError::NotACapture(e.to_string()))?;
    if header.format != FORMAT {
        return Err(CaptureError::NotACapture(format!(
            "format is {:?}",
            header.format
        )));
    }
    if header.version > VERSION {
        return Err(CaptureError::Version {
            found: header.version,
        });
    }
    let mut records = Vec::with_capacity(lines.len().saturating_sub(1));
    let mut truncated_tail = false;
    let last = lines.len() - 1;
    for (i, text) in lines.iter().enumerate().skip(1) {
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(text.trim_end()) {
            Ok(record) => records.push(record),
            Err(_) if i == last && !text.ends_with('\n') => truncated_tail = true,
            Err(e) => {
                return Err(CaptureError::BadRecord {
                    line: i + 1,
                    column: e.column(),
                    message: e.to_string(),
                });
            }
        }
    }
    // Reader and writer tasks may interleave their lines slightly; a stable
    // sort restores time order without reordering bytes of one direction.
    records.sort_by_key(|r| r.t_us);
    Ok(Capture {
        header,
        records,
        truncated_tail,
    })
}

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

/// A marker of the link in a capture, as [`timeline`] gives it.
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

/// Decodes both directions of a capture into frames, in time order.
pub fn decode(capture: &Capture) -> Vec<Event> {
    timeline(capture)
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Frame(event) => Some(event),
            Entry::Link(_) => None,
        })
        .collect()
}

/// Decodes a capture into frames and link markers, in time order; at one
/// instant, in the order they happened.
pub fn timeline(capture: &Capture) -> Vec<Entry> {
    let mut sides = [
        Side::new(Direction::HostToPen),
        Side::new(Direction::PenToHost),
    ];
    let mut entries = Vec::new();
    let mut events = Vec::new();
    for record in &capture.records {
        if let Some(event) = record.event {
            // A frame cut by the gap ends here, as an error.
            for side in &mut sides {
                side.finish(record.t_us, &mut events);
            }
            entries.extend(events.drain(..).map(Entry::Frame));
            entries.push(Entry::Link(Mark {
                t_us: record.t_us,
                event,
                detail: record.detail.clone(),
            }));
            continue;
        }
        let side = match record.dir {
            Direction::HostToPen => &mut sides[0],
            Direction::PenToHost => &mut sides[1],
        };
        side.feed(record.t_us, &record.hex, &mut events);
        entries.extend(events.drain(..).map(Entry::Frame));
    }
    let end = capture.records.last().map_or(0, |r| r.t_us);
    for side in &mut sides {
        side.finish(end, &mut events);
    }
    entries.extend(events.drain(..).map(Entry::Frame));
    // Stable: what happened at one instant keeps its order.
    entries.sort_by_key(Entry::t_us);
    entries
}

/// One direction's decoder and the wire bytes of the frame in progress.
struct Side {
    dir: Direction,
    decoder: Decoder,
    wire: Vec<u8>,
}

impl Side {
    fn new(dir: Direction) -> Self {
        Side {
            dir,
            decoder: Decoder::new(),
            wire: Vec::new(),
        }
    }

    fn feed(&mut self, t_us: u64, bytes: &[u8], events: &mut Vec<Event>) {
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
            events.push(Event {
                t_us,
                dir: self.dir,
                result,
                wire,
            });
        }
    }

    fn finish(&mut self, t_us: u64, events: &mut Vec<Event>) {
        // Whatever was held is over: the next frame starts afresh.
        let wire = std::mem::take(&mut self.wire);
        if let Some(error) = self.decoder.finish() {
            events.push(Event {
                t_us,
                dir: self.dir,
                result: Err(error),
                wire,
            });
        }
    }
}

/// pcapng direction flags (epb_flags bits 0–1): inbound is pen to host.
fn direction_flag(dir: Direction) -> u32 {
    match dir {
        Direction::PenToHost => 0b01,
        Direction::HostToPen => 0b10,
    }
}

/// A one-line description of an event, for pcapng comments and `replay`.
pub fn describe(event: &Event) -> String {
    match &event.result {
        Ok(p) => format!(
            "seq {} {} {}",
            p.seq,
            p.message.msg_type(),
            serde_json::to_string(&p.message).unwrap_or_default()
        ),
        Err(e) => format!("{}: {e}", e.code()),
    }
}

/// Writes the frames of a capture as pcapng: one packet a frame (its wire
/// bytes, delimiter included) on a `USER0` link, with the direction in the
/// packet flags and the decoded meaning as a comment. A link marker is an
/// empty packet with no direction whose comment says what happened, so it
/// shows in Wireshark's packet list at its time. Returns how many frames
/// were written (markers not counted).
pub fn write_pcapng(capture: &Capture, out: impl Write) -> Result<usize, pcap_file::PcapError> {
    let mut writer = PcapNgWriter::new(out)?;
    writer.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::USER0,
        snaplen: 0,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Owned(capture.header.target.clone())),
            InterfaceDescriptionOption::IfDescription(Cow::Borrowed(
                "penlab protocol: COBS frames with 0x00 delimiter (protocol/PROTOCOL.md)",
            )),
            // pcap-file writes timestamps in nanoseconds.
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    })?;
    let mut frames = 0;
    for entry in timeline(capture) {
        let at = Duration::from_micros(capture.header.started_unix_us + entry.t_us());
        let block = match &entry {
            Entry::Frame(event) => {
                frames += 1;
                EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: at,
                    original_len: event.wire.len() as u32,
                    data: Cow::Borrowed(&event.wire),
                    options: vec![
                        EnhancedPacketOption::Flags(direction_flag(event.dir)),
                        EnhancedPacketOption::Comment(Cow::Owned(describe(event))),
                    ],
                }
            }
            Entry::Link(mark) => EnhancedPacketBlock {
                interface_id: 0,
                timestamp: at,
                original_len: 0,
                data: Cow::Borrowed(&[]),
                options: vec![EnhancedPacketOption::Comment(Cow::Owned(format!(
                    "penlab: {}",
                    mark.describe()
                )))],
            },
        };
        writer.write_pcapng_block(block)?;
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::MAX_WIRE_FRAME;
    use penlab_protocol::codec::encode_packet;
    use penlab_protocol::message::{Message, SetDepth};

    fn wire(seq: u16, message: Message) -> Vec<u8> {
        let mut out = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(&Packet { seq, message }, &mut out).unwrap();
        out[..n].to_vec()
    }

    fn sample() -> Vec<u8> {
        let mut w = CaptureWriter::new(
            Vec::new(),
            &Header::new("mock:test", 1_000_000, Some(115_200)),
        )
        .unwrap();
        let depth = wire(1, Message::SetDepth(SetDepth { depth_um: 1_250 }));
        // A frame split across two reads, then garbage and a good frame.
        w.record(10, Direction::HostToPen, &depth[..4]).unwrap();
        w.record(20, Direction::HostToPen, &depth[4..]).unwrap();
        w.record(30, Direction::PenToHost, b"\x7f\x7f\x00").unwrap();
        w.record(40, Direction::PenToHost, &wire(0, Message::Heartbeat))
            .unwrap();
        w.into_inner()
    }

    #[test]
    fn round_trip_and_decode_across_reads() {
        let capture = read(&sample()[..]).unwrap();
        assert_eq!(capture.header.target, "mock:test");
        assert_eq!(capture.records.len(), 4);
        assert!(!capture.truncated_tail);
        let events = decode(&capture);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].t_us, 20, "a frame is dated by its last byte");
        assert_eq!(
            events[0].result.as_ref().unwrap().message,
            Message::SetDepth(SetDepth { depth_um: 1_250 })
        );
        assert_eq!(
            events[0].wire,
            wire(1, Message::SetDepth(SetDepth { depth_um: 1_250 }))
        );
        assert_eq!(events[1].result.as_ref().unwrap_err().code(), "cobs");
        assert_eq!(events[1].wire, b"\x7f\x7f\x00");
        assert_eq!(events[2].dir, Direction::PenToHost);
    }

    #[test]
    fn a_killed_run_keeps_what_it_saw() {
        let mut bytes = sample();
        bytes.extend_from_slice(br#"{"t_us":50,"dir":"host_to_pen","hex":"03"#);
        let capture = read(&bytes[..]).unwrap();
        assert!(capture.truncated_tail);
        assert_eq!(capture.records.len(), 4);
    }

    #[test]
    fn a_corrupt_line_is_located() {
        let mut bytes = sample();
        bytes.extend_from_slice(b"{\"t_us\":50,\"dir\":\"sideways\",\"hex\":\"00\"}\n");
        let err = read(&bytes[..]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("line 6, column "), "{text}");
        assert!(text.contains("sideways"), "{text}");
    }

    #[test]
    fn not_a_capture() {
        assert!(matches!(read(&b""[..]), Err(CaptureError::NotACapture(_))));
        assert!(matches!(
            read(&b"hello\n"[..]),
            Err(CaptureError::NotACapture(_))
        ));
        let future = br#"{"format":"penlab-capture","version":9,"started_unix_us":0,"target":"x"}"#;
        assert!(matches!(
            read(&future[..]),
            Err(CaptureError::Version { found: 9 })
        ));
    }

    #[test]
    fn pcapng_holds_one_packet_a_frame_with_direction_and_meaning() {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let capture = read(&sample()[..]).unwrap();
        let mut file = Vec::new();
        assert_eq!(write_pcapng(&capture, &mut file).unwrap(), 3);
        let mut reader = PcapNgReader::new(&file[..]).unwrap();
        let mut packets = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.unwrap() {
                packets.push((
                    epb.timestamp,
                    epb.data.to_vec(),
                    epb.options
                        .clone()
                        .into_iter()
                        .map(|o| o.into_owned())
                        .collect::<Vec<_>>(),
                ));
            }
        }
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0].0, Duration::from_micros(1_000_020));
        assert_eq!(
            packets[0].1,
            wire(1, Message::SetDepth(SetDepth { depth_um: 1_250 }))
        );
        assert!(packets[0].2.contains(&EnhancedPacketOption::Flags(0b10)));
        assert!(
            packets[0]
                .2
                .iter()
                .any(|o| matches!(o, EnhancedPacketOption::Comment(c) if c.contains("SetDepth")))
        );
        assert!(packets[1].2.contains(&EnhancedPacketOption::Flags(0b01)));
    }

    /// A pen that went away mid-frame and came back: the cut frame is an
    /// error at the gap, not glued to the next bytes.
    fn with_a_gap() -> Vec<u8> {
        let mut w = CaptureWriter::new(Vec::new(), &Header::new("/dev/pen", 0, None)).unwrap();
        let beat = wire(7, Message::Heartbeat);
        w.record(10, Direction::PenToHost, &beat).unwrap();
        w.record(20, Direction::PenToHost, &beat[..3]).unwrap();
        w.mark(30, LinkEvent::Detached, Some("read: Input/output error"))
            .unwrap();
        w.mark(900, LinkEvent::Reattached, Some("/dev/pts/9"))
            .unwrap();
        w.record(950, Direction::PenToHost, &wire(0, Message::Heartbeat))
            .unwrap();
        w.into_inner()
    }

    #[test]
    fn a_gap_is_marked_and_decoding_starts_afresh_after_it() {
        let capture = read(&with_a_gap()[..]).unwrap();
        let entries = timeline(&capture);
        let kinds: Vec<String> = entries
            .iter()
            .map(|e| match e {
                Entry::Frame(f) => match &f.result {
                    Ok(p) => format!("{}@{}", p.seq, f.t_us),
                    Err(e) => format!("{}@{}", e.code(), f.t_us),
                },
                Entry::Link(m) => format!("{}@{}", m.event.name(), m.t_us),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "7@10",
                "truncated@30",
                "detached@30",
                "reattached@900",
                "0@950"
            ]
        );
        let Entry::Link(mark) = &entries[2] else {
            unreachable!()
        };
        assert_eq!(
            mark.describe(),
            "link detached: the pen went away (read: Input/output error)"
        );
        assert_eq!(decode(&capture).len(), 3, "frames only");
    }

    /// Version 1 as it was, without markers: a marker line reads as an
    /// empty record, so older logic that knows nothing of markers reads a
    /// capture that has them.
    #[test]
    fn markers_read_as_empty_records_to_older_logic() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct OldRecord {
            t_us: u64,
            dir: Direction,
            #[serde(with = "hex")]
            hex: Vec<u8>,
        }
        let bytes = with_a_gap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let header: Header = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(header.version, 1);
        for line in text.lines().skip(1) {
            let old: OldRecord = serde_json::from_str(line).expect(line);
            if line.contains("\"event\"") {
                assert!(old.hex.is_empty(), "{line}");
            }
        }
    }

    #[test]
    fn pcapng_carries_markers_as_empty_commented_packets() {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let capture = read(&with_a_gap()[..]).unwrap();
        let mut file = Vec::new();
        assert_eq!(write_pcapng(&capture, &mut file).unwrap(), 3);
        let mut reader = PcapNgReader::new(&file[..]).unwrap();
        let mut comments = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.unwrap() {
                for o in &epb.options {
                    if let EnhancedPacketOption::Comment(c) = o {
                        comments.push((epb.data.len(), c.to_string()));
                    }
                }
            }
        }
        assert_eq!(comments.len(), 5);
        assert_eq!(
            comments[2],
            (
                0,
                "penlab: link detached: the pen went away (read: Input/output error)".to_owned()
            )
        );
        assert_eq!(
            comments[3],
            (
                0,
                "penlab: link reattached: the pen is back (/dev/pts/9)".to_owned()
            )
        );
    }
}
