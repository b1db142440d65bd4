//! Decoder throughput: the penlab decoder against postcard over COBS and the
//! `mavlink` crate on MAVLink v2, on streams of the same telemetry mix, fed
//! in 4 KiB reads as from a serial port. Every decoder parses each frame all
//! the way to a typed message.
//!
//! `cargo bench -p penlab-protocol-bench --bench decode`

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mavlink::dialects::common::MavMessage;
use mavlink::{MavlinkReader, MavlinkVersion};
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::Packet;
use penlab_protocol_bench::{
    Stream, mavlink_stream, penlab_stream, postcard_stream, telemetry_packets,
};
use postcard::accumulator::{CobsAccumulator, FeedResult};

const SECONDS: u32 = 100;
const READ: usize = 4_096;

fn penlab(stream: &Stream) -> u64 {
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

/// The framing layer alone (COBS, length and CRC checks, typed `Frame`
/// views), without parsing messages: where the time goes, not a peer.
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

fn bench(c: &mut Criterion) {
    let packets = telemetry_packets(SECONDS);
    let streams = [
        (
            "penlab",
            penlab_stream(&packets),
            penlab as fn(&Stream) -> u64,
        ),
        (
            "penlab_frames_only",
            penlab_stream(&packets),
            penlab_frames_only,
        ),
        ("postcard_cobs", postcard_stream(&packets), postcard),
        ("mavlink_v2", mavlink_stream(SECONDS), mavlink),
    ];
    for (name, stream, decode) in &streams {
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

    let mut bytes = c.benchmark_group("decode_bytes");
    for (name, stream, decode) in &streams {
        bytes.throughput(Throughput::Bytes(stream.bytes.len() as u64));
        bytes.bench_function(*name, |b| b.iter(|| decode(black_box(stream))));
    }
    bytes.finish();

    let mut frames = c.benchmark_group("decode_frames");
    for (name, stream, decode) in &streams {
        frames.throughput(Throughput::Elements(stream.frames));
        frames.bench_function(*name, |b| b.iter(|| decode(black_box(stream))));
    }
    frames.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
