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
//!
//! [`write`] lays out the blocks (an export and a live capture), [`read`]
//! reads them back.

use penlab_protocol::message::Direction;

mod read;
mod write;

pub use read::{PcapngEntries, PcapngReadError};
pub use write::{PcapngCapture, PcapngExport};

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

#[cfg(test)]
mod tests;
