//! An RFC 2217 client: a serial port exported over telnet
//! (`rfc2217://HOST:PORT`), as ser2net's `telnet(rfc2217)` accepter, a
//! labgrid exporter or pyserial's `rfc2217_server.py` serve one.
//!
//! [`Rfc2217Stream`] wraps a byte stream (a `TcpStream` in use; anything in
//! tests) and is itself an `AsyncRead + AsyncWrite` carrying the serial
//! port's bytes, so a session runs over it as over a local port:
//!
//! * [`Rfc2217Stream::negotiate`] offers BINARY, SUPPRESS-GO-AHEAD and
//!   COM-PORT-OPTION, asks for BINARY and SUPPRESS-GO-AHEAD on the far side,
//!   refuses everything else (ECHO above all, which would hand the host its
//!   own frames back), then asks for the far end's signature, sets the
//!   line (baud, 8N1, no flow control) and waits, bounded, until the far
//!   end has confirmed it;
//! * data is IAC-escaped on the way out and unescaped on the way in; the
//!   far end's commands are answered as they come, while reading or writing;
//! * FLOWCONTROL-SUSPEND holds writes until FLOWCONTROL-RESUME.
//!
//! No crate on crates.io does this (the one RFC 2217 crate is a blocking
//! server whose parser panics on bad input), hence this module.

pub mod comport;
pub mod telnet;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use comport::{FarEnd, LineSettings, Notice};
use telnet::{Decoder, Event, Options, Q, option};

/// How long the far end has to agree to RFC 2217 and confirm the line.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(5);

/// What this client calls itself when asked (SIGNATURE).
const SIGNATURE: &str = concat!("penlab ", env!("CARGO_PKG_VERSION"));

/// Written bytes buffered before a write waits for the far end.
const HIGH_WATER: usize = 16 * 1024;

/// Data from the far end read ahead while a write waits for
/// FLOWCONTROL-RESUME, before that write stops reading too.
const READ_AHEAD: usize = 64 * 1024;

/// A serial port behind an RFC 2217 access server.
#[derive(Debug)]
pub struct Rfc2217Stream<S> {
    inner: S,
    decoder: Decoder,
    options: Options,
    far: FarEnd,
    /// Data from the port, unescaped, not yet read.
    incoming: Vec<u8>,
    /// Bytes for the far end, escaped, not yet written.
    outgoing: Vec<u8>,
    /// The far end said FLOWCONTROL-SUSPEND.
    suspended: bool,
    /// A write waiting for FLOWCONTROL-RESUME.
    write_waker: Option<Waker>,
    eof: bool,
}

fn failed(message: String) -> io::Error {
    io::Error::other(format!("RFC 2217: {message}"))
}

impl<S: AsyncRead + AsyncWrite + Unpin> Rfc2217Stream<S> {
    /// Negotiates over `inner` (just connected) and sets the line to
    /// `settings`; gives up after `within`.
    pub async fn negotiate(inner: S, settings: LineSettings, within: Duration) -> io::Result<Self> {
        let mut stream = Rfc2217Stream {
            inner,
            decoder: Decoder::new(),
            options: Options::new(
                &[option::BINARY, option::SGA, option::COM_PORT],
                &[option::BINARY, option::SGA, option::COM_PORT],
            ),
            far: FarEnd::default(),
            incoming: Vec::new(),
            outgoing: Vec::new(),
            suspended: false,
            write_waker: None,
            eof: false,
        };
        match tokio::time::timeout(within, stream.set_line(settings)).await {
            Ok(result) => result?,
            Err(_) => {
                let what = if stream.options.local(option::COM_PORT) == Q::Yes {
                    format!("the far end did not confirm the line ({settings})")
                } else {
                    "the far end did not answer COM-PORT-OPTION".to_owned()
                };
                return Err(failed(format!(
                    "{what} within {within:?} (a raw TCP port? use socket://)"
                )));
            }
        }
        if stream.options.local(option::BINARY) != Q::Yes
            || stream.options.remote(option::BINARY) != Q::Yes
        {
            tracing::warn!("RFC 2217: the far end refused BINARY; bytes go as they are");
        }
        tracing::info!(
            line = %settings,
            signature = stream.far.signature.as_deref().unwrap_or("none"),
            "RFC 2217: the far end confirmed the line"
        );
        Ok(stream)
    }

    async fn set_line(&mut self, settings: LineSettings) -> io::Result<()> {
        let requests = [
            self.options.offer(option::BINARY),
            self.options.offer(option::SGA),
            self.options.offer(option::COM_PORT),
            self.options.ask(option::BINARY),
            self.options.ask(option::SGA),
        ];
        self.outgoing
            .extend(requests.into_iter().flatten().flatten());
        self.pump_until(|s| s.options.local(option::COM_PORT) != Q::WantYes)
            .await?;
        if self.options.local(option::COM_PORT) != Q::Yes {
            return Err(failed(
                "the far end refused COM-PORT-OPTION (a raw TCP port? use socket://)".into(),
            ));
        }
        // An empty SIGNATURE asks for the far end's, for the log.
        telnet::subnegotiation(option::COM_PORT, &[comport::SIGNATURE], &mut self.outgoing);
        for (command, value) in settings.requests() {
            telnet::subnegotiation(
                option::COM_PORT,
                &[&[command][..], &value].concat(),
                &mut self.outgoing,
            );
        }
        self.pump_until(|s| s.far.line_confirmed()).await?;
        let wrong = self.far.mismatches(&settings);
        if !wrong.is_empty() {
            return Err(failed(format!(
                "the far end set {} instead",
                wrong.join(", ")
            )));
        }
        Ok(())
    }

    /// Sends what is queued and reads until `done`; the port's data read
    /// meanwhile is kept for the caller.
    async fn pump_until(&mut self, done: impl Fn(&Self) -> bool) -> io::Result<()> {
        loop {
            std::future::poll_fn(|cx| self.poll_drain(cx)).await?;
            if done(self) {
                return Ok(());
            }
            if std::future::poll_fn(|cx| self.poll_fill(cx)).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "RFC 2217: the far end closed the connection during negotiation",
                ));
            }
        }
    }

    /// What the far end has said about the line.
    pub fn far_end(&self) -> &FarEnd {
        &self.far
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Reads once from the far end and takes in what came: data kept,
    /// commands answered. `Ok(0)` at end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut raw = [0u8; 4096];
        let mut buf = ReadBuf::new(&mut raw);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        if n == 0 {
            self.eof = true;
            return Poll::Ready(Ok(0));
        }
        let mut events = Vec::new();
        self.decoder
            .feed(buf.filled(), &mut self.incoming, &mut events);
        for event in events {
            self.take(event);
        }
        Poll::Ready(Ok(n))
    }

    fn take(&mut self, event: Event) {
        match event {
            Event::Negotiate { verb, option } => {
                tracing::debug!(%verb, option, "RFC 2217: far end negotiates");
                if let Some(reply) = self.options.receive(verb, option) {
                    self.outgoing.extend_from_slice(&reply);
                }
            }
            Event::Subnegotiation {
                option: option::COM_PORT,
                data,
            } => {
                let notice = Notice::parse(&data);
                tracing::debug!(?notice, "RFC 2217: far end");
                self.far.note(&notice);
                match notice {
                    Notice::SignatureRequest => {
                        let payload = [&[comport::SIGNATURE][..], SIGNATURE.as_bytes()].concat();
                        telnet::subnegotiation(option::COM_PORT, &payload, &mut self.outgoing);
                    }
                    Notice::Suspend => self.suspended = true,
                    Notice::Resume => {
                        self.suspended = false;
                        if let Some(waker) = self.write_waker.take() {
                            waker.wake();
                        }
                    }
                    _ => {}
                }
            }
            // Other options' sub-negotiations and plain commands (NOP, GA,
            // BREAK) mean nothing to a pen's byte stream.
            Event::Subnegotiation { .. } | Event::Command(_) => {}
        }
    }

    /// Writes out what is queued for the far end.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outgoing.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.outgoing))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outgoing.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Rfc2217Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.incoming.is_empty() {
                let n = this.incoming.len().min(buf.remaining());
                buf.put_slice(&this.incoming[..n]);
                this.incoming.drain(..n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            // Answers to the far end go out while only reading, too; one
            // that cannot go yet goes at the next read or write.
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                return Poll::Ready(Err(e));
            }
            ready!(this.poll_fill(cx))?;
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Rfc2217Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match this.poll_drain(cx) {
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending if this.outgoing.len() >= HIGH_WATER => return Poll::Pending,
            _ => {}
        }
        while this.suspended {
            // FLOWCONTROL-RESUME comes on the read side: look for it here
            // too, so that a task that only writes is not stuck.
            if this.eof {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            if this.incoming.len() >= READ_AHEAD {
                this.write_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            match this.poll_fill(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    this.write_waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
        let taken = buf.len().min(HIGH_WATER);
        telnet::escape_into(&buf[..taken], &mut this.outgoing);
        // What cannot go now goes at the next write, flush or read.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Connects to `HOST:PORT` and negotiates the line (see the module).
pub async fn connect(
    addr: &str,
    settings: LineSettings,
    within: Duration,
) -> io::Result<Rfc2217Stream<tokio::net::TcpStream>> {
    let stream = tokio::time::timeout(within, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))??;
    stream.set_nodelay(true)?;
    Rfc2217Stream::negotiate(stream, settings, within).await
}

#[cfg(test)]
mod tests;
