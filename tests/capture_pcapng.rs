//! `--capture FILE.pcapng` writes pcapng as the run goes, one whole block
//! at a time: a monitor killed with SIGKILL (no chance to tidy up) leaves a
//! file that `penlab replay` and tshark read, with every frame it showed;
//! cut mid-block, the file still reads up to its last whole block.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{MockPen, penlab, scratch};

/// Cartridges out and in through the mock's environment channel: each
/// change makes the pen send a frame with no host attached.
fn poke(env: &mut BufReader<TcpStream>, turn: u32) {
    let line = if turn % 2 == 1 {
        r#"{"cmd":"remove_cartridge"}"#.to_owned()
    } else {
        format!(
            r#"{{"cmd":"insert_cartridge","id":{},"needles":14}}"#,
            4_000 + turn
        )
    };
    writeln!(env.get_mut(), "{line}").unwrap();
    let mut answer = String::new();
    env.read_line(&mut answer).unwrap();
    assert!(answer.contains(r#""ok":true"#), "{answer}");
}

#[test]
fn a_pcapng_capture_killed_with_sigkill_reads_back() {
    let dir = scratch("pcapng-sigkill");
    let capture = dir.join("bench.pcapng");
    let pen = MockPen::start_with("skinpen-like", &["--env", "127.0.0.1:0"]);
    let mut env = BufReader::new(TcpStream::connect(pen.env.as_deref().unwrap()).unwrap());

    let mut monitor = common::penlab_command()
        .args(["monitor", &pen.port, "--seconds", "120"])
        .args(["--capture", capture.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("penlab monitor starts");
    let shown = Arc::new(Mutex::new(String::new()));
    let reader = {
        let shown = shown.clone();
        let stdout = monitor.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut text = shown.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        })
    };
    let cartridge_lines = |text: &str| text.lines().filter(|l| l.contains("Cartridge")).count();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut turn = 0;
    while cartridge_lines(&shown.lock().unwrap()) < 6 {
        assert!(Instant::now() < deadline, "{}", shown.lock().unwrap());
        turn += 1;
        poke(&mut env, turn);
        std::thread::sleep(Duration::from_millis(30));
    }
    // No signal handler, no flush at exit: what is on disk is all there is.
    monitor.kill().expect("SIGKILL");
    monitor.wait().unwrap();
    reader.join().unwrap();
    let seen = cartridge_lines(&shown.lock().unwrap());

    let file = capture.to_str().unwrap();
    let (code, replay, err) = penlab(&["replay", file]);
    assert_eq!(code, 0, "{replay}{err}");
    assert!(
        cartridge_lines(&replay) >= seen,
        "every frame the monitor showed is in the file:\n{replay}"
    );
    assert!(replay.contains(&format!("target {}", pen.port)), "{replay}");

    // Cut inside its last block, as a kill mid-write would leave it.
    let bytes = std::fs::read(&capture).unwrap();
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    let (code, cut_replay, err) = penlab(&["replay", cut.to_str().unwrap()]);
    assert_eq!(code, 0, "{cut_replay}{err}");
    assert!(err.contains("cut off mid-write"), "{err}");
    let whole_frames = replay.lines().filter(|l| l.contains("s  pen")).count();
    let cut_frames = cut_replay.lines().filter(|l| l.contains("s  pen")).count();
    assert_eq!(cut_frames + 1, whole_frames, "{cut_replay}");

    // Wireshark's own reader agrees, where it is installed (CI installs it).
    if let Ok(out) = Command::new("tshark").args(["-r", file]).output() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let packets = String::from_utf8_lossy(&out.stdout).lines().count();
        assert!(packets >= seen, "tshark read {packets} packets");
    }
}

/// `penlab test --capture DIR --capture-pcapng`: one pcapng per test, each
/// replaying to the same frames as the JSON-lines capture of the same run
/// on the same seeded mock.
#[test]
fn a_test_run_captures_each_test_as_pcapng() {
    let suite = format!(
        "{}/harness/conformance/handshake.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let frames_in = |dir: &std::path::Path, ext: &str| {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no .{ext} in {}", dir.display());
        files
            .iter()
            .map(|f| {
                let (code, out, err) = penlab(&["replay", f.to_str().unwrap()]);
                assert_eq!(code, 0, "{}: {out}{err}", f.display());
                let summary = out.lines().last().unwrap_or_default().to_owned();
                (f.file_stem().unwrap().to_owned(), summary)
            })
            .collect::<Vec<_>>()
    };
    let lines_dir = scratch("test-capture-lines");
    let pcap_dir = scratch("test-capture-pcapng");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "skinpen-like",
        "--capture",
        lines_dir.to_str().unwrap(),
        &suite,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "skinpen-like",
        "--capture",
        pcap_dir.to_str().unwrap(),
        "--capture-pcapng",
        &suite,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let from_lines = frames_in(&lines_dir, "capture");
    let from_pcap = frames_in(&pcap_dir, "pcapng");
    assert_eq!(from_lines, from_pcap);
    assert!(
        from_pcap.iter().all(|(_, s)| !s.starts_with("0 frame")),
        "{from_pcap:?}"
    );
}
