//! Replay and pcapng export of a capture of any length in flat memory.
//!
//! Generates a capture of `PENLAB_BENCH_MB` MB (1,100 by default) of full
//! pen telemetry (150 Hz strike batches, telemetry, pose, acknowledgements,
//! with the host's heartbeats), the pen's bytes in reads of 1 to 512 bytes
//! as a serial port returns them, then runs the real `penlab replay` on it,
//! `penlab replay --pcapng` (export only, as `tshark -w`), the export
//! printing every frame too (`--print`), the export with
//! `--pcapng-comments`, and the
//! pcapng read back, under `/usr/bin/time -v`, and prints MB/s and peak
//! resident memory.
//!
//! ```sh
//! cargo bench -p penlab --no-default-features --bench capture_replay
//! ```

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};

use penlab_host::capture::{CaptureWriter, Header};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::{Direction, Message, Packet};
use penlab_protocol::samples;

/// Writes through without flushing at every record, as a file on a busy
/// bench would not; the capture's bytes are the same.
struct NoFlush<W: Write>(W);

impl<W: Write> Write for NoFlush<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let target_mb: f64 = std::env::var("PENLAB_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_100.0);
    let dir = common::scratch("capture");
    let path = dir.join("long.capture");
    let started = std::time::Instant::now();
    let frames = generate(&path, (target_mb * 1e6) as u64);
    let mb = common::megabytes(&path);
    println!(
        "generated {} ({mb:.0} MB, {frames} frames) in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );

    let file = path.to_string_lossy().into_owned();
    let replay = common::time_penlab(&["replay", &file]);
    assert_eq!(replay.code, Some(0), "replay decodes every frame");
    report("penlab replay", mb, &replay);

    let pcap = dir.join("long.pcapng");
    let pcap_name = pcap.to_string_lossy().into_owned();
    let export = common::time_penlab(&["replay", &file, "--pcapng", &pcap_name]);
    assert_eq!(export.code, Some(0));
    report("penlab replay --pcapng", mb, &export);
    println!("  wrote {:.0} MB of pcapng", common::megabytes(&pcap));

    // The export that also prints every frame (`--print`, tshark's `-P`):
    // the replay and the export in one pass.
    let printed = dir.join("printed.pcapng");
    let printed_name = printed.to_string_lossy().into_owned();
    let export_printing =
        common::time_penlab(&["replay", &file, "--pcapng", &printed_name, "--print"]);
    assert_eq!(export_printing.code, Some(0));
    report("penlab replay --pcapng --print", mb, &export_printing);
    let _ = std::fs::remove_file(&printed);

    // The same export with every frame's reading as a packet comment.
    let commented = dir.join("commented.pcapng");
    let commented_name = commented.to_string_lossy().into_owned();
    let with_comments = common::time_penlab(&[
        "replay",
        &file,
        "--pcapng",
        &commented_name,
        "--pcapng-comments",
    ]);
    assert_eq!(with_comments.code, Some(0));
    report(
        "penlab replay --pcapng --pcapng-comments",
        mb,
        &with_comments,
    );
    println!("  wrote {:.0} MB of pcapng", common::megabytes(&commented));
    let _ = std::fs::remove_file(&commented);

    let back = common::time_penlab(&["replay", &pcap_name]);
    assert_eq!(back.code, Some(0), "the pcapng replays");
    report(
        "penlab replay (the pcapng)",
        common::megabytes(&pcap),
        &back,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn report(what: &str, mb: f64, m: &common::Measured) {
    println!(
        "{what}: {mb:.0} MB in {:.2} s = {:.0} MB/s wall; {:.2} s of CPU = {:.0} MB/s a core; peak RSS {:.1} MiB",
        m.seconds,
        mb / m.seconds,
        m.cpu_seconds,
        mb / m.cpu_seconds,
        m.max_rss_kib as f64 / 1024.0
    );
}

/// Writes seconds of telemetry until the file holds `bytes`; returns the
/// frames written.
fn generate(path: &std::path::Path, bytes: u64) -> u64 {
    let file = BufWriter::with_capacity(1 << 20, File::create(path).expect("capture file"));
    let header = Header::new("bench: generated telemetry", 1_763_700_000_000_000, None);
    let mut w = CaptureWriter::new(NoFlush(file), &header).expect("header");
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let (mut written, mut frames, mut second) = (0u64, 0u64, 0u32);
    let mut pending = Vec::new();
    while written < bytes {
        let t0 = u64::from(second) * 1_000_000;
        let packets: Vec<Packet> =
            samples::telemetry_second(15_000, (second * 94) as u16, second * 150).collect();
        let per = 1_000_000 / packets.len().max(1) as u64;
        for (i, packet) in packets.iter().enumerate() {
            let t = t0 + i as u64 * per;
            let n = encode_packet(packet, &mut wire).expect("encodes");
            pending.extend_from_slice(&wire[..n]);
            frames += 1;
            // A serial read returns what has arrived: 1 to 512 bytes.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let take = (1 + rng % 512) as usize;
            if pending.len() >= take {
                w.record(t, Direction::PenToHost, &pending).expect("write");
                written += 2 * pending.len() as u64 + 40;
                pending.clear();
            }
            if i % 15 == 0 {
                let beat = Packet {
                    seq: (i / 15) as u16,
                    message: Message::Heartbeat,
                };
                let n = encode_packet(&beat, &mut wire).expect("encodes");
                w.record(t, Direction::HostToPen, &wire[..n])
                    .expect("write");
                written += 2 * n as u64 + 40;
                frames += 1;
            }
        }
        second += 1;
    }
    if !pending.is_empty() {
        w.record(
            u64::from(second) * 1_000_000,
            Direction::PenToHost,
            &pending,
        )
        .expect("write");
    }
    w.into_inner().0.flush().expect("flush");
    frames
}
