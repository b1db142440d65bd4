//! Where the mock's bytes go: a pseudo-terminal that looks like a serial
//! port (optionally behind a stable symlink), TCP, or an in-process duplex
//! pipe for tests.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::DuplexStream;
use tokio_serial::SerialStream;

/// A pseudo-terminal pair: the mock talks on the master, hosts open
/// [`Pty::path`] like a USB serial port.
#[derive(Debug)]
pub struct Pty {
    /// The master side, for the mock's runner.
    pub master: SerialStream,
    /// The slave side, held open so that the master does not see `EIO`
    /// while no host has the port open.
    _slave: SerialStream,
    /// The slave side once more, for [`LineHold`].
    control: Arc<std::fs::File>,
    path: PathBuf,
    link: Option<SymlinkGuard>,
}

impl Pty {
    /// Opens a new pseudo-terminal; with `link`, also makes a symlink to
    /// its slave side there (replacing an old symlink, never a file), as
    /// socat's `link=` does. The symlink goes when the `Pty` is dropped.
    pub fn open(link: Option<&Path>) -> io::Result<Pty> {
        // The slave side holds no lock (`pair` takes none), so a host can
        // open the path in serialport's default exclusive mode. Calling
        // `set_exclusive(false)` here would take a shared `flock` and lock
        // such hosts out.
        let (master, slave) = SerialStream::pair().map_err(io::Error::other)?;
        let path = tokio_serial::SerialPort::name(&slave)
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
        // Opened before any host can take the port exclusively.
        let control = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(&path)?;
        let link = link.map(|l| SymlinkGuard::create(&path, l)).transpose()?;
        Ok(Pty {
            master,
            _slave: slave,
            control: Arc::new(control),
            path,
            link,
        })
    }

    /// A handle that holds the host's line: while held, the host's writes
    /// do not complete, as on a serial line whose CTS is deasserted.
    pub fn line_hold(&self) -> LineHold {
        LineHold {
            slave: self.control.clone(),
        }
    }

    /// The device path hosts open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The symlink, if one was made.
    pub fn link(&self) -> Option<&Path> {
        self.link.as_ref().map(|l| l.path.as_path())
    }
}

/// Holds and releases a PTY host's output (`tcflow` `TCOOFF`/`TCOON` on the
/// slave side): what a stalled line looks like to the host.
#[derive(Debug, Clone)]
pub struct LineHold {
    slave: Arc<std::fs::File>,
}

impl LineHold {
    /// Holds the line (`true`) or lets it go (`false`).
    pub fn set(&self, held: bool) -> io::Result<()> {
        use nix::sys::termios::{FlowArg, tcflow};
        let action = if held {
            FlowArg::TCOOFF
        } else {
            FlowArg::TCOON
        };
        tcflow(self.slave.as_raw_fd(), action).map_err(io::Error::from)
    }
}

/// A symlink that is removed when dropped.
#[derive(Debug)]
pub struct SymlinkGuard {
    path: PathBuf,
}

impl SymlinkGuard {
    /// Makes `link` point at `target`. An existing symlink at `link` is
    /// replaced; any other file there is an error.
    pub fn create(target: &Path, link: &Path) -> io::Result<SymlinkGuard> {
        if let Ok(meta) = std::fs::symlink_metadata(link) {
            if meta.file_type().is_symlink() {
                std::fs::remove_file(link)?;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a symlink", link.display()),
                ));
            }
        }
        std::os::unix::fs::symlink(target, link)?;
        Ok(SymlinkGuard {
            path: link.to_path_buf(),
        })
    }
}

impl Drop for SymlinkGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove symlink");
        }
    }
}

/// An in-process link: `(pen end, host end)`.
pub fn duplex() -> (DuplexStream, DuplexStream) {
    tokio::io::duplex(64 * 1024)
}
