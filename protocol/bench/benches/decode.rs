//! Decoder throughput, every decoder on a stream of the same telemetry mix
//! fed in 4 KiB reads as from a serial port, in one run:
//!
//! - full decoders, bytes to typed messages: penlab's views (the fast path),
//!   penlab's owned packets, postcard over COBS, the `mavlink` crate on
//!   MAVLink v2;
//! - framing only, bytes to checked frame bodies: penlab's `Decoder::decode`
//!   (delimiter, COBS, length and CRC-32C checks), and the `cobs` and
//!   `corncobs` crates' decoders behind the same `memchr` delimiter scan and
//!   the same carry-over of frames split across reads (no CRC: they do less).
//!
//! `cargo bench -p penlab-protocol-bench --bench decode`, then
//! `cargo run -p penlab-protocol-bench --example decode_table` for the
//! table in BENCHMARKS.md.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mavlink::dialects::common::MavMessage;
use mavlink::{MavlinkReader, MavlinkVersion};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::{MessageView, Packet};
use penlab_protocol_bench::{
    Stream, mavlink_stream, penlab_stream, postcard_stream, telemetry_packets,
};
use postcard::accumulator::{CobsAccumulator, FeedResult};

const SECONDS: u32 = 100;
const READ: usize = 4_096;

/// The fast path: typed messages as views over the decoder's frame.
fn penlab_views(stream: &Stream) -> u64 {
    let mut decoder = Decoder::new();
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        decoder.feed_views(chunk, |r| {
            black_box(&r);
            frames += u64::from(r.is_ok());
        });
    }
    frames
}

/// The fast path, then every strike of every batch read out of its view:
/// the lazily read arrays paid for, as the peers pay for theirs.
fn penlab_views_every_strike(stream: &Stream) -> u64 {
    let mut decoder = Decoder::new();
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        decoder.feed_views(chunk, |r| {
            if let Ok(view) = &r {
                if let MessageView::StrikeBatch(batch) = &view.message {
                    for strike in batch.strikes() {
                        black_box(strike);
                    }
                }
                frames += 1;
            }
            black_box(&r);
        });
    }
    frames
}

/// Owned packets (a strike batch's 60 slots inline), built from the views.
fn penlab_owned(stream: &Stream) -> u64 {
    let mut decoder = Decoder::new();
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        decoder.feed(chunk, |r| {
            black_box(&r);
            frames += u64::from(r.is_ok());
        });
    }
    frames
}

/// The framing layer alone (delimiter, COBS, length and CRC checks, typed
/// `Frame` views), without parsing messages.
fn penlab_frames_only(stream: &Stream) -> u64 {
    let mut decoder = Decoder::new();
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        let mut input = chunk;
        while let Some(r) = decoder.decode(&mut input) {
            frames += u64::from(black_box(r).is_ok());
        }
    }
    frames
}

/// What the framing-only peers share: `memchr` for each delimiter, a
/// bounded carry buffer for a frame split across reads, and `decode` for
/// the frame (delimiter included) into a stack buffer.
fn framing_peer(stream: &Stream, decode: impl Fn(&[u8], &mut [u8]) -> Option<usize>) -> u64 {
    let mut carry = [0u8; MAX_WIRE_FRAME];
    let mut carried = 0;
    let mut out = [0u8; MAX_WIRE_FRAME];
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        let mut rest = chunk;
        while let Some(at) = memchr::memchr(0, rest) {
            let (frame, after) = rest.split_at(at + 1);
            rest = after;
            let decoded = if carried == 0 {
                decode(frame, &mut out)
            } else if carried + frame.len() <= carry.len() {
                carry[carried..carried + frame.len()].copy_from_slice(frame);
                let n = std::mem::take(&mut carried) + frame.len();
                decode(&carry[..n], &mut out)
            } else {
                carried = 0;
                None
            };
            if let Some(n) = decoded {
                black_box(&out[..n]);
                frames += 1;
            }
        }
        if carried + rest.len() <= carry.len() {
            carry[carried..carried + rest.len()].copy_from_slice(rest);
            carried += rest.len();
        } else {
            carried = 0;
        }
    }
    frames
}

fn cobs_crate(stream: &Stream) -> u64 {
    framing_peer(stream, |frame, out| {
        cobs::decode(frame, out).ok().map(|r| r.frame_size())
    })
}

fn corncobs_crate(stream: &Stream) -> u64 {
    framing_peer(stream, |frame, out| corncobs::decode_buf(frame, out).ok())
}

fn postcard(stream: &Stream) -> u64 {
    let mut acc = CobsAccumulator::<512>::new();
    let mut frames = 0;
    for chunk in stream.bytes.chunks(READ) {
        let mut window = chunk;
        while !window.is_empty() {
            window = match acc.feed::<Packet>(window) {
                FeedResult::Consumed => break,
                FeedResult::OverFull(rest) | FeedResult::DeserError(rest) => rest,
                FeedResult::Success { data, remaining } => {
                    black_box(&data);
                    frames += 1;
                    remaining
                }
            };
        }
    }
    frames
}

fn mavlink(stream: &Stream) -> u64 {
    let mut reader = MavlinkReader::with_capacity(READ, Cursor::new(&stream.bytes[..]));
    let mut frames = 0;
    while let Ok((_, msg)) = reader.read_message::<MavMessage>(MavlinkVersion::V2) {
        black_box(&msg);
        frames += 1;
    }
    frames
}

/// A benchmark: its name, its stream and its decoder.
type Series<'a> = (&'static str, &'a Stream, fn(&Stream) -> u64);

fn bench(c: &mut Criterion) {
    let packets = telemetry_packets(SECONDS);
    let penlab = penlab_stream(&packets);
    let postcard_bytes = postcard_stream(&packets);
    let mavlink_bytes = mavlink_stream(SECONDS);
    let series: [Series; 8] = [
        ("penlab_views", &penlab, penlab_views),
        (
            "penlab_views_every_strike",
            &penlab,
            penlab_views_every_strike,
        ),
        ("penlab_owned", &penlab, penlab_owned),
        ("postcard_cobs", &postcard_bytes, postcard),
        ("mavlink_v2", &mavlink_bytes, mavlink),
        ("penlab_frames_only", &penlab, penlab_frames_only),
        ("cobs_crate_frames_only", &penlab, cobs_crate),
        ("corncobs_frames_only", &penlab, corncobs_crate),
    ];
    for (name, stream, decode) in &series {
        assert_eq!(
            decode(stream),
            stream.frames,
            "{name} must decode every frame"
        );
        println!(
            "{name}: {} frames, {} bytes, {:.1} bytes/frame",
            stream.frames,
            stream.bytes.len(),
            stream.bytes.len() as f64 / stream.frames as f64
        );
    }

    // One measurement per decoder, in bytes/s; frames/s follow from the
    // frame counts printed above (`decode_table` does the arithmetic).
    let mut group = c.benchmark_group("decode");
    for (name, stream, decode) in &series {
        group.throughput(Throughput::Bytes(stream.bytes.len() as u64));
        group.bench_function(*name, |b| b.iter(|| decode(black_box(stream))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
