//! Runs every vector in `vectors/vectors.json`: whole, split at every point,
//! and one byte at a time; and re-encodes every single-packet vector to the
//! exact bytes.

use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::Packet;
use serde_json::{Value, json};

struct Vector {
    name: String,
    wire: Vec<u8>,
    expect: Vec<Value>,
}

fn vectors() -> Vec<Vector> {
    let doc: Value =
        serde_json::from_str(include_str!("../vectors/vectors.json")).expect("vectors.json parses");
    doc["vectors"]
        .as_array()
        .expect("a vectors array")
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            wire: hex::decode(v["wire"].as_str().unwrap()).unwrap(),
            expect: v["expect"].as_array().unwrap().clone(),
        })
        .collect()
}

/// Decodes `chunks` in order and describes each output as the vectors do.
fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Value> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk, |r| {
            out.push(match r {
                Ok(p) => json!({ "packet": p }),
                Err(e) => json!({ "error": e.code(), "detail": e }),
            })
        });
    }
    if let Some(e) = decoder.finish() {
        out.push(json!({ "error": e.code(), "detail": e }));
    }
    out
}

#[test]
fn there_is_a_vector_for_every_message_type_and_error() {
    let all = vectors();
    for ty in penlab_protocol::message::MessageType::ALL {
        assert!(
            all.iter()
                .any(|v| v.name == format!("message_{}", ty.name())),
            "no vector for {ty}"
        );
    }
    let codes: Vec<&str> = all
        .iter()
        .flat_map(|v| v.expect.iter().filter_map(|e| e["error"].as_str()))
        .collect();
    for code in [
        "oversize",
        "cobs",
        "too_short",
        "too_long",
        "crc_mismatch",
        "unknown_type",
        "malformed",
        "trailing_bytes",
        "truncated",
    ] {
        assert!(codes.contains(&code), "no vector reports `{code}`");
    }
}

#[test]
fn whole_stream() {
    for v in vectors() {
        assert_eq!(decode_chunks([&v.wire[..]]), v.expect, "vector {}", v.name);
    }
}

#[test]
fn every_split_point() {
    for v in vectors() {
        for at in 0..=v.wire.len() {
            let (a, b) = v.wire.split_at(at);
            assert_eq!(
                decode_chunks([a, b]),
                v.expect,
                "vector {} split at {at}",
                v.name
            );
        }
    }
}

#[test]
fn one_byte_at_a_time() {
    for v in vectors() {
        assert_eq!(
            decode_chunks(v.wire.chunks(1)),
            v.expect,
            "vector {}",
            v.name
        );
    }
}

#[test]
fn packets_encode_to_the_vector_bytes() {
    let mut checked = 0;
    for v in vectors() {
        let [only] = &v.expect[..] else { continue };
        let Some(packet) = only.get("packet") else {
            continue;
        };
        let packet: Packet = serde_json::from_value(packet.clone()).unwrap();
        let mut out = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(&packet, &mut out).unwrap();
        assert_eq!(
            hex::encode(&out[..n]),
            hex::encode(&v.wire),
            "vector {}",
            v.name
        );
        checked += 1;
    }
    assert!(checked >= 19, "only {checked} single-packet vectors");
}

#[test]
fn every_error_is_followed_by_a_good_frame() {
    // PROTOCOL.md §13: each error vector shows the decoder back in step;
    // `truncated` ends its stream, after a good frame.
    for v in vectors() {
        let e = &v.expect;
        for (i, item) in e.iter().enumerate() {
            let Some(code) = item["error"].as_str() else {
                continue;
            };
            let is_packet = |j: usize| e.get(j).is_some_and(|x| x.get("packet").is_some());
            if code == "truncated" {
                assert_eq!(i + 1, e.len(), "vector {}: truncated not last", v.name);
                assert!(
                    i > 0 && is_packet(i - 1),
                    "vector {}: no good frame before",
                    v.name
                );
            } else {
                assert!(
                    is_packet(i + 1),
                    "vector {}: {code} not followed by a good frame",
                    v.name
                );
            }
        }
    }
}
