//! Captures as pcapng, for Wireshark and tshark: exported from a capture
//! ([`PcapngExport`]), written live as a run goes ([`PcapngCapture`]), and
//! read back ([`PcapngEntries`]) so `penlab replay` reads either format.
//!
//! One packet a frame (its wire bytes, delimiter included) on a `USER0`
//! link, with the direction in the packet flags; `tools/wireshark/penlab.lua`
//! decodes the payload. A live capture also gives each frame its decoded
//! meaning as a comment, for a reader without the dissector; an export does
//! when asked ([`PcapngExport::with_frame_comments`], `penlab replay
//! --pcapng-comments`): at a capture's full rate the comments tripled the
//! file and were most of the export's time. A link marker is an empty
//! packet with no direction whose comment says what happened. The section header's comment carries the
//! capture's [`Header`] as JSON, after [`HEADER_COMMENT`].
//!
//! Every block is written whole with one `write` and flushed: a run killed
//! at any point leaves a file that reads up to its last whole block
//! (pcapng blocks carry their length at both ends).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, Read, Write};

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriter};
use pcap_file::{DataLink, Endianness, PcapError};
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::Direction;

use super::timeline::{Entry, Event, Mark, Side, describe_to};
use super::{Header, LinkEvent};

/// What the section header's comment starts with, before the header's JSON.
pub const HEADER_COMMENT: &str = "penlab-capture ";

/// The first bytes of every pcapng file (a section header block's type).
pub const MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

/// pcapng direction flags (epb_flags bits 0–1): inbound is pen to host.
fn direction_flag(dir: Direction) -> u32 {
    match dir {
        Direction::PenToHost => 0b01,
        Direction::HostToPen => 0b10,
    }
}

/// Writes entries as pcapng blocks, each whole in one write (flushed after
/// each when [`PcapngExport::flush_each_block`] says so).
///
/// The section header and interface go through pcap-file; the packets are
/// enhanced packet blocks laid out here, into one buffer reused for every
/// block (pcap-file builds each block's options as a `Vec` and serialises
/// the block twice, once to measure it).
/// `tests::packet_blocks_are_those_pcap_file_writes` holds the two byte
/// for byte.
pub struct PcapngExport<W: Write> {
    out: W,
    /// The block being laid out.
    block: Vec<u8>,
    started_unix_us: u64,
    frames: usize,
    flush_each: bool,
    frame_comments: bool,
}

/// Enhanced packet block type (pcapng §4.3).
const ENHANCED_PACKET_BLOCK: u32 = 0x0000_0006;
/// Option codes: `opt_comment`, `epb_flags`, `opt_endofopt`.
const OPT_COMMENT: u16 = 1;
const OPT_FLAGS: u16 = 2;
const OPT_END: u16 = 0;

impl<W: Write> PcapngExport<W> {
    /// Writes the section header (carrying `header`) and the interface.
    /// Frames carry no comment (the dissector in `tools/wireshark` decodes
    /// them) unless [`PcapngExport::with_frame_comments`] says so; link
    /// markers always carry theirs.
    pub fn new(mut out: W, header: &Header) -> Result<Self, PcapError> {
        let section = SectionHeaderBlock {
            endianness: Endianness::native(),
            options: vec![
                SectionHeaderOption::Comment(Cow::Owned(format!(
                    "{HEADER_COMMENT}{}",
                    serde_json::to_string(header).unwrap_or_default()
                ))),
                SectionHeaderOption::UserApplication(Cow::Borrowed("penlab")),
            ],
            ..SectionHeaderBlock::default()
        };
        let mut blocks = PcapNgWriter::with_section_header(Vec::new(), section)?;
        blocks.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::USER0,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(header.target.clone())),
                InterfaceDescriptionOption::IfDescription(Cow::Borrowed(
                    "penlab protocol: COBS frames with 0x00 delimiter (protocol/PROTOCOL.md)",
                )),
                // Packet timestamps are in nanoseconds.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        })?;
        out.write_all(&blocks.into_inner())
            .map_err(PcapError::IoError)?;
        Ok(PcapngExport {
            out,
            block: Vec::with_capacity(1024),
            started_unix_us: header.started_unix_us,
            frames: 0,
            flush_each: false,
            frame_comments: false,
        })
    }

    /// Gives every frame's packet its decoded meaning as a comment (what
    /// `penlab replay` prints for it: `seq 12 StrikeBatch {…}`), for a
    /// reader without the dissector (`tshark -e frame.comment`). It makes
    /// an export about three times the size and twice as slow
    /// (BENCHMARKS.md).
    pub fn with_frame_comments(mut self, on: bool) -> Self {
        self.frame_comments = on;
        self
    }

    /// Writes one frame or marker as a packet.
    pub fn entry(&mut self, entry: &Entry) -> Result<(), PcapError> {
        let at_ns = self
            .started_unix_us
            .saturating_add(entry.t_us())
            .saturating_mul(1_000);
        let block = &mut self.block;
        match entry {
            Entry::Frame(event) => {
                self.frames += 1;
                start_packet(block, at_ns, &event.wire);
                put_option(block, OPT_FLAGS, &direction_flag(event.dir).to_ne_bytes());
                if self.frame_comments {
                    put_comment(block, |text| describe_to(text, event));
                }
            }
            Entry::Link(mark) => {
                start_packet(block, at_ns, &[]);
                put_comment(block, |text| write!(text, "penlab: {}", mark.describe()));
            }
        }
        end_block(block);
        self.out.write_all(block).map_err(PcapError::IoError)?;
        if self.flush_each {
            self.out.flush().map_err(PcapError::IoError)?;
        }
        Ok(())
    }

    /// Flushes `out` after every block from now on, as a live capture
    /// must; an export into a buffer leaves it to the buffer.
    pub fn flush_each_block(mut self) -> Result<Self, PcapError> {
        self.flush_each = true;
        self.out.flush().map_err(PcapError::IoError)?;
        Ok(self)
    }

    /// Frames written so far (markers not counted).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn put_u32(block: &mut Vec<u8>, value: u32) {
    block.extend_from_slice(&value.to_ne_bytes());
}

fn put_u16(block: &mut Vec<u8>, value: u16) {
    block.extend_from_slice(&value.to_ne_bytes());
}

/// Zeros up to the next multiple of four bytes.
fn pad_to_word(block: &mut Vec<u8>) {
    block.resize(block.len().next_multiple_of(4), 0);
}

/// Lays out an enhanced packet block up to its options, in the section's
/// (native) byte order: its length is filled in by [`end_block`]. `data`
/// is one frame, at most [`penlab_protocol::MAX_WIRE_FRAME`] bytes as the
/// timeline gives it, far within `u32`.
fn start_packet(block: &mut Vec<u8>, at_ns: u64, data: &[u8]) {
    block.clear();
    put_u32(block, ENHANCED_PACKET_BLOCK);
    put_u32(block, 0); // total length, filled in at the end
    put_u32(block, 0); // interface 0
    put_u32(block, (at_ns >> 32) as u32);
    put_u32(block, at_ns as u32);
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    put_u32(block, len); // captured
    put_u32(block, len); // original
    block.extend_from_slice(data);
    pad_to_word(block);
}

fn put_option(block: &mut Vec<u8>, code: u16, value: &[u8]) {
    put_u16(block, code);
    put_u16(block, value.len() as u16);
    block.extend_from_slice(value);
    pad_to_word(block);
}

/// A comment option whose text `write` writes straight into the block.
/// An option holds at most 65,535 bytes: a longer text is cut there, at a
/// character boundary.
fn put_comment(block: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
    let at = block.len();
    put_u16(block, OPT_COMMENT);
    put_u16(block, 0); // its length, filled in below
    let text = block.len();
    // Writing into memory does not fail.
    let _ = write(block);
    let mut len = block.len() - text;
    if len > usize::from(u16::MAX) {
        len = usize::from(u16::MAX);
        // Back to the start of the character that would be cut.
        while block.get(text + len).is_some_and(|b| b & 0xC0 == 0x80) {
            len -= 1;
        }
        block.truncate(text + len);
    }
    block[at + 2..at + 4].copy_from_slice(&(len as u16).to_ne_bytes());
    pad_to_word(block);
}

/// Ends the options and the block: its total length at both ends.
fn end_block(block: &mut Vec<u8>) {
    put_u16(block, OPT_END);
    put_u16(block, 0);
    let total = (block.len() + 4) as u32;
    block[4..8].copy_from_slice(&total.to_ne_bytes());
    put_u32(block, total);
}

/// A capture written live as pcapng: the bytes of each direction are
/// decoded as they pass and every whole frame is written as its packet
/// (bytes of a frame not yet whole wait in memory: at most one frame a
/// direction). Dropped, it writes the frames cut off at its end as errors.
pub struct PcapngCapture<W: Write> {
    /// Always set but while being given back.
    export: Option<PcapngExport<W>>,
    sides: [Side; 2],
    ready: VecDeque<Entry>,
    last_t: u64,
}

impl<W: Write> PcapngCapture<W> {
    /// Starts a pcapng capture with its section header and interface.
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        Ok(PcapngCapture {
            export: Some(
                PcapngExport::new(out, header)
                    .map(|export| export.with_frame_comments(true))
                    .and_then(PcapngExport::flush_each_block)
                    .map_err(to_io)?,
            ),
            sides: [
                Side::new(Direction::HostToPen),
                Side::new(Direction::PenToHost),
            ],
            ready: VecDeque::new(),
            last_t: 0,
        })
    }

    /// Takes bytes that crossed the link; writes the frames they complete.
    pub fn record(&mut self, t_us: u64, dir: Direction, bytes: &[u8]) -> io::Result<()> {
        self.last_t = t_us;
        let side = match dir {
            Direction::HostToPen => &mut self.sides[0],
            Direction::PenToHost => &mut self.sides[1],
        };
        side.feed(t_us, bytes, &mut self.ready);
        self.write_ready()
    }

    /// Marks the link going or coming; a frame cut by it is written as an
    /// error first.
    pub fn mark(&mut self, t_us: u64, event: LinkEvent, detail: Option<&str>) -> io::Result<()> {
        self.last_t = t_us;
        for side in &mut self.sides {
            side.finish(t_us, &mut self.ready);
        }
        self.ready.push_back(Entry::Link(Mark {
            t_us,
            event,
            detail: detail.map(str::to_owned),
        }));
        self.write_ready()
    }

    /// Writes the frames cut off where the capture ends, as errors.
    pub fn finish(&mut self) -> io::Result<()> {
        for side in &mut self.sides {
            side.finish(self.last_t, &mut self.ready);
        }
        self.write_ready()
    }

    /// Finishes (as well as it can) and gives back the underlying writer.
    pub fn into_inner(mut self) -> W {
        let _ = self.finish();
        match self.export.take() {
            Some(export) => export.into_inner(),
            None => unreachable!("the export is only taken here"),
        }
    }

    fn write_ready(&mut self) -> io::Result<()> {
        let Some(export) = self.export.as_mut() else {
            return Ok(());
        };
        while let Some(entry) = self.ready.pop_front() {
            export.entry(&entry).map_err(to_io)?;
        }
        Ok(())
    }
}

impl<W: Write> Drop for PcapngCapture<W> {
    fn drop(&mut self) {
        // Best effort: a failing file was reported on the last write.
        let _ = self.finish();
    }
}

fn to_io(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// Why a pcapng capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PcapngReadError {
    /// The file does not start with a readable section header.
    #[error("not a readable pcapng file: {0}")]
    NotPcapng(PcapError),
    /// A block that is not what its header says.
    #[error("byte {offset}: bad pcapng block: {error}")]
    BadBlock {
        /// Byte offset of the block in the file.
        offset: u64,
        /// What is wrong.
        error: PcapError,
    },
}

/// The frames and markers of a pcapng capture, read a block at a time.
/// Each packet's bytes are decoded again, so `replay` shows the same as
/// for the JSON-lines capture it came from. A block cut off at the end of
/// the file (a killed run) ends the stream and sets
/// [`PcapngEntries::truncated_tail`].
pub struct PcapngEntries<R: Read> {
    reader: PcapNgReader<R>,
    header: Header,
    /// Offset of the next block.
    offset: u64,
    /// Whether the header came from the file (else it is made up from the
    /// first interface and packet).
    known_header: bool,
    ready: VecDeque<Entry>,
    truncated_tail: bool,
    done: bool,
}

impl<R: io::BufRead> PcapngEntries<R> {
    /// Reads the section header; the capture header comes from its comment,
    /// or for a file penlab did not write from its first interface and
    /// packet.
    pub fn new(mut input: R) -> Result<Self, PcapngReadError> {
        let section_len = section_length(
            input
                .fill_buf()
                .map_err(|e| PcapngReadError::NotPcapng(PcapError::IoError(e)))?,
        );
        let reader = PcapNgReader::new(input).map_err(PcapngReadError::NotPcapng)?;
        let from_comment = reader.section().options.iter().find_map(|o| match o {
            SectionHeaderOption::Comment(c) => c
                .strip_prefix(HEADER_COMMENT)
                .and_then(|json| serde_json::from_str::<Header>(json).ok()),
            _ => None,
        });
        Ok(PcapngEntries {
            reader,
            known_header: from_comment.is_some(),
            header: from_comment.unwrap_or_else(|| Header::new("pcapng", 0, None)),
            offset: section_len,
            ready: VecDeque::new(),
            truncated_tail: false,
            done: false,
        })
    }
}

impl<R: Read> PcapngEntries<R> {
    /// The capture's header (made up for a file penlab did not write, once
    /// the first packet is read).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Whether the last block was cut off and skipped; known once the
    /// stream has ended.
    pub fn truncated_tail(&self) -> bool {
        self.truncated_tail
    }

    fn take(&mut self, block: Block<'_>) {
        match block {
            Block::InterfaceDescription(idb) if !self.known_header => {
                if let Some(name) = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                    _ => None,
                }) {
                    self.header.target = name;
                }
            }
            Block::EnhancedPacket(epb) => {
                let unix_us = epb.timestamp.as_micros() as u64;
                if !self.known_header {
                    self.header.started_unix_us = unix_us;
                    self.known_header = true;
                }
                let t_us = unix_us.saturating_sub(self.header.started_unix_us);
                let flags = epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Flags(f) => Some(*f & 0b11),
                    _ => None,
                });
                let dir = match flags {
                    Some(0b01) => Direction::PenToHost,
                    Some(0b10) => Direction::HostToPen,
                    _ => {
                        let mark = epb.options.iter().find_map(|o| match o {
                            EnhancedPacketOption::Comment(c) => c
                                .strip_prefix("penlab: ")
                                .and_then(|text| Mark::from_description(t_us, text)),
                            _ => None,
                        });
                        match mark {
                            Some(mark) if epb.data.is_empty() => {
                                self.ready.push_back(Entry::Link(mark));
                                return;
                            }
                            // No direction: taken as the pen's.
                            _ => Direction::PenToHost,
                        }
                    }
                };
                self.ready.extend(decode_packet_bytes(t_us, dir, &epb.data));
            }
            _ => {}
        }
    }
}

/// The events in one packet's bytes: one for a packet penlab wrote (a frame,
/// or the bytes that were an error in its place).
fn decode_packet_bytes(t_us: u64, dir: Direction, data: &[u8]) -> Vec<Entry> {
    let mut decoder = Decoder::new();
    let mut input = data;
    let mut entries = Vec::new();
    // Where the frame in progress started.
    let mut start = 0;
    while let Some(result) = decoder.decode_packet(&mut input) {
        let end = data.len() - input.len();
        entries.push(Entry::Frame(Event {
            t_us,
            dir,
            result,
            wire: data[start..end].to_vec(),
        }));
        start = end;
    }
    if let Some(error) = decoder.finish() {
        entries.push(Entry::Frame(Event {
            t_us,
            dir,
            result: Err(error),
            wire: data[start..].to_vec(),
        }));
    }
    entries
}

/// The length of the section header block at the start of `head` (the
/// first block's total length, in the byte order its magic says); 0 when
/// too short to say.
fn section_length(head: &[u8]) -> u64 {
    let (Some(len), Some(magic)) = (head.get(4..8), head.get(8..12)) else {
        return 0;
    };
    let len: [u8; 4] = len.try_into().unwrap_or_default();
    if magic == [0x4D, 0x3C, 0x2B, 0x1A] {
        u64::from(u32::from_le_bytes(len))
    } else {
        u64::from(u32::from_be_bytes(len))
    }
}

impl<R: Read> Iterator for PcapngEntries<R> {
    type Item = Result<Entry, PcapngReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Some(Ok(entry));
            }
            if self.done {
                return None;
            }
            let endianness = self.reader.section().endianness;
            let at = self.offset;
            let block = match self.reader.next_raw_block() {
                None => {
                    self.done = true;
                    continue;
                }
                Some(Ok(raw)) => {
                    self.offset += u64::from(raw.initial_len);
                    match endianness {
                        Endianness::Big => raw.try_into_block::<byteorder_slice::BigEndian>(),
                        Endianness::Little => raw.try_into_block::<byteorder_slice::LittleEndian>(),
                    }
                    .map(|b| b.into_owned())
                }
                Some(Err(PcapError::IoError(e))) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.done = true;
                    self.truncated_tail = true;
                    continue;
                }
                Some(Err(error)) => Err(error),
            };
            match block {
                Ok(block) => self.take(block),
                Err(error) => {
                    self.done = true;
                    return Some(Err(PcapngReadError::BadBlock { offset: at, error }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureWriter, entries};
    use penlab_protocol::MAX_WIRE_FRAME;
    use penlab_protocol::codec::encode_packet;
    use penlab_protocol::message::{Message, Packet, SetDepth};
    use std::time::Duration;

    fn wire(seq: u16, message: Message) -> Vec<u8> {
        let mut out = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(&Packet { seq, message }, &mut out).unwrap();
        out[..n].to_vec()
    }

    /// The same run written both ways: split reads, garbage, a gap with a
    /// frame cut by it, and a frame left unfinished at the end.
    fn both_ways() -> (Vec<u8>, Vec<u8>) {
        let header = Header::new("/dev/pen", 1_000_000, Some(115_200));
        let mut lines = CaptureWriter::new(Vec::new(), &header).unwrap();
        let mut pcap = CaptureWriter::pcapng(Vec::new(), &header).unwrap();
        let depth = wire(1, Message::SetDepth(SetDepth { depth_um: 1_250 }));
        let beat = wire(7, Message::Heartbeat);
        for w in [&mut lines, &mut pcap] {
            w.record(10, Direction::HostToPen, &depth[..4]).unwrap();
            w.record(20, Direction::HostToPen, &depth[4..]).unwrap();
            w.record(30, Direction::PenToHost, b"\x7f\x7f\x00").unwrap();
            w.record(40, Direction::PenToHost, &beat).unwrap();
            w.record(50, Direction::PenToHost, &beat[..3]).unwrap();
            w.mark(60, LinkEvent::Detached, Some("read: Input/output error"))
                .unwrap();
            w.mark(900, LinkEvent::Reattached, Some("/dev/pts/9"))
                .unwrap();
            w.record(950, Direction::PenToHost, &beat).unwrap();
            w.record(960, Direction::HostToPen, &depth[..5]).unwrap();
        }
        (lines.into_inner(), pcap.into_inner())
    }

    fn read_all(bytes: &[u8]) -> (Header, Vec<Entry>, bool) {
        let mut stream = entries(bytes).unwrap();
        let all = stream.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        (stream.header().clone(), all, stream.truncated_tail())
    }

    /// The blocks laid out here, byte for byte what pcap-file writes for
    /// the same packet: frames both ways with and without their comment,
    /// a marker, an empty frame, a comment over the 65,535 bytes an option
    /// holds (cut at a character boundary).
    #[test]
    fn packet_blocks_are_those_pcap_file_writes() {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use penlab_protocol::codec::DecodeError;
        use penlab_protocol::frame::FrameError;

        let header = Header::new("/dev/pen", 1_763_700_000_000_000, None);
        let frame = |t_us, dir, seq, wire: Vec<u8>| {
            let result = Ok(Packet {
                seq,
                message: Message::SetDepth(SetDepth { depth_um: 900 }),
            });
            Entry::Frame(Event {
                t_us,
                dir,
                result,
                wire,
            })
        };
        let long = Mark {
            t_us: 9,
            event: LinkEvent::Detached,
            detail: Some("é".repeat(40_000)),
        };
        let entries = [
            frame(0, Direction::HostToPen, 1, wire(1, Message::Heartbeat)),
            frame(5, Direction::PenToHost, 2, vec![0x7f, 0x7f, 0x00]),
            Entry::Frame(Event {
                t_us: 7,
                dir: Direction::PenToHost,
                result: Err(DecodeError::Frame(FrameError::TooShort { len: 0 })),
                wire: Vec::new(),
            }),
            Entry::Link(Mark {
                t_us: 8,
                event: LinkEvent::Reattached,
                detail: None,
            }),
            Entry::Link(long),
        ];
        for comments in [false, true] {
            let mut ours = PcapngExport::new(Vec::new(), &header)
                .unwrap()
                .with_frame_comments(comments);
            let head = ours.out.len();
            let section = SectionHeaderBlock {
                endianness: Endianness::native(),
                ..SectionHeaderBlock::default()
            };
            let mut theirs = PcapNgWriter::with_section_header(Vec::new(), section).unwrap();
            theirs
                .write_pcapng_block(InterfaceDescriptionBlock {
                    linktype: DataLink::USER0,
                    snaplen: 0,
                    options: vec![],
                })
                .unwrap();
            let their_head = theirs.get_ref().len();
            for entry in &entries {
                ours.entry(entry).unwrap();
                let timestamp = Duration::from_micros(header.started_unix_us + entry.t_us());
                let (data, mut options) = match entry {
                    Entry::Frame(e) => {
                        let mut options = vec![EnhancedPacketOption::Flags(direction_flag(e.dir))];
                        if comments {
                            options.push(EnhancedPacketOption::Comment(Cow::Owned(
                                crate::capture::describe(e),
                            )));
                        }
                        (&e.wire[..], options)
                    }
                    Entry::Link(m) => {
                        let text = format!("penlab: {}", m.describe());
                        (
                            &[][..],
                            vec![EnhancedPacketOption::Comment(Cow::Owned(text))],
                        )
                    }
                };
                if let Some(EnhancedPacketOption::Comment(c)) = options.last_mut()
                    && c.len() > 65_535
                {
                    let mut cut = 65_535;
                    while !c.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    *c = Cow::Owned(c[..cut].to_owned());
                }
                theirs
                    .write_block(&Block::EnhancedPacket(EnhancedPacketBlock {
                        interface_id: 0,
                        timestamp,
                        original_len: data.len() as u32,
                        data: Cow::Borrowed(data),
                        options,
                    }))
                    .unwrap();
            }
            let theirs = &theirs.get_ref()[their_head..];
            assert_eq!(&ours.out[head..], theirs, "comments {comments}");
        }
    }

    #[test]
    fn a_live_pcapng_capture_replays_as_its_json_lines_twin() {
        let (lines, pcap) = both_ways();
        assert!(pcap.starts_with(&MAGIC));
        let (h1, from_lines, _) = read_all(&lines);
        let (h2, from_pcap, cut) = read_all(&pcap);
        assert_eq!(h1, h2, "the header rides in the section comment");
        assert!(!cut);
        assert_eq!(from_lines, from_pcap);
        // Frames, the cut frame as an error at the gap, the markers, and
        // the frame left unfinished at the end as an error.
        assert_eq!(from_pcap.len(), 8, "{from_pcap:#?}");
    }

    #[test]
    fn a_pcapng_capture_cut_anywhere_reads_up_to_its_last_whole_block() {
        let (_, pcap) = both_ways();
        let (_, whole, _) = read_all(&pcap);
        let mut seen_cut = false;
        for len in 0..pcap.len() {
            let cut = &pcap[..len];
            let Ok(mut stream) = entries(cut) else {
                continue;
            };
            let got: Vec<Entry> = stream.by_ref().map(Result::unwrap).collect();
            assert_eq!(got[..], whole[..got.len()], "cut at {len}");
            seen_cut |= stream.truncated_tail();
        }
        assert!(seen_cut);
    }

    #[test]
    fn a_corrupt_block_is_named_by_its_offset() {
        let (_, mut pcap) = both_ways();
        let section = section_length(&pcap) as usize;
        let idb_len = u32::from_ne_bytes(pcap[section + 4..section + 8].try_into().unwrap());
        let epb = section + idb_len as usize;
        // The trailing length of the first packet block no longer matches.
        let epb_len = u32::from_ne_bytes(pcap[epb + 4..epb + 8].try_into().unwrap()) as usize;
        pcap[epb + epb_len - 4] ^= 0xff;
        let err = entries(&pcap[..])
            .unwrap()
            .find_map(Result::err)
            .expect("an error");
        assert!(
            err.to_string()
                .starts_with(&format!("byte {epb}: bad pcapng block")),
            "{err}"
        );
    }
}
