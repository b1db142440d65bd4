//! Prints the last `decode` benchmark run as the table in BENCHMARKS.md:
//! MiB/s and M frames/s from criterion's mean time per pass over each
//! stream, and ratios against the best peer of the same kind (full decoders
//! against postcard and MAVLink, framing against the COBS crates).
//!
//! `cargo run -p penlab-protocol-bench --example decode_table`

use std::path::{Path, PathBuf};

use penlab_protocol_bench::{mavlink_stream, penlab_stream, postcard_stream, telemetry_packets};

const FULL: [&str; 5] = [
    "penlab_views",
    "penlab_views_every_strike",
    "penlab_owned",
    "postcard_cobs",
    "mavlink_v2",
];
const FULL_PEERS: [&str; 2] = ["postcard_cobs", "mavlink_v2"];
const FRAMING: [&str; 3] = [
    "penlab_frames_only",
    "cobs_crate_frames_only",
    "corncobs_frames_only",
];
const FRAMING_PEERS: [&str; 2] = ["cobs_crate_frames_only", "corncobs_frames_only"];

fn mean_ns(dir: &Path, name: &str) -> f64 {
    let path = dir.join(name).join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run the benchmark first", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("criterion's JSON");
    json["mean"]["point_estimate"].as_f64().expect("a mean")
}

fn main() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("criterion/decode");
    let packets = telemetry_packets(100);
    let (penlab, postcard, mavlink) = (
        penlab_stream(&packets),
        postcard_stream(&packets),
        mavlink_stream(100),
    );
    let stream = |name: &str| match name {
        "postcard_cobs" => &postcard,
        "mavlink_v2" => &mavlink,
        _ => &penlab,
    };
    // (MiB/s, M frames/s)
    let rate = |name: &str| {
        let s = stream(name);
        let seconds = mean_ns(&dir, name) * 1e-9;
        (
            s.bytes.len() as f64 / seconds / (1 << 20) as f64,
            s.frames as f64 / seconds / 1e6,
            s.bytes.len() as f64 / s.frames as f64,
        )
    };
    let best = |peers: &[&str]| peers.iter().map(|p| rate(p).1).fold(f64::MIN, f64::max);
    println!("| decoder | bytes/frame | MiB/s | GB/s | M frames/s | frames/s vs best peer |");
    println!("|---|---|---|---|---|---|");
    for (names, peers) in [
        (&FULL[..], &FULL_PEERS[..]),
        (&FRAMING[..], &FRAMING_PEERS[..]),
    ] {
        let best = best(peers);
        for name in names {
            let (mib, mframes, per_frame) = rate(name);
            println!(
                "| {name} | {per_frame:.1} | {mib:.0} | {:.2} | {mframes:.1} | {:.2} |",
                mib * (1 << 20) as f64 / 1e9,
                mframes / best
            );
        }
    }
}
