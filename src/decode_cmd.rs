//! `penlab decode`: protocol bytes in, frames and errors out, one a line.

use std::io::Read;
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
/// did not.
pub fn run(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let bytes = input_bytes(&args)?;
    let mut decoder = Decoder::new();
    let mut input = &bytes[..];
    let mut failures = 0usize;
    while let Some(result) = decoder.decode_packet(&mut input) {
        let end = bytes.len() - input.len();
        failures += usize::from(result.is_err());
        print_line(end, Ok(result), args.json);
    }
    if let Some(error) = decoder.finish() {
        failures += 1;
        print_line(bytes.len(), Err(error), args.json);
    }
    let stats = decoder.stats();
    if !args.json {
        println!(
            "{} frame(s), {failures} error(s), {} byte(s)",
            stats.frames, stats.bytes
        );
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A decoded packet or error, or an error at the end of the stream.
type Line = Result<Result<Packet, DecodeError>, DecodeError>;

fn print_line(end: usize, line: Line, json: bool) {
    let result = line.unwrap_or_else(Err);
    match (json, result) {
        (true, Ok(packet)) => println!("{}", serde_json::json!({ "end": end, "packet": packet })),
        (true, Err(e)) => println!(
            "{}",
            serde_json::json!({ "end": end, "error": e.code(), "detail": e, "message": e.to_string() })
        ),
        (false, Ok(packet)) => println!(
            "@{end:>6}  seq {:>5}  {:<13} {}",
            packet.seq,
            packet.message.msg_type().name(),
            serde_json::to_string(&packet.message).unwrap_or_default()
        ),
        (false, Err(e)) => println!("@{end:>6}  error {:<13} {e}", e.code()),
    }
}

fn input_bytes(args: &DecodeArgs) -> anyhow::Result<Vec<u8>> {
    if !args.hex.is_empty() {
        return parse_hex(&args.hex.join(" "));
    }
    let mut bytes = Vec::new();
    match &args.file {
        Some(path) => {
            bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
        }
    }
    Ok(bytes)
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
