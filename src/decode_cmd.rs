//! `penlab decode`: protocol bytes in, frames and errors out, one a line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use penlab_protocol::codec::{DecodeError, Decoder};
use penlab_protocol::message::Packet;

/// Arguments of `penlab decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Bytes as hex (spaces, colons and `0x` prefixes allowed). Without it,
    /// raw bytes are read from `--file` or standard input.
    hex: Vec<String>,
    /// A file of raw bytes as they came off the line.
    #[arg(long, short, conflicts_with = "hex")]
    file: Option<PathBuf>,
    /// One JSON object a line instead of text.
    #[arg(long)]
    json: bool,
}

/// Decodes and prints. Exit code 0 when every frame decoded, 1 when any
/// did not. Standard input is decoded as its bytes arrive (a frame is
/// printed as soon as its delimiter is read), so `penlab decode` can sit at
/// the end of a pipe from a live line.
pub fn run(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let mut stream = Stream::new(args.json);
    if !args.hex.is_empty() {
        stream.feed(&parse_hex(&args.hex.join(" "))?);
    } else {
        let mut reader: Box<dyn Read> = match &args.file {
            Some(path) => Box::new(
                std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
            ),
            None => Box::new(std::io::stdin().lock()),
        };
        let what = args
            .file
            .as_ref()
            .map_or_else(|| "standard input".to_owned(), |p| p.display().to_string());
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            // `read` returns what has arrived, not a full buffer.
            let n = match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).with_context(|| format!("reading {what}")),
            };
            stream.feed(&chunk[..n]);
        }
    }
    Ok(stream.finish())
}

/// The decoder and what it has printed so far.
struct Stream {
    decoder: Decoder,
    json: bool,
    /// Bytes fed so far: the offsets printed are into the whole input.
    fed: usize,
    failures: usize,
    out: std::io::Stdout,
}

impl Stream {
    fn new(json: bool) -> Self {
        Stream {
            decoder: Decoder::new(),
            json,
            fed: 0,
            failures: 0,
            out: std::io::stdout(),
        }
    }

    /// Decodes `bytes` and prints every frame they finish, flushed.
    fn feed(&mut self, bytes: &[u8]) {
        let mut input = bytes;
        let mut out = self.out.lock();
        while let Some(result) = self.decoder.decode_packet(&mut input) {
            let end = self.fed + bytes.len() - input.len();
            self.failures += usize::from(result.is_err());
            print_line(&mut out, end, Ok(result), self.json);
        }
        self.fed += bytes.len();
        let _ = out.flush();
    }

    /// Reports an unfinished frame and the totals; the exit code.
    fn finish(mut self) -> ExitCode {
        let mut out = self.out.lock();
        if let Some(error) = self.decoder.finish() {
            self.failures += 1;
            print_line(&mut out, self.fed, Err(error), self.json);
        }
        let stats = self.decoder.stats();
        if !self.json {
            let _ = writeln!(
                out,
                "{} frame(s), {} error(s), {} byte(s)",
                stats.frames, self.failures, stats.bytes
            );
        }
        let _ = out.flush();
        if self.failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

/// A decoded packet or error, or an error at the end of the stream.
type Line = Result<Result<Packet, DecodeError>, DecodeError>;

fn print_line(out: &mut impl Write, end: usize, line: Line, json: bool) {
    let result = line.unwrap_or_else(Err);
    // A closed standard output (`| head`) is not the decoder's error.
    let _ = match (json, result) {
        (true, Ok(packet)) => writeln!(
            out,
            "{}",
            serde_json::json!({ "end": end, "packet": packet })
        ),
        (true, Err(e)) => writeln!(
            out,
            "{}",
            serde_json::json!({ "end": end, "error": e.code(), "detail": e, "message": e.to_string() })
        ),
        (false, Ok(packet)) => writeln!(
            out,
            "@{end:>6}  seq {:>5}  {:<13} {}",
            packet.seq,
            packet.message.msg_type().name(),
            serde_json::to_string(&packet.message).unwrap_or_default()
        ),
        (false, Err(e)) => writeln!(out, "@{end:>6}  error {:<13} {e}", e.code()),
    };
}

/// Hex with any mix of spaces, colons, commas and `0x` prefixes.
fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let digits: String = text
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .map(|t| t.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    if let Some((at, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        bail!("not a hex digit: {c:?} (digit {} of the input)", at + 1);
    }
    if digits.len() % 2 == 1 {
        bail!(
            "odd number of hex digits ({}): a byte is two digits",
            digits.len()
        );
    }
    hex::decode(&digits).context("decoding hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_the_forms_people_paste() {
        assert_eq!(parse_hex("0a 02 01").unwrap(), [0x0a, 0x02, 0x01]);
        assert_eq!(parse_hex("0x0a,0x02").unwrap(), [0x0a, 0x02]);
        assert_eq!(parse_hex("0a:02:01").unwrap(), [0x0a, 0x02, 0x01]);
        assert!(
            parse_hex("0a 0")
                .unwrap_err()
                .to_string()
                .contains("odd number")
        );
        assert!(parse_hex("0g").unwrap_err().to_string().contains("'g'"));
    }
}
