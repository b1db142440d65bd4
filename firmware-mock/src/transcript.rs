//! Every byte both ways, with the virtual time it passed the mock's end of
//! the link: two runs are the same run exactly when their transcripts are
//! equal.

use std::fmt::Write as _;

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
        let mut s = String::new();
        for c in &self.chunks {
            let who = match c.dir {
                Dir::HostToPen => "host",
                Dir::PenToHost => " pen",
            };
            let _ = write!(s, "{:>12} {who}:", c.t_us);
            for b in &c.bytes {
                let _ = write!(s, " {b:02x}");
            }
            s.push('\n');
        }
        s
    }
}
