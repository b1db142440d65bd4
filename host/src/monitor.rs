//! `penlab monitor`: watch a live pen's byte stream, decoded, and capture it.
//!
//! Passive: it opens the port, reads what the pen sends and never writes
//! (an `rfc2217://` port's telnet negotiation aside), so it can sit on a
//! UART bridge's receive line or a pen that streams on its own. Sequence
//! gaps and duplicates are reported as they happen. A pen that goes away
//! ends the run with what was seen kept in the capture, or, with
//! [`MonitorOptions::reattach`], is waited for ([`Transport::reopen`]; a
//! `usb:` address is looked up afresh each try) and watched again, the gap
//! marked in the output and the capture.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use penlab_protocol::codec::{DecodeError, Decoder};
use penlab_protocol::message::{Direction, Packet};
use penlab_protocol::seq::{SeqEvent, SeqTracker};
use tokio::io::AsyncReadExt;

use crate::capture::{CaptureWriter, Header, LinkEvent};
use crate::transport::{AddressError, Link, OpenError, Transport};

/// What to watch and how to report it.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// The pen's address: a serial port path (`/dev/ttyACM0`, a PTY),
    /// `socket://HOST:PORT`, `rfc2217://HOST:PORT` or `usb:VID:PID[:SERIAL]`.
    pub port: String,
    /// Line speed (ignored by USB CDC-ACM pens).
    pub baud: u32,
    /// Write every byte received to this capture file as it arrives.
    pub capture: Option<PathBuf>,
    /// One JSON object a line instead of text.
    pub json: bool,
    /// Stop after this long (for scripts); run until interrupted if `None`.
    pub duration: Option<Duration>,
    /// When the pen goes away, wait this long for it to come back and go
    /// on; end the run at once if `None`.
    pub reattach: Option<Duration>,
}

/// Why monitoring ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorEnd {
    /// Interrupted (Ctrl-C) or `duration` elapsed.
    Stopped,
    /// The port went away (the pen was unplugged or the PTY closed) and did
    /// not come back in time.
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
    /// Times the pen went away and came back.
    pub reattached: u64,
}

/// Why monitoring could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The address is not one.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The port could not be opened.
    #[error("cannot open {0}")]
    Open(OpenError),
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
/// duration passes or the port goes away (for longer than
/// `options.reattach`).
pub fn run(
    options: &MonitorOptions,
    out: &mut impl Write,
) -> Result<(MonitorEnd, MonitorSummary), MonitorError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(watch(options, out))
}

/// What the monitor holds while it watches.
struct Watch<'a, W: Write> {
    options: &'a MonitorOptions,
    out: &'a mut W,
    started: Instant,
    capture: Option<CaptureWriter<std::fs::File>>,
    decoder: Decoder,
    seq: SeqTracker,
    summary: MonitorSummary,
}

/// How reading one connection ended.
enum ReadEnd {
    Stopped,
    Gone(String),
}

async fn watch(
    options: &MonitorOptions,
    out: &mut impl Write,
) -> Result<(MonitorEnd, MonitorSummary), MonitorError> {
    let transport = Transport::for_port(&options.port, options.baud)?;
    let mut link = transport.open().await.map_err(MonitorError::Open)?.link;
    let started = Instant::now();
    let capture = match &options.capture {
        Some(path) => Some(open_capture(path, options, transport.baud())?),
        None => None,
    };
    let mut watch = Watch {
        options,
        out,
        started,
        capture,
        decoder: Decoder::new(),
        seq: SeqTracker::new(),
        summary: MonitorSummary::default(),
    };
    let deadline = options.duration.map(|d| tokio::time::Instant::now() + d);
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sleep_until(deadline) => {}
        }
    };
    tokio::pin!(stop);
    let end = loop {
        let reason = match watch.read(&mut link, &mut stop).await? {
            ReadEnd::Stopped => break MonitorEnd::Stopped,
            ReadEnd::Gone(reason) => reason,
        };
        watch.finish_frame()?;
        let Some(within) = options.reattach else {
            break MonitorEnd::Disconnected;
        };
        watch.mark(
            LinkEvent::Detached,
            &format!("{reason}; waiting up to {within:?}"),
        )?;
        // Let go of the old port first: held open, it may keep its old
        // device node alive.
        drop(link);
        let back = tokio::select! {
            back = transport.reopen(within) => back,
            () = &mut stop => break MonitorEnd::Stopped,
        };
        match back {
            Ok(back) => {
                link = back.connection.link;
                watch.summary.reattached += 1;
                // A pen that reset counts its frames from the start again.
                watch.seq = SeqTracker::new();
                let detail = format!("{} after {:.1?}", back.at, back.waited);
                watch.mark(LinkEvent::Reattached, &detail)?;
            }
            Err(e) => {
                watch.note(&format!("{e}"))?;
                break MonitorEnd::Disconnected;
            }
        }
    };
    watch.finish_frame()?;
    Ok((end, watch.summary))
}

fn open_capture(
    path: &PathBuf,
    options: &MonitorOptions,
    baud: Option<u32>,
) -> Result<CaptureWriter<std::fs::File>, MonitorError> {
    let failed = |source| MonitorError::Capture {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create(path).map_err(failed)?;
    let unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let header = Header::new(options.port.clone(), unix_us, baud);
    CaptureWriter::for_path(file, path, &header).map_err(failed)
}

impl<W: Write> Watch<'_, W> {
    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn capture_failed(&self, source: std::io::Error) -> MonitorError {
        MonitorError::Capture {
            path: self.options.capture.clone().unwrap_or_default(),
            source,
        }
    }

    /// Reads `link` until stopped or it goes away.
    async fn read(
        &mut self,
        link: &mut Box<dyn Link>,
        stop: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> Result<ReadEnd, MonitorError> {
        let mut buf = [0u8; 4_096];
        loop {
            let read = tokio::select! {
                r = link.read(&mut buf) => r,
                () = &mut *stop => return Ok(ReadEnd::Stopped),
            };
            let n = match read {
                Ok(0) => return Ok(ReadEnd::Gone("the port closed".into())),
                Err(e) => return Ok(ReadEnd::Gone(format!("read: {e}"))),
                Ok(n) => n,
            };
            let t_us = self.now_us();
            self.summary.bytes += n as u64;
            if let Some(writer) = self.capture.as_mut() {
                let written = writer.record(t_us, Direction::PenToHost, &buf[..n]);
                written.map_err(|e| self.capture_failed(e))?;
            }
            let mut results = Vec::new();
            self.decoder.feed(&buf[..n], |result| results.push(result));
            for result in results {
                self.report(t_us, result)?;
            }
            self.out.flush()?;
        }
    }

    /// Reports a frame cut off where the stream ended.
    fn finish_frame(&mut self) -> Result<(), MonitorError> {
        if let Some(error) = self.decoder.finish() {
            self.report(self.now_us(), Err(error))?;
        }
        Ok(())
    }

    fn report(&mut self, t_us: u64, result: Result<Packet, DecodeError>) -> std::io::Result<()> {
        report(
            &mut *self.out,
            t_us,
            result,
            &mut self.seq,
            &mut self.summary,
            self.options.json,
        )
    }

    /// Marks the link going or coming, in the capture and the output.
    fn mark(&mut self, event: LinkEvent, detail: &str) -> Result<(), MonitorError> {
        let t_us = self.now_us();
        if let Some(writer) = self.capture.as_mut() {
            let written = writer.mark(t_us, event, Some(detail));
            written.map_err(|e| self.capture_failed(e))?;
        }
        if self.options.json {
            let line = serde_json::json!({ "t_us": t_us, "event": event, "detail": detail });
            writeln!(self.out, "{line}")?;
        } else {
            let t = t_us as f64 / 1e6;
            writeln!(self.out, "{t:>12.6}s  --- {}: {detail}", event.name())?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// A line of text in the output only (text mode; JSON gets an object).
    fn note(&mut self, text: &str) -> Result<(), MonitorError> {
        let t_us = self.now_us();
        if self.options.json {
            writeln!(
                self.out,
                "{}",
                serde_json::json!({ "t_us": t_us, "note": text })
            )?;
        } else {
            writeln!(self.out, "{:>12.6}s  --- {text}", t_us as f64 / 1e6)?;
        }
        self.out.flush()?;
        Ok(())
    }
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
