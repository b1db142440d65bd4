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
    /// A capture written by the harness (`--capture`) or `penlab monitor`.
    file: PathBuf,
    /// Also write the frames as pcapng to this file.
    #[arg(long, value_name = "OUT")]
    pcapng: Option<PathBuf>,
    /// One JSON object a line instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the capture decoded. Exit code 0 when every frame decoded, 1 when
/// any did not.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let capture =
        capture::read(BufReader::new(file)).with_context(|| format!("{}", args.file.display()))?;
    if capture.truncated_tail {
        eprintln!(
            "note: the last line of {} was cut off mid-write (a killed run); skipped",
            args.file.display()
        );
    }
    let entries = capture::timeline(&capture);
    let mut out = std::io::stdout().lock();
    let (mut frames, mut errors, mut gaps) = (0, 0, 0);
    let mut seqs = SideSeqs::default();
    for entry in &entries {
        match entry {
            Entry::Frame(event) => {
                if event.result.is_ok() {
                    frames += 1;
                } else {
                    errors += 1;
                }
                let seq = seqs.observe(event);
                print_event(&mut out, event, seq, args.json)?;
            }
            Entry::Link(mark) => {
                gaps += usize::from(mark.event == capture::LinkEvent::Detached);
                seqs = SideSeqs::default();
                print_mark(&mut out, mark, args.json)?;
            }
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
            capture.header.target
        )?;
    }
    if let Some(path) = &args.pcapng {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut writer = BufWriter::new(file);
        capture::write_pcapng(&capture, &mut writer)
            .with_context(|| format!("writing {}", path.display()))?;
        writer
            .flush()
            .with_context(|| format!("writing {}", path.display()))?;
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
        let t = event.t_us as f64 / 1e6;
        let note = match seq {
            Some(SeqEvent::Gap { lost }) => format!("  [{lost} frame(s) lost before this]"),
            Some(SeqEvent::Duplicate) => "  [duplicate]".to_owned(),
            _ => String::new(),
        };
        writeln!(
            out,
            "{t:>12.6}s  {arrow}  {}{note}",
            capture::describe(event)
        )
    }
}

fn print_mark(out: &mut impl Write, mark: &Mark, json: bool) -> std::io::Result<()> {
    if json {
        let value =
            serde_json::json!({ "t_us": mark.t_us, "event": mark.event, "detail": mark.detail });
        writeln!(out, "{value}")
    } else {
        let t = mark.t_us as f64 / 1e6;
        writeln!(out, "{t:>12.6}s  ---------  {}", mark.describe())
    }
}
