//! Work that leaves the main thread: file reads and writes (a replay's
//! recording, an export). The view's frame must never wait on a disk, and
//! the pen link stops the motor when the main loop stops polling it, so a
//! slow disk must not freeze the window.

use std::sync::Mutex;
use std::sync::mpsc;

/// A job on a thread of its own; its result is picked up by a later frame
/// with [`Background::poll`].
#[derive(Debug)]
pub struct Background<T> {
    what: String,
    // `Receiver` is not `Sync`; only the frame that owns the job polls it.
    result: Mutex<mpsc::Receiver<T>>,
}

/// How a background job stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress<T> {
    /// Still running.
    Running,
    /// Finished with this result.
    Done(T),
    /// Its thread ended without a result (it panicked, or could not start).
    Failed,
}

impl<T: Send + 'static> Background<T> {
    /// Starts `work` on a new thread; `what` names it for the panel and the
    /// thread list.
    pub fn spawn(what: impl Into<String>, work: impl FnOnce() -> T + Send + 'static) -> Self {
        let what = what.into();
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(format!(
                "penlab-{}",
                what.split_whitespace().next().unwrap_or("job")
            ))
            .spawn(move || {
                let _ = tx.send(work());
            });
        if let Err(e) = spawned {
            tracing::error!("{what}: could not start a thread: {e}");
        }
        Background {
            what,
            result: Mutex::new(rx),
        }
    }

    /// What the job does.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Its result, once it has one (never blocks).
    pub fn poll(&self) -> Progress<T> {
        let rx = self.result.lock().unwrap_or_else(|e| e.into_inner());
        match rx.try_recv() {
            Ok(result) => Progress::Done(result),
            Err(mpsc::TryRecvError::Empty) => Progress::Running,
            Err(mpsc::TryRecvError::Disconnected) => Progress::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn wait<T: Send + 'static>(job: &Background<T>) -> Progress<T> {
        let start = Instant::now();
        loop {
            match job.poll() {
                Progress::Running => {
                    assert!(start.elapsed() < Duration::from_secs(5), "never finished");
                    std::thread::sleep(Duration::from_millis(2));
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_slow_job_does_not_block_the_caller_and_its_result_arrives() {
        let (go, gate) = mpsc::channel::<()>();
        let job = Background::spawn("read a slow disk", move || {
            gate.recv().unwrap();
            42
        });
        // The caller's frame goes on while the job waits.
        assert_eq!(job.poll(), Progress::Running);
        assert_eq!(job.what(), "read a slow disk");
        go.send(()).unwrap();
        assert_eq!(wait(&job), Progress::Done(42));
    }

    #[test]
    fn a_job_that_panics_is_reported_failed() {
        let job = Background::spawn("fail", || -> u32 { panic!("a bug in the job") });
        assert_eq!(wait(&job), Progress::Failed);
    }
}
