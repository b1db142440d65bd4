//! Decodes the benchmark's penlab stream many times, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/profile_decode`.
use penlab_protocol::codec::Decoder;
use penlab_protocol_bench::{penlab_stream, telemetry_packets};

fn main() {
    let stream = penlab_stream(&telemetry_packets(100));
    let mut frames = 0u64;
    for _ in 0..50 {
        let mut decoder = Decoder::new();
        for chunk in stream.bytes.chunks(4_096) {
            decoder.feed(chunk, |r| frames += u64::from(r.is_ok()));
        }
    }
    println!("{frames} frames");
}
