//! `penlab monitor` from the command line: a missing port is a clear
//! infrastructure error (exit 2); a mock pen killed and started again on
//! the same `--link` is waited for with `--reattach`, and the capture marks
//! the gap. The decoding itself is tested over a real PTY in
//! `host/tests/monitor_pty.rs`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{MockPen, penlab, scratch};

#[test]
fn a_missing_port_exits_2_and_names_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["monitor", "/dev/penlab-no-such-port", "--seconds", "1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open /dev/penlab-no-such-port"),
        "{err}"
    );
}

#[test]
fn nonsense_duration_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["monitor", "/dev/null", "--seconds", "0"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--seconds must be a positive number"), "{err}");
}

#[test]
fn a_duration_too_long_for_the_clock_is_refused_not_a_panic() {
    for seconds in ["1e20", "inf"] {
        let (code, out, err) = penlab(&["monitor", "/dev/null", "--seconds", seconds]);
        assert_eq!(code, 2, "{seconds}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains("--seconds") && err.contains("too long") && err.contains("at most"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_reattach_bound_is_refused() {
    let (code, _, err) = penlab(&["monitor", "/dev/null", "--reattach", "soon"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--reattach") && err.contains("e.g. 30s"),
        "{err}"
    );
}

/// What the monitor has printed so far, read by a thread.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<String>>);

impl Output {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &str, shown: impl Fn(&str) -> bool, mut poke: impl FnMut()) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if shown(&self.text()) {
                return;
            }
            poke();
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the monitor never showed {what}:\n{}", self.text());
    }
}

/// Makes the pen talk with no host: cartridges out and in, through its
/// environment channel. Each call sends one change.
struct Hands {
    env: BufReader<TcpStream>,
    turn: u32,
}

impl Hands {
    fn new(pen: &MockPen) -> Hands {
        let stream = TcpStream::connect(pen.env.as_deref().expect("--env")).unwrap();
        Hands {
            env: BufReader::new(stream),
            turn: 0,
        }
    }

    fn poke(&mut self) {
        self.turn += 1;
        let line = if self.turn % 2 == 1 {
            r#"{"cmd":"remove_cartridge"}"#.to_owned()
        } else {
            format!(
                r#"{{"cmd":"insert_cartridge","id":{},"needles":14}}"#,
                4_000 + self.turn
            )
        };
        writeln!(self.env.get_mut(), "{line}").unwrap();
        let mut answer = String::new();
        self.env.read_line(&mut answer).unwrap();
        assert!(answer.contains(r#""ok":true"#), "{answer}");
    }
}

#[test]
fn a_mock_restarted_on_the_same_link_is_watched_again() {
    let dir = scratch("reattach");
    let link = dir.join("pen");
    let link_arg = link.to_str().unwrap();
    let capture = dir.join("gap.capture");
    let pen_args = ["--link", link_arg, "--env", "127.0.0.1:0"];
    let mut pen = MockPen::start_with("skinpen-like", &pen_args);

    let mut monitor = common::penlab_command()
        .args(["monitor", link_arg, "--reattach", "10s", "--seconds", "60"])
        .args(["--capture", capture.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("penlab monitor starts");
    let out = Output::default();
    let reader = {
        let out = out.clone();
        let stdout = monitor.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let mut text = out.0.lock().unwrap();
                text.push_str(&line.unwrap());
                text.push('\n');
            }
        })
    };

    let mut hands = Hands::new(&pen);
    out.wait_for(
        "the first pen's frames",
        |t| t.contains("Cartridge"),
        || hands.poke(),
    );
    pen.terminate();
    assert!(!link.exists(), "the mock removes its link");
    out.wait_for("the gap", |t| t.contains("--- detached"), || {});

    let second = MockPen::start_with("skinpen-like", &pen_args);
    let mut hands = Hands::new(&second);
    out.wait_for(
        "the second pen's frames",
        |t| {
            t.split_once("--- reattached")
                .is_some_and(|(_, after)| after.contains("Cartridge"))
        },
        || hands.poke(),
    );
    let interrupted = Command::new("kill")
        .args(["-INT", &monitor.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = monitor.wait().unwrap();
    reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut monitor.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "stopped by Ctrl-C: {err}");
    assert!(err.contains("reattached 1 time(s)"), "{err}");
    let text = out.text();
    assert!(
        text.contains(&format!("--- reattached: {link_arg} after")),
        "{text}"
    );

    // The capture keeps the gap, and replay shows it between the pens.
    let (_, replay, _) = penlab(&["replay", capture.to_str().unwrap()]);
    let detached = replay
        .find("link detached: the pen went away")
        .expect(&replay);
    let reattached = replay
        .find("link reattached: the pen is back")
        .expect(&replay);
    let first_frame = replay.find("Cartridge").expect(&replay);
    let last_frame = replay.rfind("Cartridge").expect(&replay);
    assert!(
        first_frame < detached && detached < reattached && reattached < last_frame,
        "{replay}"
    );
    assert!(replay.contains("the link went away 1 time(s)"), "{replay}");
}
