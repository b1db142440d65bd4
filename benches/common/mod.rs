//! Running the real `penlab` binary under `/usr/bin/time -v` and reading
//! back its wall time and peak resident memory.

use std::path::Path;
use std::process::{Command, Stdio};

/// What `/usr/bin/time -v` measured of one run.
pub struct Measured {
    /// Wall-clock time, s.
    pub seconds: f64,
    /// CPU time, user and system, s: on a shared machine, what the run
    /// would take on a core of its own.
    pub cpu_seconds: f64,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
    /// The command's exit code.
    pub code: Option<i32>,
}

/// Runs `penlab args…` under `/usr/bin/time -v`, its standard output to
/// /dev/null.
pub fn time_penlab(args: &[&str]) -> Measured {
    time_penlab_in(&[], args)
}

/// Runs `wrapper… /usr/bin/time -v penlab args…` (such as `xvfb-run -a`,
/// which gives the view a display: `time` inside it measures penlab, not
/// the X server).
pub fn time_penlab_in(wrapper: &[&str], args: &[&str]) -> Measured {
    let (program, before) = match wrapper.split_first() {
        Some((program, rest)) => (*program, [rest, &["/usr/bin/time"]].concat()),
        None => ("/usr/bin/time", Vec::new()),
    };
    let out = Command::new(program)
        .args(before)
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_penlab"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name:?} in:\n{text}"))
    };
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):");
    let seconds = wall.split(':').fold(0.0, |acc, part| {
        acc * 60.0 + part.parse::<f64>().unwrap_or(0.0)
    });
    let secs = |name: &str| field(name).parse::<f64>().unwrap_or(0.0);
    Measured {
        seconds,
        cpu_seconds: secs("User time (seconds):") + secs("System time (seconds):"),
        max_rss_kib: field("Maximum resident set size (kbytes):")
            .parse()
            .unwrap_or(0),
        code: out.status.code(),
    }
}

/// A size in MB (10⁶ bytes).
pub fn megabytes(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// A fresh scratch directory under the system's temporary directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
