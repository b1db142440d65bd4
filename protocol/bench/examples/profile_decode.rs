//! Decodes the benchmark's penlab stream many times, for a profiler
//! (`valgrind --tool=callgrind target/release/examples/profile_decode`) or
//! for a quick look: prints the best pass in ns per frame. The arguments
//! pick the paths: `views` (default), `owned`, `frames`.
use std::hint::black_box;
use std::time::Instant;

use penlab_protocol::codec::Decoder;
use penlab_protocol_bench::{penlab_stream, telemetry_packets};

fn pass(mode: &str, bytes: &[u8]) -> u64 {
    let mut frames = 0u64;
    let mut decoder = Decoder::new();
    for chunk in bytes.chunks(4_096) {
        match mode {
            "owned" => decoder.feed(chunk, |r| frames += u64::from(black_box(r).is_ok())),
            "frames" => {
                let mut input = chunk;
                while let Some(r) = decoder.decode(&mut input) {
                    frames += u64::from(black_box(r).is_ok());
                }
            }
            _ => decoder.feed_views(chunk, |r| frames += u64::from(black_box(r).is_ok())),
        }
    }
    frames
}

fn main() {
    let modes: Vec<String> = match std::env::args().skip(1).collect::<Vec<_>>() {
        args if args.is_empty() => vec!["views".into()],
        args => args,
    };
    let stream = penlab_stream(&telemetry_packets(100));
    let mut best = vec![f64::MAX; modes.len()];
    // Interleaved rounds, so that a burst of load on a shared machine hits
    // every mode alike; the best pass of each is its figure.
    for _ in 0..30 {
        for (mode, best) in modes.iter().zip(&mut best) {
            for _ in 0..10 {
                let start = Instant::now();
                assert_eq!(pass(mode, &stream.bytes), stream.frames);
                *best = best.min(start.elapsed().as_secs_f64());
            }
        }
    }
    for (mode, best) in modes.iter().zip(best) {
        println!(
            "{mode}: best pass {:.1} ns/frame, {:.0} MiB/s",
            best * 1e9 / stream.frames as f64,
            stream.bytes.len() as f64 / best / (1 << 20) as f64
        );
    }
}
