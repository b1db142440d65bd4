//! `penlab replay`: a capture, decoded frame by frame, with each side's
//! sequence numbers checked; optionally exported to pcapng for Wireshark
//! and tshark (tools/wireshark/penlab.lua decodes it there, with the same
//! sequence checks).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use penlab_host::capture::{self, Entry, Event, Mark};
use penlab_protocol::codec::DecodeError;
use penlab_protocol::message::{Direction, Message, MessageType};
use penlab_protocol::seq::{SeqEvent, SeqTracker};

/// Arguments of `penlab replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A capture written by the harness (`--capture`) or `penlab monitor`:
    /// JSON lines, or pcapng (`--capture FILE.pcapng`).
    file: PathBuf,
    /// Write the frames as pcapng to this file (decoded in Wireshark and
    /// tshark by tools/wireshark/penlab.lua). As with `tshark -w`, the
    /// frames are then not printed, only the summary; `--print` (tshark's
    /// `-P`) or `--json` prints them too.
    #[arg(long, value_name = "OUT")]
    pcapng: Option<PathBuf>,
    /// With `--pcapng`: print the decoded frames as well (`tshark -P`).
    #[arg(long, short = 'P', requires = "pcapng")]
    print: bool,
    /// Give each frame in the pcapng its decoded meaning as a packet
    /// comment, as replay prints it (`tshark -e frame.comment`), for a
    /// reader without the dissector: the file is about three times larger.
    #[arg(long, requires = "pcapng")]
    pcapng_comments: bool,
    /// One JSON object a line instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the capture decoded, streaming it (memory does not grow with the
/// capture). Exit code 0 when every frame decoded, 1 when any did not.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let name = args.file.display();
    let file = File::open(&args.file).with_context(|| format!("opening {name}"))?;
    let mut entries = capture::entries(BufReader::with_capacity(1 << 16, file))
        .with_context(|| format!("{name}"))?;
    let mut export = match &args.pcapng {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let writer = BufWriter::with_capacity(1 << 16, file);
            Some(
                capture::PcapngExport::new(writer, entries.header())
                    .with_context(|| format!("writing {}", path.display()))?
                    .with_frame_comments(args.pcapng_comments),
            )
        }
        None => None,
    };
    // Standard output is line-buffered; a capture has millions of lines.
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let (mut frames, mut errors, mut gaps) = (0, 0, 0);
    let mut seqs = SideSeqs::default();
    // An export of a long capture is not read from a terminal: only what
    // was asked for is printed (the text was most of an export's time).
    let print = args.pcapng.is_none() || args.print || args.json;
    for entry in entries.by_ref() {
        let entry = entry.with_context(|| format!("{name}"))?;
        match &entry {
            Entry::Frame(event) => {
                if event.result.is_ok() {
                    frames += 1;
                } else {
                    errors += 1;
                }
                if print {
                    let seq = seqs.observe(event);
                    print_event(&mut out, event, seq, args.json)?;
                }
            }
            Entry::Link(mark) => {
                gaps += usize::from(mark.event == capture::LinkEvent::Detached);
                seqs = SideSeqs::default();
                if print {
                    print_mark(&mut out, mark, args.json)?;
                }
            }
        }
        if let (Some(export), Some(path)) = (export.as_mut(), &args.pcapng) {
            export
                .entry(&entry)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if !args.json {
        let gaps = match gaps {
            0 => String::new(),
            n => format!(", the link went away {n} time(s)"),
        };
        writeln!(
            out,
            "{frames} frame(s), {errors} error(s), target {}{gaps}",
            entries.header().target
        )?;
    }
    out.flush()?;
    if let (Some(export), Some(path)) = (export, &args.pcapng) {
        export
            .into_inner()
            .flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if entries.truncated_tail() {
        eprintln!("note: the end of {name} was cut off mid-write (a killed run); skipped");
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Each side's sequence numbers (PROTOCOL.md §3), tracked as a receiver
/// tracks them: a host's `Hello` starts the host's numbering anew, the
/// pen's `Ack` of it the pen's, and a link marker both.
#[derive(Default)]
struct SideSeqs {
    host: SeqTracker,
    pen: SeqTracker,
}

impl SideSeqs {
    /// What the frame's `seq` means, for frames that passed their CRC.
    fn observe(&mut self, event: &Event) -> Option<SeqEvent> {
        let seq = match &event.result {
            Ok(packet) => packet.seq,
            Err(DecodeError::Message { seq, .. }) => *seq,
            Err(_) => return None,
        };
        let message = event.result.as_ref().ok().map(|p| &p.message);
        let tracker = match event.dir {
            Direction::HostToPen => {
                if matches!(message, Some(Message::Hello(_))) {
                    self.host.reset();
                }
                &mut self.host
            }
            Direction::PenToHost => {
                if matches!(message, Some(Message::Ack(a)) if a.command == MessageType::Hello.code())
                {
                    self.pen.reset();
                }
                &mut self.pen
            }
        };
        Some(tracker.observe(seq))
    }
}

fn print_event(
    out: &mut impl Write,
    event: &Event,
    seq: Option<SeqEvent>,
    json: bool,
) -> std::io::Result<()> {
    let arrow = match event.dir {
        Direction::HostToPen => "host → pen",
        Direction::PenToHost => "pen → host",
    };
    if json {
        let mut value = match &event.result {
            Ok(packet) => {
                serde_json::json!({ "t_us": event.t_us, "dir": event.dir, "packet": packet })
            }
            Err(e) => {
                serde_json::json!({ "t_us": event.t_us, "dir": event.dir, "error": e.code(), "detail": e, "wire": hex::encode(&event.wire) })
            }
        };
        if let Some(seq) = seq {
            value["seq"] = serde_json::json!(seq);
        }
        writeln!(out, "{value}")
    } else {
        write_time(out, event.t_us)?;
        out.write_all(b"  ")?;
        out.write_all(arrow.as_bytes())?;
        out.write_all(b"  ")?;
        capture::describe_to(out, event)?;
        match seq {
            Some(SeqEvent::Gap { lost }) => write!(out, "  [{lost} frame(s) lost before this]")?,
            Some(SeqEvent::Duplicate) => write!(out, "  [duplicate]")?,
            _ => {}
        }
        writeln!(out)
    }
}

fn print_mark(out: &mut impl Write, mark: &Mark, json: bool) -> std::io::Result<()> {
    if json {
        let value =
            serde_json::json!({ "t_us": mark.t_us, "event": mark.event, "detail": mark.detail });
        writeln!(out, "{value}")
    } else {
        write_time(out, mark.t_us)?;
        writeln!(out, "  ---------  {}", mark.describe())
    }
}

/// Seconds with six decimals, 12 wide, as `{:>12.6}s` writes `t_us / 1e6`,
/// in integers (float formatting was a tenth of replay's time) and without
/// the formatting machinery (`{:>5}.{:06}` was another tenth).
fn write_time(out: &mut impl Write, t_us: u64) -> std::io::Result<()> {
    let mut seconds = itoa::Buffer::new();
    let seconds = seconds.format(t_us / 1_000_000).as_bytes();
    let mut line = [b' '; 32];
    let pad = 5usize.saturating_sub(seconds.len());
    line[pad..pad + seconds.len()].copy_from_slice(seconds);
    let mut at = pad + seconds.len();
    line[at] = b'.';
    let mut micros = t_us % 1_000_000;
    for i in (1..=6).rev() {
        line[at + i] = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    at += 7;
    line[at] = b's';
    out.write_all(&line[..=at])
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_the_float_format_wrote_them() {
        for t_us in [
            0,
            1,
            812,
            999_999,
            1_000_000,
            5_020_113,
            86_400_000_001,
            123_456_789_012_345,
        ] {
            let mut out = Vec::new();
            super::write_time(&mut out, t_us).unwrap();
            let float = format!("{:>12.6}s", t_us as f64 / 1e6);
            assert_eq!(String::from_utf8(out).unwrap(), float);
        }
    }
}
