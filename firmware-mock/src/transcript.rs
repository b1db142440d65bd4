//! Every byte both ways, with the virtual time it passed the mock's end of
//! the link: two runs are the same run exactly when their transcripts are
//! equal.
//!
//! [`TranscriptFile`] writes the same lines to a file as the bytes pass
//! (`penlab mock --transcript FILE`), so that whoever drives the mock from
//! outside can see what the pen read and wrote, and when.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Host to pen, as the pen read them.
    HostToPen,
    /// Pen to host, as the pen wrote them (after link faults).
    PenToHost,
}

/// One read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Mock uptime, microseconds.
    pub t_us: u64,
    /// Direction.
    pub dir: Dir,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The bytes of a session, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Reads and writes in order.
    pub chunks: Vec<Chunk>,
}

impl Transcript {
    /// Appends a chunk.
    pub fn record(&mut self, t_us: u64, dir: Dir, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.chunks.push(Chunk {
                t_us,
                dir,
                bytes: bytes.to_vec(),
            });
        }
    }

    /// Total bytes in one direction.
    pub fn bytes(&self, dir: Dir) -> usize {
        self.chunks
            .iter()
            .filter(|c| c.dir == dir)
            .map(|c| c.bytes.len())
            .sum()
    }

    /// One line per chunk: `t_us host|pen hex…`.
    pub fn to_text(&self) -> String {
        self.chunks.iter().map(Chunk::line).collect()
    }
}

impl Chunk {
    /// The chunk as a transcript line, `      123456 host: 00 02 …\n`.
    pub fn line(&self) -> String {
        let who = match self.dir {
            Dir::HostToPen => "host",
            Dir::PenToHost => " pen",
        };
        let mut s = format!("{:>12} {who}:", self.t_us);
        for b in &self.bytes {
            let _ = write!(s, " {b:02x}");
        }
        s.push('\n');
        s
    }
}

/// A transcript written to a file as it goes, one [`Chunk::line`] per read
/// or write, flushed at once. The first line is a header,
/// `# penlab-mock transcript started_unix_us=N`, the wall-clock time that
/// `t_us` counts from; lines `t_us note: …` mark link faults as they start
/// and end.
#[derive(Debug)]
pub struct TranscriptFile {
    out: Mutex<std::fs::File>,
    start: Instant,
}

impl TranscriptFile {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path) -> io::Result<Arc<TranscriptFile>> {
        let mut out = std::fs::File::create(path)?;
        let unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        writeln!(out, "# penlab-mock transcript started_unix_us={unix_us}")?;
        Ok(Arc::new(TranscriptFile {
            out: Mutex::new(out),
            start: Instant::now(),
        }))
    }

    fn t_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Appends the bytes that went one way just now.
    pub fn record(&self, dir: Dir, bytes: &[u8]) {
        if !bytes.is_empty() {
            let chunk = Chunk {
                t_us: self.t_us(),
                dir,
                bytes: bytes.to_vec(),
            };
            self.write(&chunk.line());
        }
    }

    /// Appends a note (a link fault starting or ending).
    pub fn note(&self, text: &str) {
        self.write(&format!("{:>12} note: {text}\n", self.t_us()));
    }

    fn write(&self, line: &str) {
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "transcript not written");
        }
    }
}

/// A pen's end of a link that copies every byte it reads and writes into a
/// [`TranscriptFile`] (when there is one): reads as the pen received them,
/// writes as it sent them, after any link faults.
pub struct Recorded<S> {
    inner: S,
    file: Option<Arc<TranscriptFile>>,
}

impl<S> Recorded<S> {
    /// Records `inner`'s traffic into `file`, if any.
    pub fn new(inner: S, file: Option<Arc<TranscriptFile>>) -> Self {
        Recorded { inner, file }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let start = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if let Some(file) = &self.file {
            file.record(Dir::HostToPen, &buf.filled()[start..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        if let Some(file) = &self.file {
            file.record(Dir::PenToHost, &buf[..n]);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_transcript_file_has_every_byte_both_ways_as_it_goes() {
        let path =
            std::env::temp_dir().join(format!("penlab-transcript-{}.txt", std::process::id()));
        let file = TranscriptFile::create(&path).unwrap();
        let (pen, mut host) = tokio::io::duplex(256);
        let mut pen = Recorded::new(pen, Some(file.clone()));
        host.write_all(&[0x02, 0x01, 0x00]).await.unwrap();
        let mut buf = [0u8; 8];
        let n = pen.read(&mut buf).await.unwrap();
        assert_eq!(n, 3);
        tokio::time::advance(std::time::Duration::from_micros(1_500)).await;
        pen.write_all(&[0xab, 0x00]).await.unwrap();
        file.note("link fault: the pen stops reading");
        // Written as it goes: readable before anything is closed.
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("# penlab-mock transcript started_unix_us="),
            "{text}"
        );
        assert_eq!(lines[1], "           0 host: 02 01 00");
        assert_eq!(lines[2], "        1500  pen: ab 00");
        assert_eq!(
            lines[3],
            "        1500 note: link fault: the pen stops reading"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn text_lines_are_the_chunk_lines() {
        let mut t = Transcript::default();
        t.record(7, Dir::PenToHost, &[1, 2]);
        t.record(9, Dir::HostToPen, &[]);
        assert_eq!(t.to_text(), "           7  pen: 01 02\n");
    }
}
