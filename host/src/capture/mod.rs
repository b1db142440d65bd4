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
//! reads and broken frames exactly as they happened.
//!
//! Reading streams, whatever the capture's length: [`Records`] reads a line
//! at a time (`lines`), [`Timeline`] decodes them into frames per direction
//! and link markers, [`entries`] opens either format. [`pcapng`] exports
//! frames for Wireshark and tshark, writes a capture straight to pcapng
//! ([`CaptureWriter::pcapng`], `--capture FILE.pcapng`), and reads one back.

use std::convert::Infallible;
use std::io::{self, BufRead, Write};
use std::path::Path;

use penlab_protocol::message::Direction;
use serde::{Deserialize, Serialize};

mod lines;
pub mod pcapng;
mod timeline;

pub use lines::{REORDER_WINDOW, Records};
pub use pcapng::{PcapngCapture, PcapngEntries, PcapngExport, PcapngReadError};
pub use timeline::{Entry, Event, Mark, Timeline, describe, describe_to};

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

/// Writes a capture as the run goes, as JSON lines or as pcapng.
pub struct CaptureWriter<W: Write> {
    format: Format<W>,
}

enum Format<W: Write> {
    Lines(W),
    // Boxed: the decoders are large beside a bare writer.
    Pcapng(Box<PcapngCapture<W>>),
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the header and returns a writer for the records (JSON lines).
    pub fn new(mut out: W, header: &Header) -> io::Result<Self> {
        write_line(&mut out, header)?;
        Ok(CaptureWriter {
            format: Format::Lines(out),
        })
    }

    /// A capture written straight as pcapng: frames decoded as they pass,
    /// each written as its packet block and flushed (see [`pcapng`]).
    pub fn pcapng(out: W, header: &Header) -> io::Result<Self> {
        Ok(CaptureWriter {
            format: Format::Pcapng(Box::new(PcapngCapture::new(out, header)?)),
        })
    }

    /// JSON lines, or pcapng when `path` ends in `.pcapng`.
    pub fn for_path(out: W, path: &Path, header: &Header) -> io::Result<Self> {
        if is_pcapng_path(path) {
            Self::pcapng(out, header)
        } else {
            Self::new(out, header)
        }
    }

    /// Appends one record and flushes it to the file.
    pub fn record(&mut self, t_us: u64, dir: Direction, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        match &mut self.format {
            Format::Lines(out) => write_line(
                out,
                &Record {
                    t_us,
                    dir,
                    hex: bytes.to_vec(),
                    event: None,
                    detail: None,
                },
            ),
            Format::Pcapng(p) => p.record(t_us, dir, bytes),
        }
    }

    /// Appends a marker of the link itself (see the module) and flushes it.
    pub fn mark(&mut self, t_us: u64, event: LinkEvent, detail: Option<&str>) -> io::Result<()> {
        match &mut self.format {
            Format::Lines(out) => write_line(
                out,
                &Record {
                    t_us,
                    dir: Direction::PenToHost,
                    hex: Vec::new(),
                    event: Some(event),
                    detail: detail.map(str::to_owned),
                },
            ),
            Format::Pcapng(p) => p.mark(t_us, event, detail),
        }
    }

    /// Gives back the underlying writer (a pcapng capture first writes the
    /// frames cut off at its end, as errors, as it does when dropped).
    pub fn into_inner(self) -> W {
        match self.format {
            Format::Lines(out) => out,
            Format::Pcapng(p) => p.into_inner(),
        }
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
    #[error("line {line}, column {column} (byte {offset}): {message}")]
    BadRecord {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Byte offset in the file.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A pcapng capture that could not be read.
    #[error(transparent)]
    Pcapng(#[from] PcapngReadError),
}

/// A capture read back whole (for small captures and tests; tools stream
/// with [`Records`] and [`entries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The header.
    pub header: Header,
    /// The records in time order.
    pub records: Vec<Record>,
    /// The last line was cut off mid-write (the run was killed); it was
    /// skipped.
    pub truncated_tail: bool,
}

/// Reads a whole JSON-lines capture. A cut-off last line is tolerated; any
/// other bad line is an error that names its line and column.
pub fn read(input: impl BufRead) -> Result<Capture, CaptureError> {
    let mut stream = Records::new(input)?;
    let records = stream.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok(Capture {
        header: stream.header().clone(),
        records,
        truncated_tail: stream.truncated_tail(),
    })
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
    let records = capture.records.iter().cloned().map(Ok::<_, Infallible>);
    Timeline::new(records)
        .map(|e| e.unwrap_or_else(|never| match never {}))
        .collect()
}

/// Writes the frames of a capture as pcapng (see [`pcapng`]). Returns how
/// many frames were written (markers not counted).
pub fn write_pcapng(capture: &Capture, out: impl Write) -> Result<usize, pcap_file::PcapError> {
    let mut export = PcapngExport::new(out, &capture.header)?;
    for entry in timeline(capture) {
        export.entry(&entry)?;
    }
    Ok(export.frames())
}

/// The story of a capture file in either format, streamed: JSON lines
/// (records decoded as they are read) or pcapng (packets read back).
pub enum Entries<R: BufRead> {
    /// A JSON-lines capture.
    Lines(Box<Timeline<Records<R>>>),
    /// A pcapng capture.
    Pcapng(Box<PcapngEntries<R>>),
}

/// Opens a capture in either format, told apart by its first bytes.
pub fn entries<R: BufRead>(mut input: R) -> Result<Entries<R>, CaptureError> {
    if input.fill_buf()?.starts_with(&pcapng::MAGIC) {
        Ok(Entries::Pcapng(Box::new(PcapngEntries::new(input)?)))
    } else {
        Ok(Entries::Lines(Box::new(Timeline::new(Records::new(
            input,
        )?))))
    }
}

impl<R: BufRead> Entries<R> {
    /// The capture's header.
    pub fn header(&self) -> &Header {
        match self {
            Entries::Lines(t) => t.records().header(),
            Entries::Pcapng(p) => p.header(),
        }
    }

    /// Whether the capture's last line or block was cut off (a killed run)
    /// and skipped; known once the stream has ended.
    pub fn truncated_tail(&self) -> bool {
        match self {
            Entries::Lines(t) => t.records().truncated_tail(),
            Entries::Pcapng(p) => p.truncated_tail(),
        }
    }
}

impl<R: BufRead> Iterator for Entries<R> {
    type Item = Result<Entry, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Lines(t) => t.next(),
            Entries::Pcapng(p) => p.next().map(|r| r.map_err(CaptureError::from)),
        }
    }
}

/// Whether `path` names a pcapng capture (by its extension), which
/// `--capture` then writes as pcapng.
pub fn is_pcapng_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use penlab_protocol::MAX_WIRE_FRAME;
    use penlab_protocol::codec::encode_packet;
    use penlab_protocol::message::Packet;
    use penlab_protocol::message::{Message, SetDepth};
    use std::time::Duration;

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

    /// The options of every packet in a pcapng file, with its timestamp and
    /// bytes.
    fn packets_of(file: &[u8]) -> Vec<(Duration, Vec<u8>, Vec<EnhancedPacketOption<'static>>)> {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let mut reader = PcapNgReader::new(file).unwrap();
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
        packets
    }

    fn is_comment(option: &EnhancedPacketOption<'_>) -> bool {
        matches!(option, EnhancedPacketOption::Comment(_))
    }

    #[test]
    fn pcapng_holds_one_packet_a_frame_with_direction_and_meaning() {
        let capture = read(&sample()[..]).unwrap();
        let mut file = Vec::new();
        assert_eq!(write_pcapng(&capture, &mut file).unwrap(), 3);
        let packets = packets_of(&file);
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0].0, Duration::from_micros(1_000_020));
        assert_eq!(
            packets[0].1,
            wire(1, Message::SetDepth(SetDepth { depth_um: 1_250 }))
        );
        assert_eq!(packets[0].2, [EnhancedPacketOption::Flags(0b10)]);
        assert_eq!(packets[1].2, [EnhancedPacketOption::Flags(0b01)]);

        // Asked for, each frame carries what replay says of it.
        let mut export = PcapngExport::new(Vec::new(), &capture.header)
            .unwrap()
            .with_frame_comments(true);
        for entry in timeline(&capture) {
            export.entry(&entry).unwrap();
        }
        let commented = packets_of(&export.into_inner());
        assert_eq!(commented.len(), 3);
        assert!(commented[0].2.contains(&EnhancedPacketOption::Flags(0b10)));
        assert!(commented[0].2.iter().any(
            |o| matches!(o, EnhancedPacketOption::Comment(c) if c.starts_with("seq 1 SetDepth {"))
        ));
        assert!(commented.iter().all(|p| p.2.iter().any(is_comment)));
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
        let capture = read(&with_a_gap()[..]).unwrap();
        let mut file = Vec::new();
        assert_eq!(write_pcapng(&capture, &mut file).unwrap(), 3);
        let comments: Vec<(usize, String)> = packets_of(&file)
            .into_iter()
            .flat_map(|(_, data, options)| {
                options.into_iter().filter_map(move |o| match o {
                    EnhancedPacketOption::Comment(c) => Some((data.len(), c.into_owned())),
                    _ => None,
                })
            })
            .collect();
        // Only the markers: frames carry no comment unless asked.
        assert_eq!(
            comments,
            [
                (
                    0,
                    "penlab: link detached: the pen went away (read: Input/output error)"
                        .to_owned()
                ),
                (
                    0,
                    "penlab: link reattached: the pen is back (/dev/pts/9)".to_owned()
                )
            ]
        );
    }
}
