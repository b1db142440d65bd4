//! Captures: every byte both ways, timestamped, one JSON object a line.
//!
//! ```text
//! {"format":"penlab-capture","version":1,"started_unix_us":1763700000000000,"target":"/dev/ttyACM0","baud":115200}
//! {"t_us":0,"dir":"host_to_pen","hex":"020101020105ee81c16e00"}
//! {"t_us":812,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
//! ```
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

/// Decodes both directions of a capture into frames, in time order.
pub fn decode(capture: &Capture) -> Vec<Event> {
    let mut sides = [
        Side::new(Direction::HostToPen),
        Side::new(Direction::PenToHost),
    ];
    let mut events = Vec::new();
    for record in &capture.records {
        let side = match record.dir {
            Direction::HostToPen => &mut sides[0],
            Direction::PenToHost => &mut sides[1],
        };
        side.feed(record.t_us, &record.hex, &mut events);
    }
    let end = capture.records.last().map_or(0, |r| r.t_us);
    for side in &mut sides {
        side.finish(end, &mut events);
    }
    events.sort_by_key(|e| e.t_us);
    events
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
        if let Some(error) = self.decoder.finish() {
            let wire = std::mem::take(&mut self.wire);
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
/// packet flags and the decoded meaning as a comment.
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
    let events = decode(capture);
    for event in &events {
        let at = Duration::from_micros(capture.header.started_unix_us + event.t_us);
        writer.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: at,
            original_len: event.wire.len() as u32,
            data: Cow::Borrowed(&event.wire),
            options: vec![
                EnhancedPacketOption::Flags(direction_flag(event.dir)),
                EnhancedPacketOption::Comment(Cow::Owned(describe(event))),
            ],
        })?;
    }
    Ok(events.len())
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
}
