//! The async side: reads bytes from a link into the decoder and the
//! [`Device`], ticks the device, and writes its frames (through the link
//! faults) back. All timing is `tokio::time`, so under a paused clock a run
//! is deterministic and a long session simulates in moments.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use penlab_protocol::checksum::crc32c;
use penlab_protocol::codec::{DecodeError, Decoder, encode_frame};
use penlab_protocol::message::{Message, MessageError, Packet};
use penlab_protocol::{MAX_FRAME, MAX_WIRE_FRAME};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, MissedTickBehavior};

use crate::bugs::{BugSet, PlantedBug};
use crate::device::{Device, DeviceConfig, Outgoing};
use crate::env::EnvReceiver;
use crate::link::LinkFaults;
use crate::physics::Noise;
use crate::transcript::{Dir, Transcript};

/// Default tick of the physics (and of fault detection). Commands are
/// answered as they arrive, and telemetry, strike batches and the watchdog
/// run on their own deadlines ([`Device::next_deadline`]), not on ticks.
pub const DEFAULT_TICK: Duration = Duration::from_millis(10);

/// Settings of a running mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The pen.
    pub device: DeviceConfig,
    /// Link faults.
    pub link: LinkFaults,
    /// Tick period.
    pub tick: Duration,
    /// Whether to keep a [`Transcript`].
    pub record: bool,
}

impl MockConfig {
    /// A clean link, the default tick, no transcript.
    pub fn new(device: DeviceConfig) -> Self {
        MockConfig {
            device,
            link: LinkFaults::default(),
            tick: DEFAULT_TICK,
            record: false,
        }
    }
}

/// Why [`Mock::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The host closed the link (end of stream).
    HostClosed,
    /// The link faults' `disconnect-after` count was reached.
    Disconnected {
        /// Frames the pen sent on this link.
        frames: u64,
    },
}

/// A mock pen: a [`Device`] with its clock, link faults and transcript.
/// The device outlives links: [`Mock::run`] can be called again for the
/// next TCP connection.
#[derive(Debug)]
pub struct Mock {
    device: Device,
    bugs: BugSet,
    link: LinkFaults,
    link_noise: Noise,
    tick: Duration,
    start: Instant,
    transcript: Option<Transcript>,
    env: Option<EnvReceiver>,
}

/// Encodes a frame as it goes on the wire, with the `bad-crc-on-status`
/// and `status-seven-bytes` bugs applied when planted.
pub fn encode(packet: &Packet, bugs: &BugSet) -> Vec<u8> {
    let mut raw = [0u8; MAX_FRAME];
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let Ok(mut n) = packet.emit(&mut raw) else {
        tracing::error!(?packet, "frame does not fit");
        return Vec::new();
    };
    let is_status = matches!(packet.message, Message::Status(_));
    if bugs.has(PlantedBug::StatusSevenBytes) && is_status {
        // `active_faults` as one byte: the payload loses its last byte and
        // the CRC is computed over what is left.
        n -= 5;
        let crc = crc32c(&raw[..n]);
        raw[n..n + 4].copy_from_slice(&crc.to_le_bytes());
        n += 4;
    }
    if bugs.has(PlantedBug::BadCrcOnStatus) && is_status {
        // The CRC is the last four bytes; a wrong one, off by one bit.
        raw[n - 1] ^= 0x01;
    }
    match encode_frame(&raw[..n], &mut wire) {
        Ok(len) => wire[..len].to_vec(),
        Err(_) => Vec::new(),
    }
}

/// Decodes what the host sent: every frame (or the error in its place), as
/// the pen's parser reads it. With `trailing-bytes-accepted` planted, a
/// payload with bytes after its last field is read as if they were not
/// there.
pub fn decode_from_host(
    decoder: &mut Decoder,
    mut bytes: &[u8],
    bugs: &BugSet,
) -> Vec<Result<Packet, DecodeError>> {
    let lenient = bugs.has(PlantedBug::TrailingBytesAccepted);
    let mut out = Vec::new();
    while let Some(result) = decoder.decode(&mut bytes) {
        out.push(result.and_then(|frame| {
            let parsed = Packet::parse(&frame).map_err(DecodeError::from);
            match parsed {
                Err(DecodeError::Message {
                    error: MessageError::TrailingBytes { extra, .. },
                    seq,
                }) if lenient => {
                    let payload = frame.payload();
                    let fields = &payload[..payload.len() - extra];
                    tracing::warn!(seq, extra, "planted bug: trailing bytes ignored");
                    Message::parse(frame.msg_type(), fields)
                        .map(|message| Packet { seq, message })
                        .map_err(|error| DecodeError::Message { seq, error })
                }
                other => other,
            }
        }));
    }
    out
}

impl Mock {
    /// A mock powered up now (its uptime starts at this `tokio` instant).
    pub fn new(config: MockConfig) -> Self {
        // Link faults draw from their own stream so that turning them on
        // does not change the device's physics.
        let link_noise = Noise::new(config.device.seed ^ 0x6c69_6e6b_6661_756c);
        Mock {
            bugs: config.device.bugs.clone(),
            device: Device::new(config.device),
            link: config.link,
            link_noise,
            tick: config.tick,
            start: Instant::now(),
            transcript: config.record.then(Transcript::default),
            env: None,
        }
    }

    /// Attaches the receiving end of an environment channel.
    pub fn with_env(mut self, env: EnvReceiver) -> Self {
        self.env = Some(env);
        self
    }

    /// The device model.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The transcript, if recording.
    pub fn transcript(&self) -> Option<&Transcript> {
        self.transcript.as_ref()
    }

    fn uptime(&self) -> Duration {
        Instant::now() - self.start
    }

    /// Serves one link until the host closes it or the link faults
    /// disconnect it.
    pub async fn run<S>(&mut self, stream: S) -> io::Result<RunEnd>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut decoder = Decoder::new();
        let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
        let mut last_due = Instant::now();
        let mut frames: u64 = 0;
        let mut buf = [0u8; 1024];
        let mut interval = tokio::time::interval_at(Instant::now() + self.tick, self.tick);
        // The physics integrates over the time that really passed, so a
        // missed tick needs no catching up: skip it rather than burst.
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // §2.3: a delimiter before the first frame on a new link.
        self.write(&mut wr, &[0]).await?;
        loop {
            let next_due = queue.front().map(|(due, _)| *due);
            let device_due = self.device.next_deadline().map(|d| self.start + d);
            let outgoing: Vec<Outgoing> = tokio::select! {
                // Biased: the branch order is fixed, so runs are repeatable.
                // The environment goes first: what the world did before the
                // host's bytes arrived happened first.
                biased;
                cmd = recv_env(&mut self.env), if self.env.is_some() => {
                    match cmd {
                        Some(cmd) => {
                            let now = self.uptime();
                            self.device.env(now, cmd)
                        }
                        None => {
                            self.env = None;
                            Vec::new()
                        }
                    }
                }
                read = rd.read(&mut buf) => {
                    let n = read?;
                    if n == 0 {
                        return Ok(RunEnd::HostClosed);
                    }
                    let now = self.uptime();
                    if let Some(t) = &mut self.transcript {
                        t.record(now.as_micros() as u64, Dir::HostToPen, &buf[..n]);
                    }
                    let bytes = self.link.mangle(&buf[..n], &mut self.link_noise);
                    let mut out = Vec::new();
                    for r in decode_from_host(&mut decoder, &bytes, &self.bugs) {
                        out.extend(self.device.handle(now, r));
                    }
                    out
                }
                // The physics ticks; frames with a schedule of their own
                // (telemetry, strike batches, the watchdog) go on absolute
                // deadlines the device names, so that wake-ups late by a
                // few ms never add up to drift.
                () = sleep_until_opt(device_due), if device_due.is_some() => {
                    let now = self.uptime();
                    self.device.tick(now)
                }
                _ = interval.tick() => {
                    let now = self.uptime();
                    self.device.tick(now)
                }
                () = sleep_until_opt(next_due), if next_due.is_some() => Vec::new(),
            };
            let now = Instant::now();
            for o in outgoing {
                let mut bytes = encode(&o.packet, &self.bugs);
                bytes = self.link.mangle(&bytes, &mut self.link_noise);
                let due =
                    (now + o.delay + self.link.frame_delay(&mut self.link_noise)).max(last_due);
                last_due = due;
                queue.push_back((due, bytes));
            }
            while let Some((due, _)) = queue.front() {
                if *due > Instant::now() {
                    break;
                }
                let Some((_, bytes)) = queue.pop_front() else {
                    break;
                };
                self.write(&mut wr, &bytes).await?;
                frames += 1;
                if self.link.disconnect_after.is_some_and(|n| frames >= n) {
                    tracing::warn!(frames, "link fault: disconnecting");
                    return Ok(RunEnd::Disconnected { frames });
                }
            }
        }
    }

    async fn write<W: AsyncWrite + Unpin>(&mut self, wr: &mut W, bytes: &[u8]) -> io::Result<()> {
        let now = self.uptime();
        if let Some(t) = &mut self.transcript {
            t.record(now.as_micros() as u64, Dir::PenToHost, bytes);
        }
        wr.write_all(bytes).await?;
        wr.flush().await
    }
}

async fn recv_env(env: &mut Option<EnvReceiver>) -> Option<crate::env::EnvCommand> {
    match env {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Starts a mock on an in-process link, for tests and for the harness and
/// simulator: returns the host's end of the link, the environment handle,
/// and the task, which gives the mock back (with its transcript) once the
/// host drops its end.
pub fn spawn_duplex(
    config: MockConfig,
) -> (
    tokio::io::DuplexStream,
    crate::env::EnvHandle,
    tokio::task::JoinHandle<io::Result<(Mock, RunEnd)>>,
) {
    let (pen, host) = crate::transport::duplex();
    let (env, rx) = crate::env::channel();
    let mut mock = Mock::new(config).with_env(rx);
    let task = tokio::spawn(async move {
        let end = mock.run(pen).await?;
        Ok((mock, end))
    });
    (host, env, task)
}
