//! `penlab sim --port` (the 3D view on a real pen) leaves the pen safe on
//! SIGINT and SIGTERM, end to end: `penlab mock --pty --link PATH
//! --transcript FILE` is the pen, the window runs under `xvfb-run` (Mesa's
//! software Vulkan without a GPU) and plays a script with the pen's motor
//! running. The signal stops the motor (`Stop` acknowledged in the pen's
//! transcript before the port closes), then the view exits 130 or 143, not
//! with an error. Prints the time from the signal to the acknowledged
//! `Stop` (`--no-capture`).
#![cfg(feature = "view")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::scratch;
use penlab_firmware_mock::transcript::{Dir, WrittenTranscript};
use penlab_protocol::message::{DeviceState, Message, MessageType};

/// The mock pen, killed when dropped.
struct Pen {
    child: Child,
    link: PathBuf,
    transcript: PathBuf,
}

impl Pen {
    fn start(dir: &Path) -> Pen {
        let link = dir.join("pen.tty");
        let transcript = dir.join("pen.transcript");
        let mut child = common::penlab_command()
            .args(["mock", "--profile", "skinpen-like", "--pty", "--seed", "3"])
            .arg("--link")
            .arg(&link)
            .arg("--transcript")
            .arg(&transcript)
            .stdout(Stdio::piped())
            .spawn()
            .expect("penlab mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a line");
        assert!(line.starts_with("/dev/pts/"), "{line:?}");
        Pen {
            child,
            link,
            transcript,
        }
    }

    /// (transcript start, unix µs) and the frames: (t µs, from host, message, seq).
    fn frames(&self) -> (u64, Vec<(u64, bool, Message, u16)>) {
        // Read while the pen runs: a line cut short waits for the next read.
        let Ok(Some(written)) = WrittenTranscript::read(&self.transcript) else {
            return (0, Vec::new());
        };
        let frames = written
            .transcript
            .packets()
            .into_iter()
            .map(|(t, dir, p)| (t, dir == Dir::HostToPen, p.message, p.seq))
            .collect();
        (written.started_unix_us, frames)
    }
}

impl Drop for Pen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `penlab` process under `xvfb-run`'s shell.
fn penlab_pid(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid …
        let (comm, rest) = stat.split_once(") ")?;
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent && comm.ends_with("(penlab")).then_some(pid)
    })
}

fn interrupt_the_view(signal: &str, code: i32) {
    let dir = scratch(&format!("sim-signal-{signal}"));
    let pen = Pen::start(&dir);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/simulator/scripts/crosshatch-pad.toml"
    );
    let mut view = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1024x768x24"])
        .arg(env!("CARGO_BIN_EXE_penlab"))
        .args(["sim", "--script", script, "--speed", "0.05", "--port"])
        .arg(&pen.link)
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(dir.join("view.stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("view.stderr")).unwrap())
        .spawn()
        .expect("xvfb-run starts (Debian package xvfb)");
    let output = || std::fs::read_to_string(dir.join("view.stderr")).unwrap_or_default();

    // The demonstration starts the pen's motor once the window is up.
    let start = Instant::now();
    loop {
        let (_, frames) = pen.frames();
        let running = frames.iter().any(|(_, host, m, _)| {
            !host && matches!(m, Message::Status(s) if s.state == DeviceState::Running)
        });
        if running {
            break;
        }
        if let Some(status) = view.try_wait().unwrap() {
            panic!(
                "the view ended ({status}) before the motor ran\n{}",
                output()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the motor never ran\n{}",
            output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = penlab_pid(view.id()).expect("penlab under xvfb-run");
    let sent = SystemTime::now();
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = view.try_wait().unwrap() {
            break status;
        }
        if waited.elapsed() > Duration::from_secs(20) {
            let _ = view.kill();
            panic!("still running 20 s after SIG{signal}\n{}", output());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = output();
    assert_eq!(status.code(), Some(code), "{err}");
    assert!(
        err.contains(&format!("SIG{signal}: motor stopped (Stop acknowledged")),
        "{err}"
    );
    assert!(!err.contains("ended with error code"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (started_unix_us, frames) = pen.frames();
    let signal_t = (sent.duration_since(UNIX_EPOCH).unwrap().as_micros() as u64)
        .saturating_sub(started_unix_us);
    let stop = MessageType::Stop.code();
    let acked = frames
        .iter()
        .filter(|(t, host, m, _)| *host && *t + 1_000 >= signal_t && *m == Message::Stop)
        .find_map(|(t, _, _, seq)| {
            frames.iter().find_map(|(at, host, m, _)| match m {
                Message::Ack(a) if !host && at >= t && a.command == stop && a.ack_seq == *seq => {
                    Some(*at)
                }
                _ => None,
            })
        })
        .unwrap_or_else(|| panic!("no Stop acknowledged after the signal\n{err}"));
    let last_state = frames.iter().rev().find_map(|(_, host, m, _)| match m {
        Message::Status(s) if !host => Some(s.state),
        _ => None,
    });
    assert_ne!(last_state, Some(DeviceState::Running), "the motor runs on");
    eprintln!(
        "[safety timing] SIG{signal} in the view: signal to the acknowledged Stop: {:.1} ms",
        acked.saturating_sub(signal_t) as f64 / 1e3
    );
}

#[test]
fn sigint_in_the_view_stops_the_motor_then_exits_130() {
    interrupt_the_view("INT", 130);
}

#[test]
fn sigterm_in_the_view_stops_the_motor_then_exits_143() {
    interrupt_the_view("TERM", 143);
}
