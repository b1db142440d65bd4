//! Reading a JSON-lines capture as a stream: one line in memory at a time,
//! plus a bounded window that puts slightly interleaved records back in
//! time order. Memory does not depend on the capture's length.

use std::collections::VecDeque;
use std::io::BufRead;

use penlab_protocol::message::Direction;

use super::{CaptureError, FORMAT, Header, Record, VERSION};

/// How many records the reader holds back to restore time order. The
/// writers stamp each record just before writing it, so records are out of
/// order by a few at most; a record displaced further than this comes out
/// where it lies in the file. 1,024 records of at most one 4 KiB read each
/// bound the window at about 4 MiB.
pub const REORDER_WINDOW: usize = 1_024;

/// The records of a capture, read one line at a time, in time order (a
/// stable order: records of one instant keep their file order).
///
/// A cut-off last line (a killed run) ends the stream without an error and
/// sets [`Records::truncated_tail`]; any other bad line is an error naming
/// its line, column and byte offset, after which the stream ends.
pub struct Records<R: BufRead> {
    input: R,
    header: Header,
    line: Vec<u8>,
    /// 1-based number of the line last read.
    line_no: usize,
    /// Byte offset of the line after the one last read.
    offset: u64,
    held: VecDeque<Record>,
    eof: bool,
    truncated_tail: bool,
}

impl<R: BufRead> Records<R> {
    /// Reads the header line and returns the stream of records after it.
    pub fn new(mut input: R) -> Result<Self, CaptureError> {
        let mut line = Vec::new();
        let n = input.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(CaptureError::NotACapture("the file is empty".into()));
        }
        let header: Header = serde_json::from_slice(line.trim_ascii_end())
            .map_err(|e| CaptureError::NotACapture(e.to_string()))?;
        if header.format != FORMAT {
            return Err(CaptureError::NotACapture(format!(
                "format is {:?}",
                header.format
            )));
        }
        if header.version > VERSION {
            return Err(CaptureError::Version {
                found: header.version,
            });
        }
        Ok(Records {
            input,
            header,
            line,
            line_no: 1,
            offset: n as u64,
            held: VecDeque::with_capacity(REORDER_WINDOW + 1),
            eof: false,
            truncated_tail: false,
        })
    }

    /// The capture's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Whether the last line was cut off mid-write and skipped; known once
    /// the stream has ended.
    pub fn truncated_tail(&self) -> bool {
        self.truncated_tail
    }

    /// Reads the next record line from the file (in file order), `None` at
    /// the end.
    fn read_record(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            self.line.clear();
            let start = self.offset;
            let n = self.input.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                return Ok(None);
            }
            self.offset += n as u64;
            self.line_no += 1;
            let complete = self.line.last() == Some(&b'\n');
            let text = self.line.trim_ascii_end();
            if text.is_empty() {
                continue;
            }
            if let Some(record) = parse_fast(text) {
                return Ok(Some(record));
            }
            match serde_json::from_slice::<Record>(text) {
                Ok(record) => return Ok(Some(record)),
                // Only the last line can lack its newline.
                Err(_) if !complete => {
                    self.truncated_tail = true;
                    return Ok(None);
                }
                Err(e) => {
                    return Err(CaptureError::BadRecord {
                        line: self.line_no,
                        column: e.column(),
                        offset: start + e.column().saturating_sub(1) as u64,
                        message: e.to_string(),
                    });
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = Result<Record, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.eof && self.held.len() <= REORDER_WINDOW {
            match self.read_record() {
                Ok(Some(record)) => hold(&mut self.held, record),
                Ok(None) => self.eof = true,
                Err(e) => {
                    self.eof = true;
                    self.held.clear();
                    return Some(Err(e));
                }
            }
        }
        self.held.pop_front().map(Ok)
    }
}

/// Inserts `record` after every held record not later than it: in order,
/// that is a push at the back.
fn hold(held: &mut VecDeque<Record>, record: Record) {
    if held.back().is_none_or(|r| r.t_us <= record.t_us) {
        held.push_back(record);
    } else {
        let at = held.partition_point(|r| r.t_us <= record.t_us);
        held.insert(at, record);
    }
}

/// The line as the writer writes it, `{"t_us":N,"dir":"…","hex":"…"}`,
/// read without the general JSON parser; `None` for anything else, which
/// the JSON parser then reads (or names what is wrong). It accepts only
/// what `serde_json` reads to the same record.
fn parse_fast(line: &[u8]) -> Option<Record> {
    let rest = line.strip_prefix(b"{\"t_us\":")?;
    let digits = rest.iter().position(|b| !b.is_ascii_digit())?;
    // JSON numbers have no leading zeros.
    if digits == 0 || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    let mut t_us: u64 = 0;
    for &d in &rest[..digits] {
        t_us = t_us.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    let rest = &rest[digits..];
    let (dir, rest) = if let Some(r) = rest.strip_prefix(b",\"dir\":\"pen_to_host\",\"hex\":\"") {
        (Direction::PenToHost, r)
    } else {
        let r = rest.strip_prefix(b",\"dir\":\"host_to_pen\",\"hex\":\"")?;
        (Direction::HostToPen, r)
    };
    let hex = rest.strip_suffix(b"\"}")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = decode_hex(hex)?;
    Some(Record {
        t_us,
        dir,
        hex: bytes,
        event: None,
        detail: None,
    })
}

/// The value of each hex digit (either case); 0xFF for anything else.
const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Hex digits to bytes, a table look-up a digit (the `hex` crate's
/// decoder, at a byte a branch, was a sixth of replay's time); `None` when
/// any is no hex digit.
fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    // Collected from a slice's iterator: one allocation of the exact size
    // and no capacity check per byte (a `push` loop was a fifth of
    // `replay`'s instructions).
    let mut bad = 0;
    let bytes = hex
        .as_chunks::<2>()
        .0
        .iter()
        .map(|&[hi, lo]| {
            let (hi, lo) = (HEX[usize::from(hi)], HEX[usize::from(lo)]);
            bad |= hi | lo;
            hi << 4 | (lo & 0x0F)
        })
        .collect();
    (bad & 0x80 == 0).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> Vec<u8> {
        let mut out = serde_json::to_vec(&Header::new("x", 0, None)).unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn out_of_order_records_come_out_in_time_order_stably() {
        let mut file = header();
        for (t, hex) in [(30, "01"), (10, "02"), (20, "03"), (10, "04"), (40, "05")] {
            file.extend_from_slice(
                format!("{{\"t_us\":{t},\"dir\":\"pen_to_host\",\"hex\":\"{hex}\"}}\n").as_bytes(),
            );
        }
        let records: Vec<(u64, u8)> = Records::new(&file[..])
            .unwrap()
            .map(|r| r.unwrap())
            .map(|r| (r.t_us, r.hex[0]))
            .collect();
        assert_eq!(records, [(10, 2), (10, 4), (20, 3), (30, 1), (40, 5)]);
    }

    #[test]
    fn a_bad_line_names_its_line_column_and_byte_offset() {
        let mut file = header();
        let at = file.len();
        file.extend_from_slice(b"{\"t_us\":5,\"dir\":\"pen_to_host\",\"hex\":\"0g\"}\n");
        let err = Records::new(&file[..])
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        let CaptureError::BadRecord { line, offset, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 2);
        assert!(*offset > at as u64, "{err}");
        assert!(err.to_string().contains("byte "), "{err}");
    }

    proptest! {
        /// The fast path reads exactly what the JSON parser reads.
        #[test]
        fn the_fast_path_agrees_with_serde(
            t in any::<u64>(),
            pen in any::<bool>(),
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            upper in any::<bool>(),
            noise in proptest::option::of((0usize..60, any::<u8>())),
        ) {
            let dir = if pen { "pen_to_host" } else { "host_to_pen" };
            let hex = if upper { hex::encode_upper(&bytes) } else { hex::encode(&bytes) };
            let mut line = format!("{{\"t_us\":{t},\"dir\":\"{dir}\",\"hex\":\"{hex}\"}}").into_bytes();
            if let Some((at, b)) = noise {
                let at = at.min(line.len() - 1);
                line[at] = b;
            }
            let fast = parse_fast(&line);
            prop_assert!(fast.is_some() || noise.is_some(), "a written line takes the fast path");
            if let Some(fast) = fast {
                let slow: Record = serde_json::from_slice(&line).unwrap();
                prop_assert_eq!(fast, slow);
            }
        }
    }
}
