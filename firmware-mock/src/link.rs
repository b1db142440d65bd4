//! Seeded, reproducible faults on the byte stream between host and pen:
//! bytes dropped, flipped or duplicated (both directions), pen frames
//! delayed with jitter, a disconnect after a number of pen frames, and a
//! pen that stops reading for a while ([`StallReads`]).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::physics::Noise;

/// Link fault settings, as given to `--link-faults`
/// (`drop=0.001,flip=0.0005,dup=0,delay-ms=0,jitter-ms=0,disconnect-after=N,stall-after=N,stall-for-ms=M`;
/// `_` may stand for `-` in the keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkFaults {
    /// Probability that a byte is lost.
    pub drop: f64,
    /// Probability that a byte has one bit flipped.
    pub flip: f64,
    /// Probability that a byte is sent twice.
    pub dup: f64,
    /// Fixed delay of every pen frame.
    pub delay: Duration,
    /// Extra delay of each pen frame, uniform in `0 ..= jitter` (order kept).
    pub jitter: Duration,
    /// The pen drops the link after sending this many frames.
    pub disconnect_after: Option<u64>,
    /// The pen stops reading after it has read this many frames from the
    /// host (applied by [`StallReads`]).
    pub stall_after: Option<u64>,
    /// How long it does not read; `None` with `stall_after` set: never
    /// again.
    pub stall_for: Option<Duration>,
}

impl LinkFaults {
    /// Whether any byte-level fault is configured.
    pub fn is_clean(&self) -> bool {
        self.drop == 0.0 && self.flip == 0.0 && self.dup == 0.0
    }

    /// Applies the byte faults to `bytes` with the given random source.
    pub fn mangle(&self, bytes: &[u8], noise: &mut Noise) -> Vec<u8> {
        if self.is_clean() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len() + 4);
        for &b in bytes {
            if noise.uniform() < self.drop {
                continue;
            }
            let b = if noise.uniform() < self.flip {
                b ^ (1 << (noise.uniform() * 8.0) as u8)
            } else {
                b
            };
            out.push(b);
            if noise.uniform() < self.dup {
                out.push(b);
            }
        }
        out
    }

    /// The delay of the next pen frame.
    pub fn frame_delay(&self, noise: &mut Noise) -> Duration {
        if self.jitter.is_zero() {
            return self.delay;
        }
        self.delay + self.jitter.mul_f64(noise.uniform())
    }
}

/// A bad `--link-faults` string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad link fault `{item}`: {reason} (expected drop=P,flip=P,dup=P,delay-ms=N,jitter-ms=N,disconnect-after=N,stall-after=N,stall-for-ms=N)"
)]
pub struct LinkFaultsError {
    /// The offending item.
    pub item: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for LinkFaults {
    type Err = LinkFaultsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut f = LinkFaults::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let err = |reason: &str| LinkFaultsError {
                item: item.to_owned(),
                reason: reason.to_owned(),
            };
            let (key, value) = item.split_once('=').ok_or_else(|| err("no `=`"))?;
            let prob = || -> Result<f64, LinkFaultsError> {
                let p: f64 = value.parse().map_err(|_| err("not a number"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(err("a probability must be within 0 ..= 1"))
                }
            };
            let int = || value.parse::<u64>().map_err(|_| err("not a whole number"));
            match key.trim().replace('_', "-").as_str() {
                "drop" => f.drop = prob()?,
                "flip" => f.flip = prob()?,
                "dup" => f.dup = prob()?,
                "delay-ms" => f.delay = Duration::from_millis(int()?),
                "jitter-ms" => f.jitter = Duration::from_millis(int()?),
                "disconnect-after" => f.disconnect_after = Some(int()?),
                "stall-after" => f.stall_after = Some(int()?),
                "stall-for-ms" => f.stall_for = Some(Duration::from_millis(int()?)),
                _ => return Err(err("unknown key")),
            }
        }
        if f.stall_for.is_some() && f.stall_after.is_none() {
            return Err(LinkFaultsError {
                item: "stall-for-ms".into(),
                reason: "needs stall-after=N, the host frames read before the stall".into(),
            });
        }
        Ok(f)
    }
}

impl fmt::Display for LinkFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drop={},flip={},dup={},delay-ms={},jitter-ms={}",
            self.drop,
            self.flip,
            self.dup,
            self.delay.as_millis(),
            self.jitter.as_millis()
        )?;
        if let Some(n) = self.disconnect_after {
            write!(f, ",disconnect-after={n}")?;
        }
        if let Some(n) = self.stall_after {
            write!(f, ",stall-after={n}")?;
        }
        if let Some(d) = self.stall_for {
            write!(f, ",stall-for-ms={}", d.as_millis())?;
        }
        Ok(())
    }
}

/// Called with `true` when a stall starts and `false` when it ends: for a
/// transport that can also hold the host's line (a PTY stops the host's
/// output, as a deasserted CTS would), and for transcripts.
pub type StallHook = Box<dyn FnMut(bool) + Send>;

/// A pen's end of a link that stops reading after `stall_after` host
/// frames, for `stall_for` (or for good), as firmware that hangs in a busy
/// loop would: its own writes go on, the host's bytes wait. A frame is a
/// run of bytes ended by a `0x00` delimiter; a lone delimiter is not one.
/// Without a stall configured it passes everything through.
pub struct StallReads<S> {
    inner: S,
    after: Option<u64>,
    stall_for: Option<Duration>,
    frames: u64,
    in_frame: bool,
    /// Bytes read past the frame that started the stall, for after it.
    held: Vec<u8>,
    state: Stall,
    hook: Option<StallHook>,
}

enum Stall {
    Reading,
    Stalled(Option<Pin<Box<tokio::time::Sleep>>>),
    Over,
}

impl<S> StallReads<S> {
    /// Wraps `inner` with the stall of `faults` (if any); `hook` hears when
    /// it starts and ends.
    pub fn new(inner: S, faults: &LinkFaults, hook: Option<StallHook>) -> Self {
        StallReads {
            inner,
            after: faults.stall_after,
            stall_for: faults.stall_for,
            frames: 0,
            in_frame: false,
            held: Vec::new(),
            state: Stall::Reading,
            hook,
        }
    }

    fn tell(&mut self, stalled: bool) {
        if let Some(hook) = self.hook.as_mut() {
            hook(stalled);
        }
    }

    /// Counts frames in `bytes`; the length to deliver now if the stall
    /// starts inside them.
    fn stall_point(&mut self, bytes: &[u8]) -> Option<usize> {
        let after = self.after?;
        for (i, &b) in bytes.iter().enumerate() {
            if b != 0 {
                self.in_frame = true;
            } else if std::mem::take(&mut self.in_frame) {
                self.frames += 1;
                if self.frames == after {
                    return Some(i + 1);
                }
            }
        }
        None
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallReads<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Stall::Stalled(sleep) = &mut this.state {
            match sleep {
                Some(sleep) => ready!(sleep.as_mut().poll(cx)),
                // Never again: nothing will wake this read.
                None => return Poll::Pending,
            }
            this.state = Stall::Over;
            tracing::warn!("link fault: the pen reads again");
            this.tell(false);
        }
        if !this.held.is_empty() {
            let n = this.held.len().min(buf.remaining());
            buf.put_slice(&this.held[..n]);
            this.held.drain(..n);
            return Poll::Ready(Ok(()));
        }
        let start = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if matches!(this.state, Stall::Reading)
            && let Some(keep) = this.stall_point(&buf.filled()[start..])
        {
            this.held = buf.filled()[start + keep..].to_vec();
            buf.set_filled(start + keep);
            tracing::warn!(frames = this.frames, "link fault: the pen stops reading");
            this.state = Stall::Stalled(this.stall_for.map(|d| Box::pin(tokio::time::sleep(d))));
            this.tell(true);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallReads<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let f: LinkFaults =
            "drop=0.001,flip=0.0005,dup=0,delay-ms=5,jitter-ms=2,disconnect-after=40"
                .parse()
                .unwrap();
        assert_eq!(f.drop, 0.001);
        assert_eq!(f.flip, 0.0005);
        assert_eq!(f.delay, Duration::from_millis(5));
        assert_eq!(f.jitter, Duration::from_millis(2));
        assert_eq!(f.disconnect_after, Some(40));
        assert_eq!(f.to_string().parse::<LinkFaults>().unwrap(), f);
        assert_eq!("drop=2".parse::<LinkFaults>().unwrap_err().item, "drop=2");
        assert!("speed=3".parse::<LinkFaults>().is_err());
        let s: LinkFaults = "stall_after=3,stall_for_ms=250".parse().unwrap();
        assert_eq!(
            (s.stall_after, s.stall_for),
            (Some(3), Some(Duration::from_millis(250)))
        );
        assert_eq!(s.to_string().parse::<LinkFaults>().unwrap(), s);
        let e = "stall-for-ms=5".parse::<LinkFaults>().unwrap_err();
        assert!(e.reason.contains("needs stall-after"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_holds_the_host_s_bytes_after_the_nth_frame() {
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let faults: LinkFaults = "stall-after=2,stall-for-ms=300".parse().unwrap();
        let (pen, mut host) = tokio::io::duplex(1024);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = heard.clone();
        let hook: StallHook = Box::new(move |s| log.lock().unwrap().push(s));
        let mut pen = StallReads::new(pen, &faults, Some(hook));
        // A lone delimiter, two frames and the start of a third at once.
        host.write_all(&[0, 1, 2, 0, 3, 0, 4, 5, 0]).await.unwrap();
        let mut buf = [0u8; 64];
        let n = pen.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], [0, 1, 2, 0, 3, 0], "up to the second frame");
        let started = tokio::time::Instant::now();
        let n = pen.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], [4, 5, 0], "the rest, after the stall");
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert_eq!(*heard.lock().unwrap(), [true, false]);
        // The pen's writes were never held.
        pen.write_all(&[9, 0]).await.unwrap();
        let n = host.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], [9, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_without_an_end_never_reads_again() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let faults: LinkFaults = "stall-after=1".parse().unwrap();
        let (pen, mut host) = tokio::io::duplex(1024);
        let mut pen = StallReads::new(pen, &faults, None);
        host.write_all(&[1, 0, 2, 0]).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(pen.read(&mut buf).await.unwrap(), 2);
        let more = tokio::time::timeout(Duration::from_secs(3_600), pen.read(&mut buf)).await;
        assert!(more.is_err(), "read {more:?}");
    }

    #[test]
    fn mangling_is_seeded_and_roughly_at_rate() {
        let f = LinkFaults {
            drop: 0.1,
            flip: 0.1,
            dup: 0.1,
            ..LinkFaults::default()
        };
        let bytes = vec![0x55u8; 10_000];
        let a = f.mangle(&bytes, &mut Noise::new(3));
        let b = f.mangle(&bytes, &mut Noise::new(3));
        let c = f.mangle(&bytes, &mut Noise::new(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // ~9 000 kept, ~900 of them duplicated.
        assert!((9_500..10_300).contains(&a.len()), "{}", a.len());
        let flipped = a.iter().filter(|&&x| x != 0x55).count();
        assert!((700..1_300).contains(&flipped), "{flipped}");
        assert_eq!(
            LinkFaults::default().mangle(&bytes, &mut Noise::new(1)),
            bytes
        );
    }
}
