//! The shipped conformance suite through a real ser2net, as a pen on a
//! remote bench is reached from CI: ser2net exports the mock's PTY (opened
//! as a serial device, 115200 8N1) raw (`socket://`) and with RFC 2217
//! (`rfc2217://`), on free ports, with a generated configuration; `penlab
//! test --port URL` runs the whole suite in real time through each. The
//! configuration is the one `harness/README.md` recommends (`chardelay:
//! false`: the pen's bytes go at once instead of batched for a few ms).
//! `.config/nextest.toml` gives these tests the machine to themselves.
//!
//! Skipped, saying so, only where `ser2net` is not installed; `.ci/run`
//! installs Debian's.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{MockPen, penlab_command, scratch};

fn ser2net_missing() -> bool {
    let found = Command::new("ser2net")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "ser2net is missing on CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: ser2net is not installed (.ci/run installs Debian's ser2net 4)");
    }
    !found
}

/// A ser2net exporting one device on one port, killed when dropped.
struct Ser2net {
    child: Child,
    port: u16,
}

impl Ser2net {
    /// Exports `device` through `accepter` (`tcp` for raw,
    /// `telnet(rfc2217),tcp` for RFC 2217) on a free loopback port.
    fn start(dir: &Path, device: &str, accepter: &str) -> Ser2net {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.join("ser2net.yaml");
        std::fs::write(
            &config,
            format!(
                "connection: &pen\n  accepter: {accepter},127.0.0.1,{port}\n  \
                 connector: serialdev,{device},115200n81,local\n  \
                 options:\n    kickolduser: true\n    chardelay: false\n    mdns: false\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("ser2net.log")).unwrap();
        // -n: stay in the foreground; -u: no UUCP lock files.
        let child = Command::new("ser2net")
            .args(["-n", "-u", "-c"])
            .arg(&config)
            .arg("-P")
            .arg(dir.join("ser2net.pid"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("ser2net starts");
        let mut ser2net = Ser2net { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = ser2net.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("ser2net.log")).unwrap_or_default();
                panic!("ser2net exited ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "ser2net never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        ser2net
    }
}

impl Drop for Ser2net {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `penlab test --port URL` (the shipped suite, unless `suite` names
/// a file) with the RFC 2217 client's log on; exit code, stdout, stderr.
fn test_through(url: &str, suite: Option<&str>) -> (i32, String, String) {
    let started = Instant::now();
    let mut cmd = penlab_command();
    cmd.args(["test", "--port", url])
        .env("PENLAB_LOG", "warn,penlab_host::rfc2217=info");
    if let Some(file) = suite {
        cmd.arg(format!(
            "{}/harness/conformance/{file}",
            env!("CARGO_MANIFEST_DIR")
        ));
    }
    let out = cmd.output().expect("penlab runs");
    eprintln!(
        "penlab test --port {url}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The suite passed on the pen behind ser2net: its identity came through,
/// nothing failed, and more than a handful ran.
fn assert_suite_passed(url: &str, code: i32, out: &str, err: &str) {
    assert_eq!(code, 0, "{out}{err}");
    let summary = out
        .lines()
        .find(|l| l.starts_with(url))
        .unwrap_or_else(|| panic!("no summary line for {url}:\n{out}"));
    assert!(summary.contains("(penlab-mock-14 "), "{summary}");
    assert!(
        summary.contains(" 0 failed,") && summary.ends_with(" 0 error(s)"),
        "{summary}"
    );
    let passed: u32 = summary
        .split(": ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 20, "{summary}");
}

#[test]
fn the_suite_passes_through_a_raw_ser2net_port() {
    if ser2net_missing() {
        return;
    }
    let pen = MockPen::start("skinpen-like");
    let dir = scratch("ser2net-raw");
    let ser2net = Ser2net::start(&dir, &pen.port, "tcp(nodelay)");
    let url = format!("socket://127.0.0.1:{}", ser2net.port);
    let (code, out, err) = test_through(&url, None);
    // A raw port is named as the TCP address it is.
    assert_suite_passed(&format!("tcp:127.0.0.1:{}", ser2net.port), code, &out, &err);
}

#[test]
fn the_suite_passes_through_ser2net_with_rfc_2217() {
    if ser2net_missing() {
        return;
    }
    let pen = MockPen::start("skinpen-like");
    let dir = scratch("ser2net-rfc2217");
    let ser2net = Ser2net::start(&dir, &pen.port, "telnet(rfc2217),tcp(nodelay)");
    let url = format!("rfc2217://127.0.0.1:{}", ser2net.port);
    let (code, out, err) = test_through(&url, None);
    assert_suite_passed(&url, code, &out, &err);
    // ser2net itself confirmed the line it set on the PTY.
    assert!(
        err.contains("RFC 2217: the far end confirmed the line")
            && err.contains("line=115200 8N1")
            && err.contains("signature=\"ser2net\""),
        "{err}"
    );
}

#[test]
fn a_raw_port_taken_for_rfc_2217_is_a_clear_error() {
    if ser2net_missing() {
        return;
    }
    let pen = MockPen::start("skinpen-like");
    let dir = scratch("ser2net-wrong-scheme");
    let ser2net = Ser2net::start(&dir, &pen.port, "tcp(nodelay)");
    let url = format!("rfc2217://127.0.0.1:{}", ser2net.port);
    let (code, out, err) = test_through(&url, Some("handshake.toml"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("did not answer COM-PORT-OPTION within 5s (a raw TCP port? use socket://)"),
        "{out}{err}"
    );
}
