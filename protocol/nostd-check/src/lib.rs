//! Proof that the protocol core needs neither `std` nor an allocator: this
//! crate is `no_std`, defines its own panic handler and no global allocator,
//! and links the encoder, decoder (owned packets and borrowed views) and
//! message parser into a static library.
//! If any of them pulled in `std` (a second panic handler) or `alloc` (no
//! allocator to link), `cargo build -p penlab-protocol-nostd-check` fails.
#![no_std]
// `no_mangle` exports the symbol for a firmware's C side; it is the only
// unsafe attribute here.
#![allow(unsafe_code)]

use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::{Message, MessageView, Packet, PacketView, SetDepth};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Encodes a `SetDepth` command, decodes it back and returns the depth it
/// carried, or 0 on any failure.
#[unsafe(no_mangle)]
pub extern "C" fn penlab_round_trip_depth(depth_um: u16) -> u16 {
    let packet = Packet {
        seq: 1,
        message: Message::SetDepth(SetDepth { depth_um }),
    };
    let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
    let Ok(n) = encode_packet(&packet, &mut wire) else {
        return 0;
    };
    let mut decoder = Decoder::new();
    let mut input = &wire[..n];
    match decoder.decode_packet(&mut input) {
        Some(Ok(Packet {
            message: Message::SetDepth(d),
            ..
        })) => d.depth_um,
        _ => 0,
    }
}

/// The same round trip through the fast path: the decoded frame as a
/// borrowed view.
#[unsafe(no_mangle)]
pub extern "C" fn penlab_round_trip_depth_view(depth_um: u16) -> u16 {
    let packet = Packet {
        seq: 1,
        message: Message::SetDepth(SetDepth { depth_um }),
    };
    let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
    let Ok(n) = encode_packet(&packet, &mut wire) else {
        return 0;
    };
    let mut decoder = Decoder::new();
    let mut input = &wire[..n];
    match decoder.decode_view(&mut input) {
        Some(Ok(PacketView {
            message: MessageView::SetDepth(d),
            ..
        })) => d.depth_um,
        _ => 0,
    }
}
