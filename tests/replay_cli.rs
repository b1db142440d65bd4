//! `penlab replay` end to end: a capture on disk, decoded; exported to
//! pcapng and opened by tshark.

mod common;

use common::{penlab, scratch};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Hello and its Ack (from PROTOCOL.md's worked example), the host's
/// SetDepth split over two reads, and a burst of line noise.
const CAPTURE: &str = r#"{"format":"penlab-capture","version":1,"started_unix_us":1763700000000000,"target":"/dev/ttyACM0","baud":115200}
{"t_us":0,"dir":"host_to_pen","hex":"020101020105ee81c16e00"}
{"t_us":812,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
{"t_us":5000,"dir":"host_to_pen","hex":"03020107"}
{"t_us":5100,"dir":"host_to_pen","hex":"e204db7b957300"}
{"t_us":9000,"dir":"pen_to_host","hex":"7ffe1337c0de00"}
"#;

fn write_capture(dir: &Path) -> PathBuf {
    let path = dir.join("session.capture");
    std::fs::write(&path, CAPTURE).unwrap();
    path
}

#[test]
fn replays_a_capture_in_time_order() {
    let dir = scratch("text");
    let path = write_capture(&dir);
    let (code, out, err) = penlab(&["replay", path.to_str().unwrap()]);
    assert_eq!(code, 1, "line noise is an error frame: exit 1\n{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("host → pen") && lines[0].contains("Hello"),
        "{out}"
    );
    assert!(
        lines[1].contains("pen → host") && lines[1].contains("Ack"),
        "{out}"
    );
    assert!(
        lines[2].contains("0.005100s") && lines[2].contains("SetDepth"),
        "{out}"
    );
    assert!(lines[3].contains("cobs"), "{out}");
    assert!(
        lines[4].contains("3 frame(s), 1 error(s), target /dev/ttyACM0"),
        "{out}"
    );
}

#[test]
fn a_bad_capture_is_located() {
    let dir = scratch("bad");
    let path = dir.join("bad.capture");
    std::fs::write(
        &path,
        CAPTURE.replace("\"dir\":\"pen_to_host\"", "\"dir\":\"upward\""),
    )
    .unwrap();
    let (code, _, err) = penlab(&["replay", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.capture") && err.contains("line 3, column"),
        "{err}"
    );
}

#[test]
fn pcapng_opens_in_tshark() {
    let dir = scratch("pcapng");
    let path = write_capture(&dir);
    // Lean by default: the dissector decodes the frames, no comment each.
    let lean = dir.join("lean.pcapng");
    let (_, out, err) = penlab(&[
        "replay",
        path.to_str().unwrap(),
        "--pcapng",
        lean.to_str().unwrap(),
    ]);
    assert!(lean.exists(), "{err}");
    // As `tshark -w`: the export prints its summary, not every frame.
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed.len(), 1, "{out}");
    assert!(printed[0].starts_with("3 frame(s), 1 error(s)"), "{out}");
    let pcap = dir.join("session.pcapng");
    let (_, _, err) = penlab(&[
        "replay",
        path.to_str().unwrap(),
        "--pcapng",
        pcap.to_str().unwrap(),
        "--pcapng-comments",
    ]);
    assert!(pcap.exists(), "{err}");
    let lean_tshark = Command::new("tshark")
        .args(["-r", lean.to_str().unwrap(), "-T", "fields"])
        .args(["-e", "frame.len", "-e", "frame.comment"])
        .output();
    if let Ok(lean_tshark) = lean_tshark {
        assert!(lean_tshark.status.success());
        let out = String::from_utf8_lossy(&lean_tshark.stdout);
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows.len(), 4, "{out}");
        let commented = rows
            .iter()
            .filter(|r| r.split('\t').nth(1).is_some_and(|c| !c.is_empty()));
        assert_eq!(commented.count(), 0, "{out}");
    }
    let tshark = Command::new("tshark")
        .args([
            "-r",
            pcap.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.time_relative",
            "-e",
            "frame.len",
            "-e",
            "frame.comment",
        ])
        .output();
    let Ok(tshark) = tshark else {
        // CI installs tshark (.ci/run), so there this check always runs.
        assert!(std::env::var_os("CI").is_none(), "tshark is missing on CI");
        eprintln!("tshark not installed: pcapng not checked with it");
        return;
    };
    let out = String::from_utf8_lossy(&tshark.stdout);
    assert!(
        tshark.status.success(),
        "{}",
        String::from_utf8_lossy(&tshark.stderr)
    );
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert!(
        rows[0].starts_with("0.000000000\t11\t") && rows[0].contains("Hello"),
        "{out}"
    );
    assert!(
        rows[2].starts_with("0.005100000\t11\t") && rows[2].contains("SetDepth"),
        "{out}"
    );
    assert!(rows[3].contains("cobs"), "{out}");
}

/// A pen that went away mid-session and came back (`penlab monitor
/// --reattach`): replay shows the gap in its place, and the pcapng export
/// carries it as an empty packet with a comment that tshark reads.
#[test]
fn a_gap_in_the_link_shows_in_replay_and_in_tshark() {
    let dir = scratch("gap");
    let path = dir.join("gap.capture");
    std::fs::write(
        &path,
        r#"{"format":"penlab-capture","version":1,"started_unix_us":1763700000000000,"target":"usb:1209:0001"}
{"t_us":812,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
{"t_us":2000,"dir":"pen_to_host","hex":"","event":"detached","detail":"the port closed; waiting up to 30s"}
{"t_us":9000,"dir":"pen_to_host","hex":"","event":"reattached","detail":"/dev/ttyACM1 after 7.0ms"}
{"t_us":9500,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
"#,
    )
    .unwrap();
    let pcap = dir.join("gap.pcapng");
    let (code, out, err) = penlab(&[
        "replay",
        path.to_str().unwrap(),
        "--pcapng",
        pcap.to_str().unwrap(),
        "--print",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("pen → host"), "{out}");
    assert!(
        lines[1].ends_with("link detached: the pen went away (the port closed; waiting up to 30s)"),
        "{out}"
    );
    assert!(
        lines[2].ends_with("link reattached: the pen is back (/dev/ttyACM1 after 7.0ms)"),
        "{out}"
    );
    assert!(lines[3].contains("pen → host"), "{out}");
    assert_eq!(
        lines[4],
        "2 frame(s), 0 error(s), target usb:1209:0001, the link went away 1 time(s)"
    );
    let Ok(tshark) = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap(), "-T", "fields"])
        .args([
            "-e",
            "frame.time_relative",
            "-e",
            "frame.len",
            "-e",
            "frame.comment",
        ])
        .output()
    else {
        assert!(std::env::var_os("CI").is_none(), "tshark is missing on CI");
        eprintln!("tshark not installed: pcapng not checked with it");
        return;
    };
    let text = String::from_utf8_lossy(&tshark.stdout);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows[1].starts_with("0.001188000\t0\tpenlab: link detached"),
        "{text}"
    );
    assert!(
        rows[2].starts_with("0.008188000\t0\tpenlab: link reattached"),
        "{text}"
    );
}

/// Each side's sequence numbers are checked as a receiver checks them:
/// the pen's numbering restarts with its `Ack` of a `Hello`; a frame the
/// pen skipped (Identity, seq 1) is a gap, and the host's `SetDepth` sent
/// twice with one seq a duplicate (frames from PROTOCOL.md §12).
#[test]
fn replay_checks_sequence_numbers_per_side() {
    let dir = scratch("seq");
    let path = dir.join("seq.capture");
    std::fs::write(
        &path,
        r#"{"format":"penlab-capture","version":1,"started_unix_us":0,"target":"/dev/ttyACM0"}
{"t_us":0,"dir":"host_to_pen","hex":"020101020105ee81c16e00"}
{"t_us":10,"dir":"pen_to_host","hex":"028001010106015f4849b900"}
{"t_us":20,"dir":"pen_to_host","hex":"038302010104c409fa07dc05b42db42d01070e5203e803320606f26140d100"}
{"t_us":30,"dir":"host_to_pen","hex":"03020107e204db7b957300"}
{"t_us":40,"dir":"host_to_pen","hex":"03020107e204db7b957300"}
"#,
    )
    .unwrap();
    let (code, out, err) = penlab(&["replay", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        !lines[1].contains('['),
        "the Ack of Hello starts the pen's numbering: {out}"
    );
    assert!(
        lines[2].contains("Capabilities") && lines[2].ends_with("[1 frame(s) lost before this]"),
        "{out}"
    );
    assert!(!lines[3].contains('['), "{out}");
    assert!(lines[4].ends_with("[duplicate]"), "{out}");
    let (_, json, _) = penlab(&["replay", "--json", path.to_str().unwrap()]);
    let seqs: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].clone())
        .collect();
    assert_eq!(
        seqs,
        [
            serde_json::json!("first"),
            serde_json::json!("first"),
            serde_json::json!({ "gap": { "lost": 1 } }),
            serde_json::json!("in_order"),
            serde_json::json!("duplicate"),
        ]
    );
}
