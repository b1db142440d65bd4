//! `penlab test` leaves a real pen safe, end to end over a pseudo-terminal:
//! `penlab mock --pty --link PATH --transcript FILE` is the pen, `penlab
//! test --port PATH` the host. SIGINT or SIGTERM while the motor runs, a
//! panicking step (test-only fault injection) and a pen that stops reading
//! all end with `Stop` acknowledged in the pen's own transcript before the
//! host lets go of the port; a pen that never reads again ends the run with
//! exit 2 within the bound. Each test prints the time from the signal or
//! fault to the acknowledged `Stop` (run with `--no-capture` to see it).

mod common;

use common::{penlab_command, scratch};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use penlab_firmware_mock::transcript::{Dir, WrittenTranscript};
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::{DeviceState, Message, MessageType, Packet};

/// A `penlab mock --pty --link PATH --transcript FILE` process, killed when
/// dropped.
struct Pen {
    child: Child,
    link: PathBuf,
    transcript: PathBuf,
}

impl Pen {
    fn start(dir: &Path, name: &str, profile: &str, link_faults: Option<&str>) -> Pen {
        let link = dir.join(format!("{name}.tty"));
        let transcript = dir.join(format!("{name}.transcript"));
        let mut cmd = penlab_command();
        cmd.args(["mock", "--profile", profile, "--pty", "--seed", "3"])
            .arg("--link")
            .arg(&link)
            .arg("--transcript")
            .arg(&transcript);
        if let Some(faults) = link_faults {
            cmd.args(["--link-faults", faults]);
        }
        let mut child = cmd
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

    fn port(&self) -> &str {
        self.link.to_str().expect("a UTF-8 path")
    }

    fn transcript(&self) -> Transcript {
        Transcript::read(&self.transcript)
    }
}

impl Drop for Pen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A frame the pen read or wrote, at its transcript time.
#[derive(Debug)]
struct Seen {
    t_us: u64,
    from_host: bool,
    packet: Packet,
}

/// The pen's transcript, decoded.
struct Transcript {
    started_unix_us: u64,
    frames: Vec<Seen>,
    notes: Vec<(u64, String)>,
}

impl Transcript {
    fn read(path: &Path) -> Transcript {
        let written = WrittenTranscript::read(path)
            .expect("the transcript")
            .expect("a header");
        let frames = written
            .transcript
            .packets()
            .into_iter()
            .map(|(t_us, dir, packet)| Seen {
                t_us,
                from_host: dir == Dir::HostToPen,
                packet,
            })
            .collect();
        Transcript {
            started_unix_us: written.started_unix_us,
            frames,
            notes: written.notes,
        }
    }

    /// Transcript time of a wall-clock moment.
    fn t_of(&self, at: SystemTime) -> u64 {
        let unix_us = at.duration_since(UNIX_EPOCH).unwrap().as_micros() as u64;
        unix_us.saturating_sub(self.started_unix_us)
    }

    /// When the pen first reported the motor running.
    fn running_at(&self) -> Option<u64> {
        self.frames
            .iter()
            .find(|f| {
                !f.from_host
                    && matches!(&f.packet.message, Message::Status(s) if s.state == DeviceState::Running)
            })
            .map(|f| f.t_us)
    }

    /// The first `Stop` the host sent at or after `since` that the pen
    /// acknowledged: (when the pen read it, when it acknowledged it).
    fn stop_acknowledged_after(&self, since: u64) -> Option<(u64, u64)> {
        let stop = MessageType::Stop.code();
        self.frames
            .iter()
            .filter(|f| f.from_host && f.t_us >= since && f.packet.message == Message::Stop)
            .find_map(|s| {
                self.frames
                    .iter()
                    .find(|a| {
                        !a.from_host
                            && a.t_us >= s.t_us
                            && matches!(&a.packet.message, Message::Ack(ack) if ack.command == stop && ack.ack_seq == s.packet.seq)
                    })
                    .map(|a| (s.t_us, a.t_us))
            })
    }

    fn note_at(&self, words: &str) -> Option<u64> {
        self.notes
            .iter()
            .find(|(_, n)| n.contains(words))
            .map(|(t, _)| *t)
    }

    /// Whether the pen's motor is stopped at the end: its last `Status`
    /// says so (the pen reports every change of state).
    fn ends_stopped(&self) -> bool {
        let last = self
            .frames
            .iter()
            .rev()
            .find_map(|f| match &f.packet.message {
                Message::Status(s) if !f.from_host => Some(s.state),
                _ => None,
            });
        matches!(last, Some(state) if state != DeviceState::Running)
    }
}

/// A scenario whose test starts the motor and then keeps it running for
/// half a minute, with `extra` steps in between.
fn running_scenario(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("running.toml");
    std::fs::write(
        &path,
        format!(
            r#"[suite]
title = "The motor runs"

[[test]]
id = "runs"
title = "The motor runs for half a minute"
steps = [
  {{ send = "start" }},
  {{ await = "status", where = {{ state = "running" }} }},
  {extra}
  {{ wait_ms = 30000 }},
]
"#
        ),
    )
    .unwrap();
    path
}

/// `penlab test --port …` (one or more pens), with a JSON record and a
/// capture; standard output and error go to files in `dir`.
fn host(dir: &Path, ports: &[&str], scenario: &Path, env: &[(&str, &str)]) -> Child {
    let mut cmd = penlab_command();
    cmd.arg("test");
    for port in ports {
        cmd.args(["--port", port]);
    }
    cmd.arg(scenario)
        .arg("--json")
        .arg(dir.join("run.json"))
        .arg("--capture")
        .arg(dir.join("captures"))
        .envs(env.iter().copied())
        .stdout(std::fs::File::create(dir.join("host.stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("host.stderr")).unwrap());
    cmd.spawn().expect("penlab test starts")
}

fn output(dir: &Path) -> String {
    let out = std::fs::read_to_string(dir.join("host.stdout")).unwrap_or_default();
    let err = std::fs::read_to_string(dir.join("host.stderr")).unwrap_or_default();
    format!("--- stdout\n{out}--- stderr\n{err}")
}

/// Waits for `child` to exit, at most `limit`: its exit code and how long
/// it took.
fn wait_exit(child: &mut Child, limit: Duration) -> (i32, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().expect("exited, not killed"), start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the pen reports its motor running.
fn wait_running(pen: &Pen, limit: Duration) {
    let start = Instant::now();
    while pen.transcript().running_at().is_none() {
        assert!(start.elapsed() < limit, "the motor never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A little longer, so that the test is well inside its wait.
    std::thread::sleep(Duration::from_millis(300));
}

fn signal(child: &Child, name: &str) -> SystemTime {
    let sent = SystemTime::now();
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    sent
}

fn report(case: &str, from: &str, ms: f64) {
    eprintln!("[safety timing] {case}: {from} to the acknowledged Stop: {ms:.1} ms");
}

/// The host's own capture of the test holds the pen's `Ack` to `Stop`: the
/// host read it while the port was still open.
fn host_saw_stop_acknowledged(dir: &Path) -> bool {
    let captures = dir.join("captures");
    let Ok(entries) = std::fs::read_dir(&captures) else {
        return false;
    };
    let stop = MessageType::Stop.code();
    entries.filter_map(Result::ok).any(|e| {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let mut decoder = Decoder::new();
        let mut acked = false;
        for line in text.lines().skip(1) {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            if record["dir"] != "pen_to_host" {
                continue;
            }
            let bytes = hex::decode(record["hex"].as_str().unwrap()).unwrap();
            decoder.feed(&bytes, |r| {
                if let Ok(Packet {
                    message: Message::Ack(a),
                    ..
                }) = r
                    && a.command == stop
                {
                    acked = true;
                }
            });
        }
        acked
    })
}

fn interrupted_by(dir: &Path, sig: &str) {
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let test = &record["tests"][0];
    assert_eq!(test["outcome"]["result"], "error", "{record:#}");
    let message = test["outcome"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!("interrupted by {sig}; teardown: Stop acknowledged"),
        "{record:#}"
    );
}

fn interrupt_mid_test(sig: &str, code: i32) {
    let dir = scratch(&format!("signal-{sig}"));
    let pen = Pen::start(&dir, "pen", "skinpen-like", None);
    let scenario = running_scenario(&dir, "");
    let mut child = host(&dir, &[pen.port()], &scenario, &[]);
    wait_running(&pen, Duration::from_secs(10));
    let sent = signal(&child, sig);
    let (exit, took) = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(exit, code, "{}", output(&dir));
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
    let t = pen.transcript();
    let signal_t = t.t_of(sent);
    let (_, acked) = t
        .stop_acknowledged_after(signal_t.saturating_sub(1_000))
        .unwrap_or_else(|| panic!("no acknowledged Stop after the signal\n{}", output(&dir)));
    assert!(t.ends_stopped(), "the motor still runs");
    assert!(host_saw_stop_acknowledged(&dir), "{}", output(&dir));
    interrupted_by(&dir, &format!("SIG{sig}"));
    report(sig, "signal", (acked as f64 - signal_t as f64) / 1e3);
}

#[test]
fn sigint_mid_test_stops_the_motor_then_exits_130() {
    interrupt_mid_test("INT", 130);
}

#[test]
fn sigterm_mid_test_stops_the_motor_then_exits_143() {
    interrupt_mid_test("TERM", 143);
}

#[test]
fn sigint_stops_every_pen_of_a_bench() {
    let dir = scratch("signal-bench");
    let pens = [
        Pen::start(&dir, "a", "skinpen-like", None),
        Pen::start(&dir, "b", "dermapen4-like", None),
    ];
    let scenario = running_scenario(&dir, "");
    let mut child = host(&dir, &[pens[0].port(), pens[1].port()], &scenario, &[]);
    for pen in &pens {
        wait_running(pen, Duration::from_secs(10));
    }
    let sent = signal(&child, "INT");
    let (exit, _) = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(exit, 130, "{}", output(&dir));
    for (pen, name) in pens.iter().zip(["a", "b"]) {
        let t = pen.transcript();
        let signal_t = t.t_of(sent);
        let (_, acked) = t
            .stop_acknowledged_after(signal_t.saturating_sub(1_000))
            .unwrap_or_else(|| panic!("pen {name}: no acknowledged Stop\n{}", output(&dir)));
        assert!(t.ends_stopped(), "pen {name}: the motor still runs");
        report(
            &format!("INT, bench pen {name}"),
            "signal",
            (acked as f64 - signal_t as f64) / 1e3,
        );
    }
}

#[test]
fn a_panicking_step_still_stops_the_motor() {
    let dir = scratch("panic");
    let pen = Pen::start(&dir, "pen", "skinpen-like", None);
    let scenario = running_scenario(
        &dir,
        r#"{ send = "status_request" },
  { test_only_panic = "mid-test, motor running" },"#,
    );
    let mut child = host(
        &dir,
        &[pen.port()],
        &scenario,
        &[("PENLAB_FAULT_INJECTION", "panic-in-step")],
    );
    let (exit, _) = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(exit, 2, "{}", output(&dir));
    let out = output(&dir);
    assert!(
        out.contains(
            "running.toml:11:3: the step panicked: injected fault: mid-test, motor running"
        ),
        "{out}"
    );
    let t = pen.transcript();
    // The fault: right after the pen answered the StatusRequest before it.
    let status_request = MessageType::StatusRequest.code();
    let fault = t
        .frames
        .iter()
        .find(|f| matches!(&f.packet.message, Message::Ack(a) if a.command == status_request))
        .map(|f| f.t_us)
        .expect("the StatusRequest was answered");
    let (_, acked) = t
        .stop_acknowledged_after(fault)
        .unwrap_or_else(|| panic!("no acknowledged Stop after the panic\n{out}"));
    assert!(t.ends_stopped(), "the motor still runs");
    assert!(host_saw_stop_acknowledged(&dir), "{out}");
    report("panic in a step", "fault", (acked - fault) as f64 / 1e3);
}

#[test]
fn without_fault_injection_the_panic_step_does_not_exist() {
    let dir = scratch("no-panic");
    let scenario = running_scenario(&dir, r#"{ test_only_panic = "x" },"#);
    let out = penlab_command()
        .args(["test", "--mock", "skinpen-like"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("running.toml:10:3: a step needs one of send"),
        "{err}"
    );
}

/// skinpen-like with a declared watchdog of `ms`.
fn profile_with_watchdog(dir: &Path, ms: u32) -> PathBuf {
    let shipped = format!(
        "{}/firmware-mock/profiles/skinpen-like.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(shipped).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("watchdog_timeout_ms") {
                format!("watchdog_timeout_ms = {ms}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("long-watchdog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

// Host frames before the stall: the first handshake's Hello and Stop, the
// test's Hello and Start, one Heartbeat; the next write finds the line held.
const STALL_AFTER: u32 = 5;

#[test]
fn a_pen_that_stops_reading_for_a_while_gets_its_stop_when_it_reads_again() {
    let dir = scratch("stall");
    let profile = profile_with_watchdog(&dir, 10_000);
    let faults = format!("stall-after={STALL_AFTER},stall-for-ms=3000");
    let pen = Pen::start(&dir, "pen", profile.to_str().unwrap(), Some(&faults));
    let scenario = running_scenario(&dir, "");
    let mut child = host(&dir, &[pen.port()], &scenario, &[]);
    let (exit, took) = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(exit, 2, "{}", output(&dir));
    let out = output(&dir);
    assert!(
        out.contains("the link stalled: writing Heartbeat did not complete within 1s"),
        "{out}"
    );
    let t = pen.transcript();
    let stalled = t.note_at("stops reading").expect("the stall is noted");
    let resumed = t.note_at("reads again").expect("the pen read again");
    let (_, acked) = t
        .stop_acknowledged_after(stalled)
        .unwrap_or_else(|| panic!("no acknowledged Stop after the stall\n{out}"));
    assert!(
        acked >= resumed,
        "acknowledged only once the pen read again"
    );
    assert!(t.ends_stopped(), "the motor still runs");
    assert!(host_saw_stop_acknowledged(&dir), "{out}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    report(
        "pen stops reading for 3 s",
        "stall",
        (acked - stalled) as f64 / 1e3,
    );
    report(
        "pen stops reading for 3 s",
        "the pen reading again",
        (acked - resumed) as f64 / 1e3,
    );
}

#[test]
fn a_pen_that_never_reads_again_ends_the_run_with_exit_2_within_the_bound() {
    let dir = scratch("stall-forever");
    let faults = format!("stall-after={STALL_AFTER}");
    let pen = Pen::start(&dir, "pen", "skinpen-like", Some(&faults));
    let scenario = running_scenario(&dir, "");
    let mut child = host(&dir, &[pen.port()], &scenario, &[]);
    let (exit, took) = wait_exit(&mut child, Duration::from_secs(20));
    let exited = SystemTime::now();
    assert_eq!(exit, 2, "{}", output(&dir));
    let out = output(&dir);
    assert!(out.contains("the link stalled"), "{out}");
    assert!(
        out.contains("nothing has reached the pen for its whole watchdog timeout (1000 ms)"),
        "{out}"
    );
    let t = pen.transcript();
    let stalled = t.note_at("stops reading").expect("the stall is noted");
    assert!(t.stop_acknowledged_after(stalled).is_none());
    // Bound: the watchdog timeout and a write deadline past the stall, and
    // the first handshake before it.
    assert!(took < Duration::from_secs(6), "{took:?}");
    let stall_to_exit = t.t_of(exited).saturating_sub(stalled);
    assert!(stall_to_exit < 4_000_000, "{stall_to_exit} µs");
    eprintln!(
        "[safety timing] pen never reads again: stall to the end of the run (exit 2): {:.1} ms",
        stall_to_exit as f64 / 1e3
    );
}

#[test]
fn a_second_sigint_leaves_at_once() {
    // The pen never reads again and declares a long watchdog: the first
    // Ctrl-C's teardown would keep trying for ten seconds.
    let dir = scratch("second-sigint");
    let profile = profile_with_watchdog(&dir, 10_000);
    let faults = format!("stall-after={STALL_AFTER}");
    let pen = Pen::start(&dir, "pen", profile.to_str().unwrap(), Some(&faults));
    let scenario = running_scenario(&dir, "");
    let mut child = host(&dir, &[pen.port()], &scenario, &[]);
    let start = Instant::now();
    while pen.transcript().note_at("stops reading").is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "no stall");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1_500));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    signal(&child, "INT");
    let (exit, _) = wait_exit(&mut child, Duration::from_secs(10));
    let after_second = second.elapsed();
    assert_eq!(exit, 130, "{}", output(&dir));
    assert!(
        after_second < Duration::from_millis(1_500),
        "{after_second:?}"
    );
    let out = output(&dir);
    assert!(out.contains("leaving after a best-effort Stop"), "{out}");
    eprintln!(
        "[safety timing] second SIGINT (line held): second signal to exit 130: {:.1} ms",
        after_second.as_secs_f64() * 1e3
    );
}
