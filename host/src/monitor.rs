//! `penlab monitor`: watch a live pen's byte stream, decoded, and capture it.
//!
//! Passive: it opens the port, reads what the pen sends and never writes,
//! so it can sit on a UART bridge's receive line or a pen that streams on
//! its own. Sequence gaps and duplicates are reported as they happen. A
//! pen that is unplugged ends the run with what was seen kept in the
//! capture.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use penlab_protocol::codec::{DecodeError, Decoder};
use penlab_protocol::message::{Direction, Packet};
use penlab_protocol::seq::{SeqEvent, SeqTracker};
use tokio::io::AsyncReadExt;
use tokio_serial::SerialPortBuilderExt;

use crate::capture::{CaptureWriter, Header};

/// What to watch and how to report it.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// Serial port path (`/dev/ttyACM0`, a PTY).
    pub port: String,
    /// Line speed (ignored by USB CDC-ACM pens).
    pub baud: u32,
    /// Write every byte received to this capture file as it arrives.
    pub capture: Option<PathBuf>,
    /// One JSON object a line instead of text.
    pub json: bool,
    /// Stop after this long (for scripts); run until interrupted if `None`.
    pub duration: Option<Duration>,
}

/// Why monitoring ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorEnd {
    /// Interrupted (Ctrl-C) or `duration` elapsed.
    Stopped,
    /// The port went away: the pen was unplugged or the PTY closed.
    Disconnected,
}

/// Counters for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorSummary {
    /// Frames decoded.
    pub frames: u64,
    /// Errors reported in place of frames.
    pub errors: u64,
    /// Frames lost according to sequence numbers.
    pub lost: u64,
    /// Duplicated frames.
    pub duplicates: u64,
    /// Bytes received.
    pub bytes: u64,
}

/// Why monitoring could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The port could not be opened.
    #[error("cannot open {port}: {source}")]
    Open {
        /// The port.
        port: String,
        /// Why.
        source: tokio_serial::Error,
    },
    /// The capture file could not be written.
    #[error("capture {path}: {source}")]
    Capture {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Output or runtime failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Watches `options.port`, printing to `out`, until interrupted, the
/// duration passes or the port goes away.
pub fn run(
    options: &MonitorOptions,
    out: &mut impl Write,
) -> Result<(MonitorEnd, MonitorSummary), MonitorError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(watch(options, out))
}

async fn watch(
    options: &MonitorOptions,
    out: &mut impl Write,
) -> Result<(MonitorEnd, MonitorSummary), MonitorError> {
    let mut port = tokio_serial::new(&options.port, options.baud)
        .open_native_async()
        .map_err(|source| MonitorError::Open {
            port: options.port.clone(),
            source,
        })?;
    let started = Instant::now();
    let mut capture = match &options.capture {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|source| MonitorError::Capture {
                path: path.clone(),
                source,
            })?;
            let unix_us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            let header = Header::new(options.port.clone(), unix_us, Some(options.baud));
            Some(
                CaptureWriter::new(file, &header).map_err(|source| MonitorError::Capture {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let deadline = options.duration.map(|d| tokio::time::Instant::now() + d);
    let mut decoder = Decoder::new();
    let mut seq = SeqTracker::new();
    let mut summary = MonitorSummary::default();
    let mut buf = [0u8; 4_096];
    let end = loop {
        let read = tokio::select! {
            r = port.read(&mut buf) => r,
            _ = tokio::signal::ctrl_c() => break MonitorEnd::Stopped,
            _ = sleep_until(deadline) => break MonitorEnd::Stopped,
        };
        let n = match read {
            Ok(0) | Err(_) => break MonitorEnd::Disconnected,
            Ok(n) => n,
        };
        let t_us = started.elapsed().as_micros() as u64;
        summary.bytes += n as u64;
        if let (Some(writer), Some(path)) = (capture.as_mut(), options.capture.as_ref()) {
            writer
                .record(t_us, Direction::PenToHost, &buf[..n])
                .map_err(|source| MonitorError::Capture {
                    path: path.clone(),
                    source,
                })?;
        }
        let mut lines = Vec::new();
        decoder.feed(&buf[..n], |result| lines.push(result));
        for result in lines {
            report(out, t_us, result, &mut seq, &mut summary, options.json)?;
        }
        out.flush()?;
    };
    if let Some(error) = decoder.finish() {
        let t_us = started.elapsed().as_micros() as u64;
        report(out, t_us, Err(error), &mut seq, &mut summary, options.json)?;
    }
    Ok((end, summary))
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn report(
    out: &mut impl Write,
    t_us: u64,
    result: Result<Packet, DecodeError>,
    seq: &mut SeqTracker,
    summary: &mut MonitorSummary,
    json: bool,
) -> std::io::Result<()> {
    let t = t_us as f64 / 1e6;
    match result {
        Ok(packet) => {
            summary.frames += 1;
            let event = seq.observe(packet.seq);
            match event {
                SeqEvent::Gap { lost } => summary.lost += u64::from(lost),
                SeqEvent::Duplicate => summary.duplicates += 1,
                SeqEvent::First | SeqEvent::InOrder => {}
            }
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "t_us": t_us, "packet": packet, "seq": event })
                )
            } else {
                let note = match event {
                    SeqEvent::Gap { lost } => format!("  [{lost} frame(s) lost before this]"),
                    SeqEvent::Duplicate => "  [duplicate]".to_owned(),
                    SeqEvent::First | SeqEvent::InOrder => String::new(),
                };
                writeln!(
                    out,
                    "{t:>12.6}s  seq {:>5}  {:<13} {}{note}",
                    packet.seq,
                    packet.message.msg_type().name(),
                    serde_json::to_string(&packet.message).unwrap_or_default()
                )
            }
        }
        Err(error) => {
            summary.errors += 1;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "t_us": t_us, "error": error.code(), "detail": error })
                )
            } else {
                writeln!(out, "{t:>12.6}s  error {:<13} {error}", error.code())
            }
        }
    }
}
