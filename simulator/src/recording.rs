//! The recorded-session format (JSON lines, see the crate README) in one
//! place: [`FORMAT`] and [`VERSION`], the line written for an event
//! ([`record_line`]), the writer that puts a live pen's late strikes back
//! in time order ([`Recorder`]), and the streaming reader ([`Recording`]),
//! an iterator over a file's events that holds one line at a time, so a
//! recording of a whole training day scores in the memory of one line.
//!
//! Every error names `file:line:column`, shows the line and puts a caret
//! under the place ([`penlab_diagnostics::SourceError`]).

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use penlab_diagnostics::SourceError;

use crate::error::{Error, Result};
use crate::pose::Pose;
use crate::session::{Event, EventSink};

/// The `format` of a recording's header line.
pub const FORMAT: &str = "penlab-session";
/// The format version this code writes and reads.
pub const VERSION: u32 = 1;

/// The header line of a recording made with `tool` on `surface`.
pub fn header(tool: Option<&str>, surface: Option<&str>) -> Event {
    Event::Header {
        format: FORMAT.into(),
        version: VERSION,
        tool: tool.map(str::to_owned),
        surface: surface.map(str::to_owned),
    }
}

/// One recorded-session line (without the newline) for an event.
pub fn record_line(event: &Event) -> Result<String> {
    serde_json::to_string(event).map_err(|e| Error::Invalid(e.to_string()))
}

/// Parses one line of a recorded session; `line_no` is 1-based, for errors.
/// Checks what one line can show (finite values, ranges, the header's
/// format and version); [`Recording`] checks the order of times.
pub fn parse_line(path: &Path, line_no: usize, line: &str) -> Result<Event, Box<SourceError>> {
    let at = |column: usize, message: String| {
        Box::new(SourceError::in_line(path, line_no, line, column, message))
    };
    let event: Event =
        serde_json::from_str(line).map_err(|e| at(e.column().max(1), e.to_string()))?;
    let column_of = |key: &str| {
        line.find(&format!("\"{key}\""))
            .map_or(1, |i| char_column(line, i))
    };
    match &event {
        Event::Pose(p) => {
            let finite = p.t.is_finite()
                && p.position.is_finite()
                && p.orientation.is_finite()
                && p.force_n.is_finite()
                && p.depth_mm.is_finite();
            if !finite {
                return Err(at(1, "pose has a non-finite value".into()));
            }
            if p.orientation.length() < 1e-6 {
                return Err(at(
                    column_of("orientation"),
                    "pose orientation is a zero quaternion".into(),
                ));
            }
            if p.force_n < 0.0 {
                return Err(at(column_of("force_n"), "pose needs force_n ≥ 0".into()));
            }
            if !(0.0..=5.0).contains(&p.depth_mm) {
                return Err(at(
                    column_of("depth_mm"),
                    "pose needs depth_mm within 0 to 5".into(),
                ));
            }
        }
        Event::Strike {
            depth_mm: Some(d), ..
        } if !(0.0..=5.0).contains(d) => {
            return Err(at(
                column_of("depth_mm"),
                "strike depth_mm must be within 0 to 5".into(),
            ));
        }
        Event::Header {
            format, version, ..
        } => {
            if format != FORMAT {
                return Err(at(
                    column_of("format"),
                    format!("header format is {format:?}, expected {FORMAT:?}"),
                ));
            }
            if *version > VERSION {
                return Err(at(
                    column_of("version"),
                    format!(
                        "recording format version {version}; this penlab reads version {VERSION}"
                    ),
                ));
            }
        }
        Event::Strike { .. } => {}
    }
    Ok(event)
}

/// The 1-based character column of byte `offset` of `line`.
fn char_column(line: &str, offset: usize) -> usize {
    line.char_indices().take_while(|(i, _)| *i < offset).count() + 1
}

/// The time of an event, s; a header has none.
pub fn time_of(event: &Event) -> Option<f64> {
    match event {
        Event::Pose(p) => Some(p.t),
        Event::Strike { t, .. } => Some(*t),
        Event::Header { .. } => None,
    }
}

/// The events of a recording, read a line at a time: blank lines skipped,
/// pose orientations normalised, times checked to never go backwards.
/// After an error the stream ends.
pub struct Recording<R: BufRead> {
    path: PathBuf,
    input: R,
    line: String,
    line_no: usize,
    last_t: f64,
    done: bool,
}

impl Recording<io::BufReader<std::fs::File>> {
    /// Opens a recording file.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Recording::new(
            path,
            io::BufReader::with_capacity(1 << 16, file),
        ))
    }
}

impl<R: BufRead> Recording<R> {
    /// Reads recorded-session lines from `input`; `path` names them in
    /// errors.
    pub fn new(path: impl Into<PathBuf>, input: R) -> Self {
        Recording {
            path: path.into(),
            input,
            line: String::new(),
            line_no: 0,
            last_t: f64::NEG_INFINITY,
            done: false,
        }
    }

    fn read_event(&mut self) -> Result<Option<Event>> {
        loop {
            self.line.clear();
            if self
                .input
                .read_line(&mut self.line)
                .map_err(|e| Error::io(&self.path, e))?
                == 0
            {
                return Ok(None);
            }
            self.line_no += 1;
            let text = self.line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let mut event = parse_line(&self.path, self.line_no, text)?;
            if let Event::Pose(p) = &mut event {
                p.orientation = p.orientation.normalize();
            }
            if let Some(t) = time_of(&event) {
                if t < self.last_t {
                    let column = text.find("\"t\"").map_or(1, |i| char_column(text, i));
                    return Err(Error::from(SourceError::in_line(
                        &self.path,
                        self.line_no,
                        text,
                        column,
                        format!(
                            "time {t} s goes backwards (previous event at {} s)",
                            self.last_t
                        ),
                    )));
                }
                self.last_t = t;
            }
            return Ok(Some(event));
        }
    }
}

impl<R: BufRead> Iterator for Recording<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.read_event().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// How far a recording goes: the time of its last event, s, read from the
/// file's tail (the last 64 KiB), so a recording of any length answers at
/// once. `None` for a recording with no timed event in its tail; a torn
/// last line (a recording cut short) is skipped.
pub fn last_time(path: &Path) -> Result<Option<f64>> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 64 * 1024;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let start = len.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(path, e))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    file.read_to_end(&mut tail)
        .map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&tail);
    let mut lines = text.lines();
    if start > 0 {
        // The first line of the tail is most likely cut; it is not read.
        lines.next();
    }
    Ok(lines
        .rev()
        .filter(|l| !l.trim().is_empty())
        .find_map(|l| parse_line(path, 0, l).ok().as_ref().and_then(time_of)))
}

/// Streams a recorded session file into `session` (memory independent of
/// its length).
pub fn replay_file(path: &Path, session: &mut dyn EventSink) -> Result<()> {
    for event in Recording::open(path)? {
        session.push(&event?);
    }
    Ok(())
}

/// Streams recorded-session lines into `session`; `path` names them in errors.
pub fn replay(path: &Path, reader: impl BufRead, session: &mut dyn EventSink) -> Result<()> {
    for event in Recording::new(path, reader) {
        session.push(&event?);
    }
    Ok(())
}

/// How long [`Recorder`] holds events back to put late strikes in order, s.
pub const HOLD_S: f64 = 1.0;

/// Writes a session as it happens. A pen reports its strikes in batches, a
/// little after the tool moved on, while the format wants events in time
/// order: the recorder holds events back for [`HOLD_S`] and writes them
/// sorted (an event later than that is written at the earliest time still
/// open).
pub struct Recorder<W: Write> {
    out: W,
    held: VecDeque<Event>,
    written_t: f64,
    events: u64,
}

impl<W: Write> Recorder<W> {
    /// Starts a recording with its header line.
    pub fn new(mut out: W, tool: &str, surface: &str) -> io::Result<Self> {
        write_event(&mut out, &header(Some(tool), Some(surface)))?;
        Ok(Recorder {
            out,
            held: VecDeque::new(),
            written_t: f64::NEG_INFINITY,
            events: 0,
        })
    }

    /// Records a pose.
    pub fn pose(&mut self, pose: &Pose) -> io::Result<()> {
        self.hold(Event::Pose(*pose))
    }

    /// Records a strike at `t` with its measured depth, mm.
    pub fn strike(&mut self, t: f64, depth_mm: f32) -> io::Result<()> {
        self.hold(Event::Strike {
            t,
            depth_mm: Some(depth_mm),
        })
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Writes everything held and flushes; gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_until(f64::INFINITY)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn hold(&mut self, mut event: Event) -> io::Result<()> {
        let Some(t) = time_of(&event).filter(|t| t.is_finite()) else {
            return Ok(());
        };
        if t < self.written_t {
            match &mut event {
                Event::Pose(p) => p.t = self.written_t,
                Event::Strike { t, .. } => *t = self.written_t,
                Event::Header { .. } => {}
            }
        }
        let t = t.max(self.written_t);
        let at = self
            .held
            .partition_point(|e| time_of(e).is_some_and(|x| x <= t));
        self.held.insert(at, event);
        let newest = self.held.back().and_then(time_of).unwrap_or(t);
        self.write_until(newest - HOLD_S)
    }

    fn write_until(&mut self, until: f64) -> io::Result<()> {
        while let Some(t) = self.held.front().and_then(time_of).filter(|t| *t <= until) {
            let Some(event) = self.held.pop_front() else {
                break;
            };
            self.written_t = t;
            write_event(&mut self.out, &event)?;
            self.events += 1;
        }
        Ok(())
    }
}

fn write_event(out: &mut impl Write, event: &Event) -> io::Result<()> {
    let line = record_line(event).map_err(|e| io::Error::other(e.to_string()))?;
    writeln!(out, "{line}")
}

#[cfg(test)]
mod tests;
