//! pcapng captures read back into entries, a block at a time.

use std::collections::VecDeque;
use std::io::{self, Read};

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::blocks::section_header::SectionHeaderOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{Endianness, PcapError};
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::Direction;

use crate::capture::Header;
use crate::capture::timeline::{Entry, Event, Mark};

use super::HEADER_COMMENT;

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
pub(super) fn section_length(head: &[u8]) -> u64 {
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
