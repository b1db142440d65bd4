//! The telemetry budget in `PROTOCOL.md`: full telemetry at the highest rate
//! (150 Hz, any cartridge up to 42 needles, pose at 60 Hz) must need less
//! than half of a 115,200-baud 8N1 UART. Counted on real encoded frames.

use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::samples;

/// 8N1: ten bit times a byte.
const UART_BYTES_PER_SECOND: usize = 115_200 / 10;

fn bytes_for_one_second(rate_chz: u16) -> usize {
    let mut out = [0u8; MAX_WIRE_FRAME];
    samples::telemetry_second(rate_chz, 0, 0)
        .map(|p| encode_packet(&p, &mut out).unwrap())
        .sum()
}

#[test]
fn full_telemetry_at_150_hz_fits_in_half_the_uart() {
    let bytes = bytes_for_one_second(15_000);
    // The figure PROTOCOL.md quotes; update both together.
    assert_eq!(
        bytes, 3_328,
        "PROTOCOL.md's telemetry budget is out of date"
    );
    assert!(
        bytes * 2 < UART_BYTES_PER_SECOND,
        "{bytes} B/s is not under half of {UART_BYTES_PER_SECOND}"
    );
}

#[test]
fn strikes_are_per_stroke_not_per_needle() {
    // A 42-needle nano cartridge strikes as one: the strike records of one
    // second at 150 Hz are 150 records, not 6,300.
    let strikes: usize = samples::telemetry_second(15_000, 0, 0)
        .filter_map(|p| match p.message {
            penlab_protocol::message::Message::StrikeBatch(b) => Some(b.strikes.len()),
            _ => None,
        })
        .sum();
    assert_eq!(strikes, 150);
}
