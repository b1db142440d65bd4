//! `penlab monitor` from the command line: a missing port is a clear
//! infrastructure error (exit 2). The live path is tested over a real PTY in
//! `harness/tests/monitor_pty.rs`.

use std::process::Command;

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
