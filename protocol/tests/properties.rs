//! Property tests: every message round-trips; any chunking of a stream gives
//! the same packets; garbage, bit flips and lost bytes cost only the frames
//! they touch; and no input makes the decoder panic or outgrow its bound.

use heapless::{String as HString, Vec as HVec};
use penlab_protocol::codec::{DecodeError, Decoder, encode_packet};
use penlab_protocol::message::*;
use penlab_protocol::{MAX_ENCODED_FRAME, MAX_WIRE_FRAME};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = HString<MAX_TEXT>> {
    any::<String>().prop_map(|s| {
        let mut out = HString::new();
        for c in s.chars() {
            if out.push(c).is_err() {
                break;
            }
        }
        out
    })
}

fn nack_reason() -> impl Strategy<Value = NackReason> {
    any::<u8>().prop_map(NackReason::from_code)
}

fn fault_code() -> impl Strategy<Value = FaultCode> {
    any::<u8>().prop_map(FaultCode::from_code)
}

fn one_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

fn strikes() -> impl Strategy<Value = HVec<Strike, MAX_STRIKES>> {
    prop::collection::vec((any::<u16>(), any::<u16>()), 0..=MAX_STRIKES).prop_map(|v| {
        v.into_iter()
            .map(|(offset_10us, depth_um)| Strike {
                offset_10us,
                depth_um,
            })
            .collect()
    })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u8>(), any::<u8>())
            .prop_map(|(major, minor)| Message::Hello(Hello { major, minor })),
        any::<u16>().prop_map(|depth_um| Message::SetDepth(SetDepth { depth_um })),
        any::<u16>().prop_map(|rate_chz| Message::SetRate(SetRate { rate_chz })),
        Just(Message::Start),
        Just(Message::Stop),
        Just(Message::EmergencyStop),
        Just(Message::StatusRequest),
        Just(Message::Heartbeat),
        (any::<u16>(), any::<u8>())
            .prop_map(|(ack_seq, command)| Message::Ack(Ack { ack_seq, command })),
        (any::<u16>(), any::<u8>(), nack_reason()).prop_map(|(ack_seq, command, reason)| {
            Message::Nack(Nack {
                ack_seq,
                command,
                reason,
            })
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
        (
            any::<[u16; 7]>(),
            any::<u8>(),
            any::<[u16; 3]>(),
            any::<u8>()
        )
            .prop_map(|(a, needle_count, b, features)| {
                Message::Capabilities(Capabilities {
                    depth_min_um: a[0],
                    depth_max_um: a[1],
                    depth_step_um: a[2],
                    labelled_max_depth_um: a[3],
                    rate_min_chz: a[4],
                    rate_max_chz: a[5],
                    rate_step_chz: a[6],
                    needle_count,
                    max_current_ma: b[0],
                    watchdog_timeout_ms: b[1],
                    telemetry_period_ms: b[2],
                    features,
                })
            }),
        (
            one_of(DeviceState::ALL),
            any::<u16>(),
            any::<u16>(),
            one_of(CartridgeState::ALL),
            any::<u16>()
        )
            .prop_map(
                |(state, depth_set_um, rate_set_chz, cartridge, active_faults)| {
                    Message::Status(Status {
                        state,
                        depth_set_um,
                        rate_set_chz,
                        cartridge,
                        active_faults,
                    })
                }
            ),
        (
            any::<u32>(),
            any::<[u16; 4]>(),
            any::<u8>(),
            any::<u16>(),
            any::<i16>()
        )
            .prop_map(|(time_us, a, battery_pct, battery_mv, temperature_dc)| {
                Message::Telemetry(Telemetry {
                    time_us,
                    depth_um: a[0],
                    rate_chz: a[1],
                    current_ma: a[2],
                    force_mn: a[3],
                    battery_pct,
                    battery_mv,
                    temperature_dc,
                })
            }),
        (any::<u32>(), any::<u32>(), strikes()).prop_map(|(first_strike, time_us, strikes)| {
            Message::StrikeBatch(StrikeBatch {
                first_strike,
                time_us,
                strikes,
            })
        }),
        (any::<u32>(), any::<[i32; 3]>(), any::<[i16; 4]>()).prop_map(
            |(time_us, position_um, orientation_q15)| {
                Message::Pose(Pose {
                    time_us,
                    position_um,
                    orientation_q15,
                })
            }
        ),
        (fault_code(), any::<bool>(), any::<u16>()).prop_map(|(code, active, detail)| {
            Message::Fault(Fault {
                code,
                active,
                detail,
            })
        }),
        (one_of(CartridgeEventKind::ALL), any::<u32>(), any::<u8>()).prop_map(
            |(event, cartridge_id, needle_count)| {
                Message::Cartridge(CartridgeEvent {
                    event,
                    cartridge_id,
                    needle_count,
                })
            }
        ),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    (any::<u16>(), message()).prop_map(|(seq, message)| Packet { seq, message })
}

fn wire(p: &Packet) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE_FRAME];
    let n = encode_packet(p, &mut out).expect("every message fits a frame");
    out[..n].to_vec()
}

/// Decodes `bytes` cut at `cuts` (positions, any order, may repeat).
fn decode(bytes: &[u8], cuts: &[usize]) -> (Vec<Packet>, Vec<DecodeError>) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    let mut decoder = Decoder::new();
    let (mut packets, mut errors) = (Vec::new(), Vec::new());
    for pair in points.windows(2) {
        decoder.feed(&bytes[pair[0]..pair[1]], |r| match r {
            Ok(p) => packets.push(p),
            Err(e) => errors.push(e),
        });
        assert!(decoder.pending() <= MAX_ENCODED_FRAME);
    }
    errors.extend(decoder.finish());
    (packets, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_048))]

    #[test]
    fn every_message_round_trips(p in packet()) {
        let (packets, errors) = decode(&wire(&p), &[]);
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(packets, vec![p]);
    }

    #[test]
    fn chunking_does_not_matter(ps in prop::collection::vec(packet(), 1..12), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let stream: Vec<u8> = ps.iter().flat_map(wire).collect();
        let (packets, errors) = decode(&stream, &cuts);
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(packets, ps);
    }

    /// Noise before a frame costs that frame at most (a delimiter ends the
    /// noise, or the noise merges into the frame); every other frame arrives.
    #[test]
    fn garbage_costs_only_the_next_frame(
        ps in prop::collection::vec(packet(), 2..8),
        noise in prop::collection::vec(any::<u8>(), 1..400),
        at in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let victim = at.index(ps.len());
        let mut stream = Vec::new();
        for (i, p) in ps.iter().enumerate() {
            if i == victim {
                stream.extend_from_slice(&noise);
            }
            stream.extend(wire(p));
        }
        let (packets, errors) = decode(&stream, &cuts);
        let mut expected: Vec<Packet> = ps.clone();
        let mut without_victim = ps.clone();
        without_victim.remove(victim);
        // Noise may merge into the victim or end with a delimiter; either way
        // no invented packet appears, and the others all arrive in order.
        let kept_victim = packets == expected;
        expected.remove(victim);
        let contains_rest = is_subsequence(&without_victim, &packets);
        prop_assert!(kept_victim || contains_rest, "lost more than the victim: {packets:?}");
        prop_assert!(packets.iter().all(|p| ps.contains(p)), "invented a packet");
        prop_assert!(packets.len() >= ps.len() - 1);
        prop_assert!(!errors.is_empty() || kept_victim);
    }

    /// One flipped bit loses the frame it is in (two if it hits a delimiter
    /// and joins them); every other frame arrives, and an error is reported.
    #[test]
    fn a_bit_flip_costs_only_its_frames(
        ps in prop::collection::vec(packet(), 1..8),
        bit in any::<prop::sample::Index>(),
    ) {
        let frames: Vec<Vec<u8>> = ps.iter().map(wire).collect();
        let mut stream: Vec<u8> = frames.concat();
        let bit = bit.index(stream.len() * 8);
        stream[bit / 8] ^= 1 << (bit % 8);
        let (packets, errors) = decode(&stream, &[]);
        let hit = frame_at(&frames, bit / 8);
        let delimiter_hit = bit / 8 == frames[..=hit].iter().map(Vec::len).sum::<usize>() - 1;
        let survivors: Vec<Packet> = ps
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != hit && !(delimiter_hit && *i == hit + 1))
            .map(|(_, p)| p.clone())
            .collect();
        prop_assert!(is_subsequence(&survivors, &packets), "lost an untouched frame");
        prop_assert!(!packets.contains(&ps[hit]) || ps.iter().filter(|p| **p == ps[hit]).count() > 1);
        prop_assert!(!errors.is_empty(), "a flipped bit went unreported");
    }

    /// A byte lost from the middle of a frame costs that frame only.
    #[test]
    fn a_lost_byte_costs_only_its_frame(
        ps in prop::collection::vec(packet(), 1..8),
        at in any::<prop::sample::Index>(),
    ) {
        let frames: Vec<Vec<u8>> = ps.iter().map(wire).collect();
        let mut stream: Vec<u8> = frames.concat();
        let at = at.index(stream.len());
        let hit = frame_at(&frames, at);
        let delimiter = stream[at] == 0;
        stream.remove(at);
        let (packets, errors) = decode(&stream, &[]);
        let survivors: Vec<Packet> = ps
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != hit && !(delimiter && *i == hit + 1))
            .map(|(_, p)| p.clone())
            .collect();
        prop_assert!(is_subsequence(&survivors, &packets));
        prop_assert!(packets.iter().all(|p| ps.contains(p)), "invented a packet");
        let last_delimiter = delimiter && hit == ps.len() - 1;
        prop_assert!(!errors.is_empty() || last_delimiter);
    }

    /// Arbitrary bytes in arbitrary chunks: no panic, bounded memory, and
    /// every byte accounted for.
    #[test]
    fn arbitrary_input_is_safe(bytes in prop::collection::vec(any::<u8>(), 0..2_000), cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let (packets, errors) = decode(&bytes, &cuts);
        let mut decoder = Decoder::new();
        decoder.feed(&bytes, |_| {});
        prop_assert_eq!(decoder.stats().bytes, bytes.len() as u64);
        // Any packet that did come out re-encodes to bytes that were on the line.
        for p in &packets {
            let w = wire(p);
            prop_assert!(bytes.windows(w.len()).any(|win| win == &w[..]));
        }
        let _ = errors;
    }
}

fn frame_at(frames: &[Vec<u8>], byte: usize) -> usize {
    let mut end = 0;
    for (i, f) in frames.iter().enumerate() {
        end += f.len();
        if byte < end {
            return i;
        }
    }
    frames.len() - 1
}

fn is_subsequence(needles: &[Packet], haystack: &[Packet]) -> bool {
    let mut it = haystack.iter();
    needles.iter().all(|n| it.any(|h| h == n))
}
