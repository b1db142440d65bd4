//! `penlab decode` end to end: the binary, real arguments, exit codes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::{penlab, penlab_command, scratch};

#[test]
fn standard_input_is_decoded_as_bytes_arrive() {
    let mut child = penlab_command()
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, seen) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // One Start frame (seq 3), and the pipe left open.
    stdin
        .write_all(&[0x03, 0x04, 0x03, 0x05, 0xf9, 0xaf, 0x5d, 0xca, 0x00])
        .unwrap();
    stdin.flush().unwrap();
    let first = seen
        .recv_timeout(Duration::from_secs(20))
        .expect("the frame is printed before standard input closes");
    assert!(first.contains("seq     3  Start"), "{first}");
    // Half of the next frame prints nothing yet; its end finishes it.
    stdin.write_all(&[0x03, 0x04, 0x03, 0x05]).unwrap();
    stdin.flush().unwrap();
    assert!(seen.recv_timeout(Duration::from_millis(300)).is_err());
    stdin.write_all(&[0xf9, 0xaf, 0x5d, 0xca, 0x00]).unwrap();
    let second = seen.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(
        second.starts_with("@    18") && second.contains("Start"),
        "{second}"
    );
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = seen.try_iter().collect();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert_eq!(rest, ["2 frame(s), 0 error(s), 18 byte(s)"]);
}

#[test]
fn decodes_a_frame_from_hex() {
    let (code, out, _) = penlab(&["decode", "03 02 01 07 e2 04 db 7b 95 73 00"]);
    assert_eq!(code, 0);
    assert!(out.contains("seq     1  SetDepth"), "{out}");
    assert!(out.contains(r#"{"set_depth":{"depth_um":1250}}"#), "{out}");
    assert!(out.contains("1 frame(s), 0 error(s), 11 byte(s)"), "{out}");
}

#[test]
fn reports_errors_resynchronises_and_exits_1() {
    // invalid COBS, then a good Start, then a truncated tail
    let (code, out, _) = penlab(&["decode", "05 11 22 00 03 04 03 05 f9 af 5d ca 00 02 01"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("error cobs"), "{out}");
    assert!(lines[1].contains("Start"), "{out}");
    assert!(lines[2].contains("error truncated"), "{out}");
}

#[test]
fn json_lines_carry_offsets() {
    let (code, out, _) = penlab(&[
        "decode",
        "--json",
        "0x03,0x04,0x03,0x05,0xf9,0xaf,0x5d,0xca,0x00",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["end"], 9);
    assert_eq!(v["packet"]["message"], "start");
    assert_eq!(v["packet"]["seq"], 3);
}

#[test]
fn reads_a_raw_capture_file() {
    let dir = scratch("decode");
    let path = dir.join("capture.bin");
    std::fs::write(
        &path,
        hex::decode("0302010 7e204db7b957300".replace(' ', "")).unwrap(),
    )
    .unwrap();
    let (code, out, _) = penlab(&["decode", "--file", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SetDepth"));
}

#[test]
fn bad_input_is_a_usage_error() {
    let (code, _, err) = penlab(&["decode", "0a 0"]);
    assert_eq!(code, 2);
    assert!(err.contains("odd number of hex digits"), "{err}");
    let (code, _, err) = penlab(&["decode", "--file", "/nonexistent/capture.bin"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/capture.bin"), "{err}");
}
