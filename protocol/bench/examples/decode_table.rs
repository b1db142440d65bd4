//! Prints the last `decode` benchmark run as the table in BENCHMARKS.md:
//! MiB/s and M frames/s from criterion's mean time per pass over each
//! stream, and ratios against the best peer of the same kind (full decoders
//! against postcard and MAVLink, framing against the COBS crates). On a
//! shared machine the mean carries everyone else's load; the fastest sample
//! (criterion's samples are batches of passes) is also shown, as the nearer
//! figure for what one core does on its own.
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

/// (MiB/s, M frames/s) by the mean, the same by the fastest sample, and
/// bytes per frame.
type Rate = ((f64, f64), (f64, f64), f64);

fn json(dir: &Path, name: &str, file: &str) -> serde_json::Value {
    let path = dir.join(name).join("new").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run the benchmark first", path.display()));
    serde_json::from_str(&text).expect("criterion's JSON")
}

/// Mean nanoseconds per pass, and those of the fastest sample.
fn pass_ns(dir: &Path, name: &str) -> (f64, f64) {
    let mean = json(dir, name, "estimates.json")["mean"]["point_estimate"]
        .as_f64()
        .expect("a mean");
    let sample = json(dir, name, "sample.json");
    let numbers = |key: &str| -> Vec<f64> {
        sample[key]
            .as_array()
            .expect("numbers")
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect()
    };
    let fastest = numbers("times")
        .iter()
        .zip(numbers("iters"))
        .map(|(t, n)| t / n)
        .fold(f64::MAX, f64::min);
    (mean, fastest)
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
    // (MiB/s, M frames/s) from the mean and from the fastest sample.
    let rate = |name: &str| {
        let s = stream(name);
        let (mean, fastest) = pass_ns(&dir, name);
        let per = |ns: f64| {
            let seconds = ns * 1e-9;
            (
                s.bytes.len() as f64 / seconds / (1 << 20) as f64,
                s.frames as f64 / seconds / 1e6,
            )
        };
        (
            per(mean),
            per(fastest),
            s.bytes.len() as f64 / s.frames as f64,
        )
    };
    let best = |peers: &[&str]| {
        let frames =
            |f: fn(&Rate) -> f64| peers.iter().map(|p| f(&rate(p))).fold(f64::MIN, f64::max);
        (frames(|r| r.0.1), frames(|r| r.1.1))
    };
    println!(
        "| decoder | bytes/frame | MiB/s | GB/s | M frames/s | vs best peer \
         | fastest sample: MiB/s | GB/s | M frames/s | vs best peer |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (names, peers) in [
        (&FULL[..], &FULL_PEERS[..]),
        (&FRAMING[..], &FRAMING_PEERS[..]),
    ] {
        let (best_mean, best_fastest) = best(peers);
        for name in names {
            let ((mib, mframes), (fast_mib, fast_mframes), per_frame) = rate(name);
            let gb = |mib: f64| mib * (1 << 20) as f64 / 1e9;
            println!(
                "| {name} | {per_frame:.1} | {mib:.0} | {:.2} | {mframes:.1} | {:.2} \
                 | {fast_mib:.0} | {:.2} | {fast_mframes:.1} | {:.2} |",
                gb(mib),
                mframes / best_mean,
                gb(fast_mib),
                fast_mframes / best_fastest,
            );
        }
    }
}
