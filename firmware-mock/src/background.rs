//! A mock pen on a real pseudo-terminal, run on a thread of its own: what
//! end-to-end tests (and tools that need a pen beside them) attach to as
//! they would to a USB pen.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::runner::{Mock, MockConfig};
use crate::transport::Pty;

/// How long [`BackgroundPen::start`] waits for the terminal to open.
const OPEN_LIMIT: Duration = Duration::from_secs(5);

/// A mock pen serving a pseudo-terminal until ended (or dropped).
///
/// The terminal's slave side stays open inside the mock's [`Pty`], so the
/// mock does not see a host close the port: it serves until told to end.
pub struct BackgroundPen {
    path: String,
    started: Instant,
    end: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Mock>>,
}

impl BackgroundPen {
    /// Opens a terminal (reached through the symlink `link` when given, as
    /// `penlab mock --link` makes) and serves it with a mock of `config`.
    pub fn start(config: MockConfig, link: Option<PathBuf>) -> io::Result<BackgroundPen> {
        let (opened_tx, opened_rx) = mpsc::channel();
        let (end, end_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("background-pen".into())
            .spawn(move || {
                let mut mock = Mock::new(config);
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return mock;
                    }
                };
                runtime.block_on(async {
                    let mut pty = match Pty::open(link.as_deref()) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = opened_tx.send(Err(e));
                            return;
                        }
                    };
                    let path = pty
                        .link()
                        .unwrap_or(pty.path())
                        .to_string_lossy()
                        .into_owned();
                    let _ = opened_tx.send(Ok((path, Instant::now())));
                    tokio::select! {
                        r = mock.run(&mut pty.master) => {
                            tracing::warn!("the background pen ended by itself: {r:?}");
                        }
                        _ = end_rx => {}
                    }
                });
                mock
            })?;
        let (path, started) = opened_rx.recv_timeout(OPEN_LIMIT).map_err(|_| {
            io::Error::other("the background pen's thread did not open a terminal")
        })??;
        Ok(BackgroundPen {
            path,
            started,
            end: Some(end),
            thread: Some(thread),
        })
    }

    /// The terminal (or its link) a host opens.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// When the mock started serving: its transcript's zero, near enough.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Ends the mock, closes its side of the terminal and gives it back
    /// (with its transcript, when its config records one).
    pub fn end(mut self) -> Mock {
        if let Some(end) = self.end.take() {
            let _ = end.send(());
        }
        let thread = self.thread.take().expect("a background pen ends once");
        match thread.join() {
            Ok(mock) => mock,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for BackgroundPen {
    fn drop(&mut self) {
        if let Some(end) = self.end.take() {
            let _ = end.send(());
        }
    }
}
