//! What the end-to-end tests share: running the `penlab` binary and a
//! scratch directory per test.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::Command;

/// Runs `penlab ARGS` (colour off) and returns its exit code, stdout and
/// stderr.
pub fn penlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `penlab` command (colour off) to add arguments and environment to.
pub fn penlab_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_penlab"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// An empty directory for one test of one run.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `penlab mock --pty` process, killed when dropped.
pub struct MockPen {
    child: std::process::Child,
    /// The PTY path it serves.
    pub port: String,
}

impl MockPen {
    /// Starts `penlab mock --profile PROFILE --pty` and reads its PTY path.
    pub fn start(profile: &str) -> MockPen {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_penlab"))
            .args(["mock", "--profile", profile, "--pty", "--seed", "3"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("penlab mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a line");
        let port = line.trim().to_owned();
        assert!(port.starts_with("/dev/pts/"), "{line:?}");
        MockPen { child, port }
    }
}

impl Drop for MockPen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
