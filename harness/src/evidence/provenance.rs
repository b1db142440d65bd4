//! Who ran what, where and when: the tool and its build, the host and its
//! OS, the operator, the start and end times, and the SHA-256 of every
//! scenario file (IEC 62304 §5.7.5: enough to repeat the test).

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A file and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// The path, as it was given.
    pub path: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

impl FileHash {
    /// Hashes the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<FileHash> {
        Ok(FileHash {
            path: path.display().to_string(),
            sha256: sha256_hex(&std::fs::read(path)?),
        })
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where and how a run was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The tool and its version (`penlab 0.1.0`).
    pub tool: String,
    /// The commit the tool was built from (`unknown` outside git).
    pub git_hash: String,
    /// The machine's host name.
    pub host: String,
    /// Its operating system and kernel.
    pub os: String,
    /// Who ran it.
    pub operator: String,
    /// When it started, RFC 3339 UTC.
    pub started: String,
    /// When it ended, RFC 3339 UTC.
    pub ended: String,
    /// What the run was told (seed, virtual time, tags…), in order.
    pub settings: Vec<(String, String)>,
    /// Every scenario file the run loaded.
    pub scenarios: Vec<FileHash>,
}

/// `2026-12-03T13:12:34Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// This machine's host name (`unknown` when it cannot be read).
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The OS as a person names it, with the kernel and architecture:
/// `Debian GNU/Linux 12 (bookworm), linux 6.1.0 x86_64`.
pub fn os_description() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!(" {}", k.trim()))
        .unwrap_or_default();
    let base = format!(
        "{}{kernel} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    match pretty {
        Some(p) => format!("{p}, {base}"),
        None => base,
    }
}

/// The operator when none is named: the login name, or `unknown`.
pub fn default_operator() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_767_554);
        assert_eq!(rfc3339(t), "2025-12-03T13:12:34Z");
    }
}
