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

use penlab_protocol::codec::Decoder;
use penlab_protocol::message::Packet;
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

    /// The frames of both directions, decoded (each direction by its own
    /// decoder, as the two ends of a link would): (t µs of the chunk that
    /// completed it, direction, packet), in order. Frames that do not
    /// decode are left out.
    pub fn packets(&self) -> Vec<(u64, Dir, Packet)> {
        let (mut from_host, mut from_pen) = (Decoder::new(), Decoder::new());
        let mut packets = Vec::new();
        for chunk in &self.chunks {
            let decoder = match chunk.dir {
                Dir::HostToPen => &mut from_host,
                Dir::PenToHost => &mut from_pen,
            };
            decoder.feed(&chunk.bytes, |r| {
                if let Ok(packet) = r {
                    packets.push((chunk.t_us, chunk.dir, packet));
                }
            });
        }
        packets
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

/// A transcript file read back (what [`TranscriptFile`] wrote): for a
/// host, or a test, that drove the mock from outside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WrittenTranscript {
    /// The wall-clock time `t_us` counts from, µs since the Unix epoch.
    pub started_unix_us: u64,
    /// The bytes both ways.
    pub transcript: Transcript,
    /// The notes (link faults starting and ending): (t µs, text).
    pub notes: Vec<(u64, String)>,
}

impl WrittenTranscript {
    /// Parses a transcript file's text; `None` before its header is
    /// written. A file still being written may end in a line cut short
    /// (each line is one write): a last line without its newline is left
    /// for the next read, as is any line that is not a transcript line.
    pub fn parse(text: &str) -> Option<WrittenTranscript> {
        let whole = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => return None,
        };
        let mut lines = whole.lines();
        let started_unix_us = lines
            .next()?
            .strip_prefix("# penlab-mock transcript started_unix_us=")?
            .parse()
            .ok()?;
        let mut read = WrittenTranscript {
            started_unix_us,
            ..WrittenTranscript::default()
        };
        for line in lines {
            let Some((t, rest)) = line.trim_start().split_once(' ') else {
                continue;
            };
            let Ok(t_us) = t.parse::<u64>() else {
                continue;
            };
            let rest = rest.trim_start();
            if let Some(note) = rest.strip_prefix("note: ") {
                read.notes.push((t_us, note.to_owned()));
                continue;
            }
            let (dir, hex) = match rest.split_once(':') {
                Some(("host", hex)) => (Dir::HostToPen, hex),
                Some(("pen", hex)) => (Dir::PenToHost, hex),
                _ => continue,
            };
            let bytes: Option<Vec<u8>> = hex
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).ok())
                .collect();
            if let Some(bytes) = bytes {
                read.transcript.record(t_us, dir, &bytes);
            }
        }
        Some(read)
    }

    /// Reads the transcript file at `path` as it stands (see
    /// [`WrittenTranscript::parse`]); `None` if nothing is written yet.
    pub fn read(path: &Path) -> io::Result<Option<WrittenTranscript>> {
        Ok(WrittenTranscript::parse(&std::fs::read_to_string(path)?))
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
        let read = WrittenTranscript::read(&path).unwrap().unwrap();
        assert_eq!(read.transcript.chunks.len(), 2);
        assert_eq!(read.transcript.chunks[1].t_us, 1_500);
        assert_eq!(read.transcript.chunks[1].dir, Dir::PenToHost);
        assert_eq!(read.transcript.chunks[1].bytes, [0xab, 0x00]);
        assert_eq!(
            read.notes,
            [(1_500, "link fault: the pen stops reading".to_owned())]
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_line_cut_short_waits_for_the_next_read() {
        let text = "# penlab-mock transcript started_unix_us=42\n           3 host: 01 02\n           5  pen: 0";
        let read = WrittenTranscript::parse(text).unwrap();
        assert_eq!(read.started_unix_us, 42);
        assert_eq!(read.transcript.to_text(), "           3 host: 01 02\n");
        assert_eq!(WrittenTranscript::parse("# penlab-mock transc"), None);
        assert_eq!(WrittenTranscript::parse("not a transcript\n"), None);
    }

    #[test]
    fn packets_are_decoded_each_way() {
        use penlab_protocol::codec::encode_packet;
        use penlab_protocol::message::Message;
        let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
        let n = encode_packet(
            &Packet {
                seq: 4,
                message: Message::Heartbeat,
            },
            &mut wire,
        )
        .unwrap();
        let mut t = Transcript::default();
        // Split across two reads, with a pen frame between the halves.
        t.record(1, Dir::HostToPen, &wire[..2]);
        t.record(2, Dir::PenToHost, &wire[..n]);
        t.record(3, Dir::HostToPen, &wire[2..n]);
        let packets = t.packets();
        assert_eq!(packets.len(), 2);
        assert_eq!((packets[0].0, packets[0].1), (2, Dir::PenToHost));
        assert_eq!((packets[1].0, packets[1].1), (3, Dir::HostToPen));
        assert_eq!(packets[1].2.seq, 4);
    }

    #[test]
    fn text_lines_are_the_chunk_lines() {
        let mut t = Transcript::default();
        t.record(7, Dir::PenToHost, &[1, 2]);
        t.record(9, Dir::HostToPen, &[]);
        assert_eq!(t.to_text(), "           7  pen: 01 02\n");
    }
}
