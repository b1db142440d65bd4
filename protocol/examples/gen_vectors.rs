//! Regenerates `protocol/vectors/vectors.json`:
//!
//! ```text
//! cargo run -p penlab-protocol --example gen_vectors > protocol/vectors/vectors.json
//! python3 protocol/vectors/check.py protocol/vectors/vectors.json
//! ```
//!
//! The encoder writes the bytes; `check.py`, an independent decoder written
//! from `PROTOCOL.md` alone, checks them against the decoded meaning, and the
//! crate's tests check the decoder against both. Review a diff of the JSON
//! before committing it.

use penlab_protocol::codec::{Decoder, encode_frame, encode_packet};
use penlab_protocol::message::{Message, Packet, SetDepth};
use penlab_protocol::{MAX_FRAME, MAX_WIRE_FRAME, checksum, samples};
use serde_json::{Value, json};

fn wire(packet: &Packet) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE_FRAME];
    let n = encode_packet(packet, &mut out).expect("samples fit a frame");
    out[..n].to_vec()
}

/// A frame with a valid CRC around arbitrary type and payload bytes.
fn raw_frame(msg_type: u8, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut raw = vec![msg_type];
    raw.extend_from_slice(&seq.to_le_bytes());
    raw.extend_from_slice(payload);
    raw.extend_from_slice(&checksum::crc32c(&raw).to_le_bytes());
    raw
}

fn cobs(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; MAX_WIRE_FRAME * 2];
    let n = encode_frame(raw, &mut out).expect("fits");
    out.truncate(n);
    out
}

/// What the reference decoder makes of `bytes`, as vector expectations.
fn expectations(bytes: &[u8]) -> Vec<Value> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    decoder.feed(bytes, |r| {
        out.push(match r {
            Ok(p) => json!({ "packet": p }),
            Err(e) => json!({ "error": e.code(), "detail": e }),
        })
    });
    if let Some(e) = decoder.finish() {
        out.push(json!({ "error": e.code(), "detail": e }));
    }
    out
}

fn vector(name: &str, description: &str, bytes: &[u8]) -> Value {
    json!({
        "name": name,
        "description": description,
        "wire": hex::encode(bytes),
        "expect": expectations(bytes),
    })
}

fn main() {
    let mut vectors = Vec::new();
    let samples = samples::every_message();
    for (i, message) in samples.iter().enumerate() {
        let packet = Packet {
            seq: 0x0100 + i as u16,
            message: message.clone(),
        };
        let name = format!("message_{}", message.msg_type().name());
        let description = format!("One {} frame, every field set.", message.msg_type().name());
        vectors.push(vector(&name, &description, &wire(&packet)));
    }

    let depth = |seq, depth_um| Packet {
        seq,
        message: Message::SetDepth(SetDepth { depth_um }),
    };
    let good = wire(&depth(7, 1_500));
    let next = wire(&depth(8, 1_750));
    let cat = |parts: &[&[u8]]| parts.concat();

    vectors.push(vector(
        "stream_back_to_back",
        "Two frames with one delimiter between them.",
        &cat(&[&good, &next]),
    ));
    vectors.push(vector(
        "stream_idle_delimiters",
        "Extra delimiters before and between frames are idle line, not frames.",
        &cat(&[&[0, 0], &good, &[0, 0, 0], &next]),
    ));

    let mut raw = raw_frame(0x02, 7, &1_500u16.to_le_bytes());
    let last = raw.len() - 1;
    raw[last] ^= 0x01;
    vectors.push(vector(
        "crc_wrong",
        "A SetDepth frame whose CRC has its lowest bit flipped, then a good frame.",
        &cat(&[&cobs(&raw), &next]),
    ));
    let mut raw = raw_frame(0x02, 7, &1_500u16.to_le_bytes());
    raw[3] ^= 0x10;
    vectors.push(vector(
        "payload_bit_flip",
        "A SetDepth frame with one payload bit flipped after the CRC was computed.",
        &cat(&[&cobs(&raw), &next]),
    ));
    vectors.push(vector(
        "invalid_cobs",
        "A code byte that promises four data bytes before a delimiter that comes after two.",
        &cat(&[&[0x05, 0x11, 0x22, 0x00], &next]),
    ));
    vectors.push(vector(
        "too_short",
        "A well-encoded frame of three bytes: no room for a header and CRC.",
        &cat(&[&cobs(&[0x02, 0x07, 0x00]), &next]),
    ));
    vectors.push(vector(
        "garbage_then_frame",
        "Line noise (no delimiter inside) ended by a delimiter, then a good frame.",
        &cat(&[b"\x7f\xfe\x13\x37\xc0\xde", &[0], &next]),
    ));
    vectors.push(vector(
        "lost_delimiter",
        "A frame whose delimiter was lost runs into the next: both are lost, the third decodes.",
        &cat(&[&good[..good.len() - 1], &next, &wire(&depth(9, 2_000))]),
    ));
    let mut lost = good.clone();
    lost.remove(3);
    vectors.push(vector(
        "lost_byte",
        "A frame missing one byte from its middle, then a good frame.",
        &cat(&[&lost, &next]),
    ));
    vectors.push(vector(
        "restart_mid_frame",
        "A sender cut off mid-frame restarts with a delimiter, as PROTOCOL.md requires.",
        &cat(&[&good[..4], &[0], &next]),
    ));
    vectors.push(vector(
        "oversize",
        "300 bytes without a delimiter: refused before buffering, then a good frame.",
        &cat(&[&[0x55; 300], &[0], &next]),
    ));
    vectors.push(vector(
        "too_long",
        "A valid COBS body that decodes to 257 bytes, one over the maximum frame.",
        &cat(&[&cobs(&raw_frame(0x02, 7, &[0x11; MAX_FRAME - 6])), &next]),
    ));
    vectors.push(vector(
        "truncated_at_end",
        "A good frame, then the stream ends inside the next: `truncated` can only end a stream, so no frame follows it.",
        &cat(&[&next, &good[..5]]),
    ));
    vectors.push(vector(
        "unknown_type",
        "A frame of type 0x7e that this version does not define, sound CRC: reported and skipped.",
        &cat(&[&cobs(&raw_frame(0x7e, 7, &[1, 2, 3])), &next]),
    ));
    vectors.push(vector(
        "trailing_bytes",
        "A SetDepth with one byte after its last field, then a good frame.",
        &cat(&[&cobs(&raw_frame(0x02, 7, &[0xdc, 0x05, 0x00])), &next]),
    ));
    vectors.push(vector(
        "field_truncated",
        "A SetDepth whose payload ends inside `depth_um`, then a good frame.",
        &cat(&[&cobs(&raw_frame(0x02, 7, &[0xdc])), &next]),
    ));
    vectors.push(vector(
        "unit_message_with_payload",
        "A Start carrying a byte, where it carries none, then a good frame.",
        &cat(&[&cobs(&raw_frame(0x04, 7, &[0x01])), &next]),
    ));
    vectors.push(vector(
        "enum_out_of_range",
        "A Status whose `state` is 9, which names no state, then a good frame.",
        &cat(&[
            &cobs(&raw_frame(0x84, 7, &[9, 0xe2, 0x04, 0xb4, 0x2d, 1, 0, 0])),
            &next,
        ]),
    ));
    vectors.push(vector(
        "bool_not_0_or_1",
        "A Fault whose `active` is 2, then a good frame.",
        &cat(&[&cobs(&raw_frame(0x88, 7, &[2, 2, 0x90, 0x03])), &next]),
    ));
    vectors.push(vector(
        "open_enum_unknown_code",
        "A Nack with reason 200: a newer pen's reason, kept as `other`.",
        &cobs(&raw_frame(0x81, 7, &[0x02, 0x01, 0x02, 200])),
    ));
    vectors.push(vector(
        "text_not_utf8",
        "An Identity whose model is not UTF-8, then a good frame.",
        &cat(&[
            &cobs(&raw_frame(
                0x82,
                7,
                &[1, 0, 2, 0xff, 0xfe, 1, b'1', 1, b'S'],
            )),
            &next,
        ]),
    ));
    vectors.push(vector(
        "text_too_long",
        "An Identity whose model claims 25 bytes, one over the limit, then a good frame.",
        &cat(&[
            &cobs(&raw_frame(
                0x82,
                7,
                &[&[1u8, 0, 25][..], &[b'm'; 25], &[1, b'1', 1, b'S']].concat(),
            )),
            &next,
        ]),
    ));
    vectors.push(vector(
        "strike_count_over_capacity",
        "A StrikeBatch that claims 61 strikes, one over the limit, then a good frame.",
        &cat(&[
            &cobs(&raw_frame(
                0x86,
                7,
                &[0, 0, 0, 0, 0, 0, 0, 0, 61, 0, 0, 0, 0],
            )),
            &next,
        ]),
    ));

    let doc = json!({
        "about": "penlab protocol test vectors: the bytes on the wire (hex, COBS-encoded frames with their 0x00 delimiters) and what a decoder must make of them, in order (PROTOCOL.md §13, R-VEC-1). `packet` is a decoded frame; `error` is the code of the error reported in its place, `detail` its fields. Every error is followed by a good frame, which the decoder must decode (it is back in step), except `truncated`, which ends its stream and follows a good frame. Generated by protocol/examples/gen_vectors.rs, checked independently by protocol/vectors/check.py.",
        "protocol": { "major": penlab_protocol::PROTOCOL_MAJOR, "minor": penlab_protocol::PROTOCOL_MINOR },
        "crc": "CRC-32/ISCSI",
        "max_frame": MAX_FRAME,
        "vectors": vectors,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("serialisable")
    );
}
