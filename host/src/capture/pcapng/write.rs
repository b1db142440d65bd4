//! pcapng blocks written: an export of a capture's entries, and a live
//! capture decoding the bytes as they pass.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, Write};

use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness, PcapError};
use penlab_protocol::message::Direction;

use crate::capture::timeline::{Entry, Mark, Side, describe_to};
use crate::capture::{Header, LinkEvent};

use super::{HEADER_COMMENT, direction_flag};

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
    pub(super) out: W,
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
