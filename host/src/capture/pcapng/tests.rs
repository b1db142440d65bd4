use std::borrow::Cow;

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;
use pcap_file::pcapng::{Block, PcapNgWriter};
use pcap_file::{DataLink, Endianness};
use penlab_protocol::message::Direction;

use super::read::section_length;
use super::*;
use crate::capture::timeline::{Entry, Event, Mark};
use crate::capture::{CaptureWriter, entries};
use crate::capture::{Header, LinkEvent};
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
