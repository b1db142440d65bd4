//! The fast path agrees with the full one, on arbitrary input.
//!
//! - Messages: `MessageView::parse` accepts exactly what `Message::parse`
//!   (the full `nom` parser) accepts, gives the same message, and refuses
//!   the rest with the same error: on valid payloads, damaged ones (bytes
//!   changed, cut short, lengthened) and noise.
//! - Streams: `Decoder::decode_view` and `Decoder::decode_packet` give, for
//!   any chunking, what a plain reference model gives: split the stream at
//!   every `0x00`, decode each piece with the `cobs` crate, parse it with
//!   `Packet::parse`. The streams are valid frames with noise, bit flips and
//!   lost bytes, and pure noise.

use heapless::String as HString;
use penlab_protocol::codec::{DecodeError, Decoder, encode_packet};
use penlab_protocol::frame::Frame;
use penlab_protocol::message::*;
use penlab_protocol::{MAX_ENCODED_FRAME, MAX_WIRE_FRAME, samples};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = HString<MAX_TEXT>> {
    "[a-zA-Z0-9 .+ü€-]{0,30}".prop_map(|s| {
        let mut out = HString::new();
        for c in s.chars() {
            if out.push(c).is_err() {
                break;
            }
        }
        out
    })
}

/// Valid messages of every type, with the variable parts varied.
fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        prop::sample::select(samples::every_message().to_vec()),
        (
            any::<u32>(),
            any::<u32>(),
            0..=MAX_STRIKES,
            1u16..,
            any::<u16>()
        )
            .prop_map(|(first, time, count, rate, depth)| {
                Message::StrikeBatch(samples::strike_batch(first, time, count, rate, depth))
            }),
        (any::<u8>(), any::<u8>(), text(), text(), text()).prop_map(
            |(protocol_major, protocol_minor, model, firmware, serial)| {
                Message::Identity(Identity {
                    protocol_major,
                    protocol_minor,
                    model,
                    firmware,
                    serial,
                })
            }
        ),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    (any::<u16>(), message()).prop_map(|(seq, message)| Packet { seq, message })
}

fn payload(message: &Message) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = message.emit(&mut buf).expect("fits");
    buf[..n].to_vec()
}

/// What can happen to a payload or a stream on the way.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Xor(prop::sample::Index, u8),
    Cut(prop::sample::Index),
    Extend(Vec<u8>),
    Remove(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::None),
        (any::<prop::sample::Index>(), 1u8..).prop_map(|(at, x)| Damage::Xor(at, x)),
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(Damage::Extend),
        any::<prop::sample::Index>().prop_map(Damage::Remove),
    ]
}

fn apply(damage: &Damage, bytes: &mut Vec<u8>) {
    match damage {
        Damage::None => {}
        Damage::Xor(_, _) | Damage::Cut(_) | Damage::Remove(_) if bytes.is_empty() => {}
        Damage::Xor(at, x) => {
            let at = at.index(bytes.len());
            bytes[at] ^= x;
        }
        Damage::Cut(at) => bytes.truncate(at.index(bytes.len())),
        Damage::Extend(more) => bytes.extend_from_slice(more),
        Damage::Remove(at) => {
            bytes.remove(at.index(bytes.len()));
        }
    }
}

fn assert_same_parse(msg_type: u8, payload: &[u8]) -> Result<(), TestCaseError> {
    let full = Message::parse(msg_type, payload);
    let view = MessageView::parse(msg_type, payload);
    prop_assert_eq!(
        view.as_ref().map(MessageView::to_message).map_err(|e| *e),
        full.clone(),
        "type {:#04x}, payload {:02x?}",
        msg_type,
        payload
    );
    if let Ok(view) = view {
        prop_assert_eq!(view.msg_type().code(), msg_type);
        prop_assert_eq!(Message::from(view), full.unwrap());
    }
    Ok(())
}

/// The reference: every piece between delimiters on its own, with the
/// `cobs` crate and the full parser.
fn reference(stream: &[u8]) -> Vec<Result<Packet, DecodeError>> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = stream.split(|&b| b == 0).collect();
    let unfinished = pieces.pop().unwrap_or_default();
    for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
        out.push(reference_frame(piece));
    }
    if unfinished.len() > MAX_ENCODED_FRAME {
        out.push(Err(DecodeError::Oversize {
            limit: MAX_ENCODED_FRAME,
        }));
    } else if !unfinished.is_empty() {
        out.push(Err(DecodeError::Truncated {
            len: unfinished.len(),
        }));
    }
    out
}

fn reference_frame(piece: &[u8]) -> Result<Packet, DecodeError> {
    if piece.len() > MAX_ENCODED_FRAME {
        return Err(DecodeError::Oversize {
            limit: MAX_ENCODED_FRAME,
        });
    }
    let mut decoded = piece.to_vec();
    let len =
        cobs::decode_in_place(&mut decoded).map_err(|_| DecodeError::Cobs { len: piece.len() })?;
    let frame = Frame::new_checked(&decoded[..len]).map_err(DecodeError::Frame)?;
    Packet::parse(&frame).map_err(DecodeError::from)
}

/// `stream` cut at `cuts`, through the view path and the packet path.
fn decode_both(
    stream: &[u8],
    cuts: &[usize],
) -> Result<Vec<Result<Packet, DecodeError>>, TestCaseError> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.extend([0, stream.len()]);
    points.sort_unstable();
    let (mut views, mut packets) = (Vec::new(), Vec::new());
    let (mut by_view, mut by_packet) = (Decoder::new(), Decoder::new());
    for pair in points.windows(2) {
        let chunk = &stream[pair[0]..pair[1]];
        by_view.feed_views(chunk, |r| views.push(r.map(|v| v.to_packet())));
        by_packet.feed(chunk, |r| packets.push(r));
        prop_assert!(by_view.pending() <= MAX_ENCODED_FRAME);
    }
    views.extend(by_view.finish().map(Err));
    packets.extend(by_packet.finish().map(Err));
    prop_assert_eq!(&views, &packets);
    prop_assert_eq!(by_view.stats(), by_packet.stats());
    let stats = by_view.stats();
    prop_assert_eq!(stats.bytes, stream.len() as u64);
    prop_assert_eq!(
        stats.errors,
        views.iter().filter(|r| r.is_err()).count() as u64
    );
    Ok(views)
}

fn wire(p: &Packet) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE_FRAME];
    let n = encode_packet(p, &mut out).expect("fits");
    out[..n].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_048))]

    #[test]
    fn views_parse_as_the_full_parser_on_damaged_payloads(m in message(), d in damage()) {
        let mut bytes = payload(&m);
        apply(&d, &mut bytes);
        assert_same_parse(m.msg_type().code(), &bytes)?;
    }

    #[test]
    fn views_parse_as_the_full_parser_on_noise(msg_type in any::<u8>(), bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        assert_same_parse(msg_type, &bytes)?;
        // Noise under every type code, too.
        for ty in MessageType::ALL {
            assert_same_parse(ty.code(), &bytes)?;
        }
    }

    #[test]
    fn streams_decode_as_the_reference(
        ps in prop::collection::vec(packet(), 0..10),
        noise in prop::collection::vec(any::<u8>(), 0..300),
        noise_at in any::<prop::sample::Index>(),
        damage in prop::collection::vec(damage(), 0..3),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut stream = Vec::new();
        let noise_at = noise_at.index(ps.len() + 1);
        for (i, p) in ps.iter().enumerate() {
            if i == noise_at {
                stream.extend_from_slice(&noise);
            }
            stream.extend(wire(p));
        }
        for d in &damage {
            apply(d, &mut stream);
        }
        let decoded = decode_both(&stream, &cuts)?;
        prop_assert_eq!(&decoded, &reference(&stream));
        if damage.iter().all(|d| matches!(d, Damage::None)) && (noise.is_empty() || noise_at == ps.len()) {
            let clean: Vec<_> = decoded.iter().filter_map(|r| r.as_ref().ok()).cloned().collect();
            prop_assert_eq!(clean, ps);
        }
    }

    #[test]
    fn noise_decodes_as_the_reference(
        bytes in prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(0u8)], 0..1_500),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        prop_assert_eq!(decode_both(&bytes, &cuts)?, reference(&bytes));
    }
}

#[test]
fn the_reference_is_not_trivial() {
    // A clean stream decodes to its packets, a damaged one to errors.
    let ps: Vec<Packet> = samples::telemetry_second(15_000, 0, 0).collect();
    let stream: Vec<u8> = ps.iter().flat_map(wire).collect();
    let ok: Vec<_> = reference(&stream).into_iter().map(Result::unwrap).collect();
    assert_eq!(ok, ps);
    let mut damaged = stream.clone();
    damaged[5] ^= 0x40;
    assert!(reference(&damaged)[0].is_err());
    assert_eq!(
        decode_both(&damaged, &[7, 900]).unwrap(),
        reference(&damaged)
    );
}
