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
    /// Its environment channel's address, when started with `--env`.
    pub env: Option<String>,
}

impl MockPen {
    /// Starts `penlab mock --profile PROFILE --pty` and reads its PTY path.
    pub fn start(profile: &str) -> MockPen {
        MockPen::start_with(profile, &[])
    }

    /// The same with more arguments (`--link PATH`, `--env ADDR`); reads
    /// the environment channel's address too when `--env` is among them.
    pub fn start_with(profile: &str, extra: &[&str]) -> MockPen {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_penlab"))
            .args(["mock", "--profile", profile, "--pty", "--seed", "3"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("penlab mock starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let line = lines.next().expect("a line").expect("a line");
        let port = line.trim().to_owned();
        assert!(port.starts_with("/dev/pts/"), "{line:?}");
        let env = extra.contains(&"--env").then(|| {
            let line = lines.next().expect("the env line").expect("a line");
            line.strip_prefix("env ")
                .expect("env ADDR")
                .trim()
                .to_owned()
        });
        MockPen { child, port, env }
    }

    /// Stops it as Ctrl-C or a service manager would (SIGTERM), so that it
    /// removes its `--link`, and waits for it.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for MockPen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
