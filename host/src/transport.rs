//! Where a pen is and how to open it: one [`Transport`] for every host tool.
//!
//! A pen's address is one string, as pyserial takes a port:
//!
//! | address | transport |
//! |---|---|
//! | `/dev/ttyACM0`, `/dev/ttyUSB0`, `COM3`, a PTY path | a serial port (USB CDC-ACM or a UART bridge) at the given baud rate |
//! | `tcp:HOST:PORT`, `socket://HOST:PORT` | raw TCP (a mock on `--tcp`, a `ser2net` raw port) |
//! | `rfc2217://HOST:PORT` | a serial port exported over telnet with RFC 2217 (ser2net's `telnet(rfc2217)`, a labgrid exporter): the baud rate and 8N1 are set at the far end ([`crate::rfc2217`]) |
//! | `usb:VID:PID[:SERIAL]` | the USB serial port of that device, wherever it enumerated, looked up at every open ([`crate::ports`]) |
//! | `mock:NAME` | an in-process pen; the caller resolves `NAME` (see [`PenAddress`]) |
//!
//! Opening gives a [`Connection`]: the byte link and, for a pen that has
//! one, its environment channel. A pen that went away (unplugged, reset,
//! re-enumerated, its exporter restarted) is waited for with
//! [`Transport::reopen`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::env::EnvLink;
use crate::ports::{self, UsbSelector};
use crate::rfc2217::{self, comport::LineSettings};

/// Any byte stream a session can run over.
pub trait Link: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// The usual baud rate of a pen behind a UART bridge (ignored by USB
/// CDC-ACM pens and pseudo-terminals).
pub const DEFAULT_BAUD: u32 = 115_200;

/// A pen's address, parsed from one string (see the module's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PenAddress {
    /// A serial device: a path such as `/dev/ttyACM0`, or `COM3`.
    Serial(String),
    /// Raw TCP to `HOST:PORT`.
    Tcp(String),
    /// RFC 2217 (telnet COM-PORT-OPTION) to `HOST:PORT`.
    Rfc2217(String),
    /// A USB serial device by its IDs.
    Usb(UsbSelector),
    /// An in-process pen by name (`mock:skinpen-like`): the caller knows
    /// what the name means.
    InProcess(String),
}

/// An address that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pen address {address:?}: {problem}")]
pub struct AddressError {
    /// What was given.
    pub address: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FromStr for PenAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, AddressError> {
        let bad = |problem: &str| AddressError {
            address: s.to_owned(),
            problem: problem.to_owned(),
        };
        let host_port = |rest: &str| -> Result<String, AddressError> {
            match rest.rsplit_once(':') {
                Some((host, port))
                    if !host.is_empty()
                        && !host.contains(['/', ' '])
                        && port.bytes().all(|b| b.is_ascii_digit())
                        && port.parse::<u16>().is_ok() =>
                {
                    Ok(rest.to_owned())
                }
                _ => Err(bad("expected HOST:PORT after the scheme")),
            }
        };
        if s.trim().is_empty() {
            return Err(bad("empty"));
        }
        if let Some(rest) = s.strip_prefix("socket://") {
            return host_port(rest.trim_end_matches('/')).map(PenAddress::Tcp);
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            return host_port(rest.trim_start_matches("//")).map(PenAddress::Tcp);
        }
        if let Some(rest) = s.strip_prefix("rfc2217://") {
            return host_port(rest.trim_end_matches('/')).map(PenAddress::Rfc2217);
        }
        if let Some(rest) = s.strip_prefix("usb:") {
            return rest
                .parse()
                .map(PenAddress::Usb)
                .map_err(|e: String| bad(&e));
        }
        if let Some(name) = s.strip_prefix("mock:") {
            if name.is_empty() {
                return Err(bad("expected a profile name or file after mock:"));
            }
            return Ok(PenAddress::InProcess(name.to_owned()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(bad(&format!(
                "unknown scheme {scheme}:// (known: socket://, rfc2217://, tcp:, usb:, mock:, or a serial port path)"
            )));
        }
        Ok(PenAddress::Serial(s.to_owned()))
    }
}

impl fmt::Display for PenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PenAddress::Serial(path) => f.write_str(path),
            PenAddress::Tcp(addr) => write!(f, "tcp:{addr}"),
            PenAddress::Rfc2217(addr) => write!(f, "rfc2217://{addr}"),
            PenAddress::Usb(selector) => write!(f, "{selector}"),
            PenAddress::InProcess(name) => write!(f, "mock:{name}"),
        }
    }
}

/// A pen that has been opened.
pub struct Connection {
    /// The byte link.
    pub link: Box<dyn Link>,
    /// Its environment channel, for a pen that has one.
    pub env: Option<EnvLink>,
    /// Resolves when an in-process pen has seen its line close and
    /// returned: await it (bounded) after dropping the link, so that the
    /// pen is not cut off mid-write.
    pub finished: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("env", &self.env.is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A link with nothing else.
    pub fn new(link: impl Link + 'static) -> Self {
        Connection {
            link: Box::new(link),
            env: None,
            finished: None,
        }
    }
}

/// Starts an in-process pen on the current tokio runtime.
pub type Spawn = Arc<dyn Fn() -> Connection + Send + Sync>;

/// How to reach a pen.
#[derive(Clone)]
pub struct Transport {
    kind: Kind,
    description: String,
}

#[derive(Clone)]
enum Kind {
    Serial { path: String, baud: u32 },
    Tcp { addr: String },
    Rfc2217 { addr: String, baud: u32 },
    Usb { selector: UsbSelector, baud: u32 },
    InProcess(Spawn),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

/// Why a pen could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct OpenError {
    /// The pen, as [`Transport::describe`] names it.
    pub what: String,
    /// Why.
    pub source: std::io::Error,
}

/// A pen opened again by [`Transport::reopen`].
#[derive(Debug)]
pub struct Reopened {
    /// The new connection.
    pub connection: Connection,
    /// Where it was found: for a `usb:` address, the path it resolved to
    /// this time; otherwise the address.
    pub at: String,
    /// How long it took to come back.
    pub waited: Duration,
    /// How many opens were tried.
    pub attempts: u32,
}

/// First pause between tries in [`Transport::reopen`]; it doubles up to
/// [`REOPEN_MAX_PAUSE`].
pub const REOPEN_FIRST_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause between tries in [`Transport::reopen`].
pub const REOPEN_MAX_PAUSE: Duration = Duration::from_millis(500);

impl Transport {
    /// A serial port at `baud`.
    pub fn serial(path: impl Into<String>, baud: u32) -> Self {
        let path = path.into();
        Transport {
            description: path.clone(),
            kind: Kind::Serial { path, baud },
        }
    }

    /// Raw TCP to `HOST:PORT`.
    pub fn tcp(addr: impl Into<String>) -> Self {
        let addr = addr.into();
        Transport {
            description: format!("tcp:{addr}"),
            kind: Kind::Tcp { addr },
        }
    }

    /// A serial port behind an RFC 2217 access server at `HOST:PORT`, set
    /// to `baud` 8N1 at every open.
    pub fn rfc2217(addr: impl Into<String>, baud: u32) -> Self {
        let addr = addr.into();
        Transport {
            description: format!("rfc2217://{addr}"),
            kind: Kind::Rfc2217 { addr, baud },
        }
    }

    /// The USB serial device `selector` names, looked up at every open.
    pub fn usb(selector: UsbSelector, baud: u32) -> Self {
        Transport {
            description: selector.to_string(),
            kind: Kind::Usb { selector, baud },
        }
    }

    /// An in-process pen, started afresh by `spawn` at every
    /// [`Transport::open`]; `description` names it in reports.
    pub fn in_process(
        description: impl Into<String>,
        spawn: impl Fn() -> Connection + Send + Sync + 'static,
    ) -> Self {
        Transport {
            description: description.into(),
            kind: Kind::InProcess(Arc::new(spawn)),
        }
    }

    /// The transport for an address other than an in-process one; `None`
    /// for [`PenAddress::InProcess`], which the caller resolves.
    pub fn for_address(address: &PenAddress, baud: u32) -> Option<Self> {
        match address {
            PenAddress::Serial(path) => Some(Transport::serial(path.clone(), baud)),
            PenAddress::Tcp(addr) => Some(Transport::tcp(addr.clone())),
            PenAddress::Rfc2217(addr) => Some(Transport::rfc2217(addr.clone(), baud)),
            PenAddress::Usb(selector) => Some(Transport::usb(selector.clone(), baud)),
            PenAddress::InProcess(_) => None,
        }
    }

    /// The transport for what a user gave as a port (`--port`, `penlab
    /// monitor PORT`): any address of the module's table but `mock:`.
    pub fn for_port(port: &str, baud: u32) -> Result<Self, AddressError> {
        let address: PenAddress = port.parse()?;
        Transport::for_address(&address, baud).ok_or_else(|| AddressError {
            address: port.to_owned(),
            problem: "mock: names an in-process pen, not a port".to_owned(),
        })
    }

    /// How reports and panels name the pen.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Whether the pen runs in this process (a mock): no hardware, and
    /// virtual time is possible.
    pub fn is_in_process(&self) -> bool {
        matches!(self.kind, Kind::InProcess(_))
    }

    /// The line speed set on the pen's serial line, where there is one
    /// this end sets (a local port, a `usb:` device, an RFC 2217 port).
    pub fn baud(&self) -> Option<u32> {
        match &self.kind {
            Kind::Serial { baud, .. } | Kind::Rfc2217 { baud, .. } | Kind::Usb { baud, .. } => {
                Some(*baud)
            }
            Kind::Tcp { .. } | Kind::InProcess(_) => None,
        }
    }

    /// A quick look before a run, with an error a user can act on (a
    /// whole sentence): a serial path that does not exist, a `usb:`
    /// address that matches no single port. Network addresses are not
    /// tried.
    pub fn check(&self) -> std::io::Result<()> {
        match &self.kind {
            Kind::Serial { path, .. } if !std::path::Path::new(path).exists() => {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("port {path} does not exist (is the pen plugged in?)"),
                ))
            }
            Kind::Usb { .. } => self.locate().map(drop).map_err(|e| e.source),
            _ => Ok(()),
        }
    }

    /// Where the pen is now: the port a `usb:` address resolves to, the
    /// address itself otherwise.
    pub fn locate(&self) -> Result<String, OpenError> {
        match &self.kind {
            Kind::Usb { selector, .. } => {
                let failed = |source| OpenError {
                    what: self.description.clone(),
                    source,
                };
                let candidates = ports::enumerate().map_err(failed)?;
                ports::select(selector, &candidates)
                    .map(|port| port.path.clone())
                    .map_err(|e| failed(std::io::Error::new(std::io::ErrorKind::NotFound, e)))
            }
            Kind::Serial { path, .. } => Ok(path.clone()),
            _ => Ok(self.description.clone()),
        }
    }

    /// Opens the pen. An in-process pen needs a tokio runtime.
    pub async fn open(&self) -> Result<Connection, OpenError> {
        self.open_located().await.map(|(connection, _)| connection)
    }

    async fn open_located(&self) -> Result<(Connection, String), OpenError> {
        let failed = |source| OpenError {
            what: self.description.clone(),
            source,
        };
        match &self.kind {
            Kind::Serial { path, baud } => {
                Ok((open_serial(path, *baud).map_err(failed)?, path.clone()))
            }
            Kind::Usb { baud, .. } => {
                let path = self.locate()?;
                let connection = open_serial(&path, *baud).map_err(|e| OpenError {
                    what: format!("{} (at {path})", self.description),
                    source: e,
                })?;
                Ok((connection, path))
            }
            Kind::Tcp { addr } => {
                let stream = tokio::net::TcpStream::connect(addr).await.map_err(failed)?;
                stream.set_nodelay(true).map_err(failed)?;
                Ok((Connection::new(stream), self.description.clone()))
            }
            Kind::Rfc2217 { addr, baud } => {
                let stream = rfc2217::connect(
                    addr,
                    LineSettings::eight_n_one(*baud),
                    rfc2217::NEGOTIATION_TIMEOUT,
                )
                .await
                .map_err(failed)?;
                Ok((Connection::new(stream), self.description.clone()))
            }
            Kind::InProcess(spawn) => Ok((spawn(), self.description.clone())),
        }
    }

    /// Opens the pen, trying again and again until `within` has passed:
    /// for a pen that went away and is coming back (a USB pen resetting
    /// and re-enumerating, perhaps under another name; a PTY re-created; an
    /// exporter restarted). A `usb:` address is looked up afresh at every
    /// try. Drop the old connection first: a port still held open may keep
    /// its old device node alive. The error is the last try's.
    pub async fn reopen(&self, within: Duration) -> Result<Reopened, OpenError> {
        let started = tokio::time::Instant::now();
        let deadline = started + within;
        let mut pause = REOPEN_FIRST_PAUSE;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = match self.open_located().await {
                Ok((connection, at)) => {
                    return Ok(Reopened {
                        connection,
                        at,
                        waited: started.elapsed(),
                        attempts,
                    });
                }
                Err(e) => e,
            };
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(OpenError {
                    what: format!("{} (not back within {within:?})", last.what),
                    source: last.source,
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(REOPEN_MAX_PAUSE);
        }
    }
}

fn open_serial(path: &str, baud: u32) -> std::io::Result<Connection> {
    use tokio_serial::SerialPortBuilderExt;
    let port = tokio_serial::new(path, baud)
        .open_native_async()
        .map_err(std::io::Error::from)?;
    Ok(Connection::new(port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_pyserial_names_them() {
        let parse = |s: &str| s.parse::<PenAddress>();
        assert_eq!(
            parse("/dev/ttyACM0"),
            Ok(PenAddress::Serial("/dev/ttyACM0".into()))
        );
        assert_eq!(parse("COM3"), Ok(PenAddress::Serial("COM3".into())));
        assert_eq!(
            parse("socket://bench-7:4001"),
            Ok(PenAddress::Tcp("bench-7:4001".into()))
        );
        assert_eq!(
            parse("tcp:127.0.0.1:7300"),
            Ok(PenAddress::Tcp("127.0.0.1:7300".into()))
        );
        assert_eq!(
            parse("rfc2217://bench-1:4001"),
            Ok(PenAddress::Rfc2217("bench-1:4001".into()))
        );
        assert_eq!(
            parse("usb:1209:0001:PL14-000123"),
            Ok(PenAddress::Usb(UsbSelector {
                vid: 0x1209,
                pid: 0x0001,
                serial: Some("PL14-000123".into())
            }))
        );
        assert!(parse("rfc2217://bench-1").is_err());
        assert!(parse("socket:////h:1").is_err(), "a host has no slashes");
        assert!(parse("socket://h:+1").is_err(), "a port is digits");
        let e = parse("usb:1209").unwrap_err();
        assert!(e.problem.contains("usb:VID:PID[:SERIAL]"), "{e}");
        assert_eq!(
            parse("mock:skinpen-like"),
            Ok(PenAddress::InProcess("skinpen-like".into()))
        );
        assert!(parse("socket://nohost").is_err());
        assert!(parse("socket://h:99999").is_err());
        assert!(parse("mock:").is_err());
        assert!(parse("").is_err());
        let e = parse("ftp://x:1").unwrap_err();
        assert!(e.problem.contains("unknown scheme ftp://"), "{e}");
    }

    #[test]
    fn addresses_display_as_they_parse() {
        for s in [
            "/dev/ttyACM0",
            "tcp:h:1",
            "rfc2217://h:2",
            "usb:1209:0001",
            "usb:1209:0001:SN-1",
            "mock:exceed-like",
        ] {
            assert_eq!(s.parse::<PenAddress>().unwrap().to_string(), s);
        }
    }

    proptest::proptest! {
        /// An address that parses is shown as text that parses the same
        /// (as the fuzz target `address` checks on arbitrary text).
        #[test]
        fn shown_addresses_parse_back(
            scheme in proptest::sample::select(vec![
                "", "/dev/", "tcp:", "tcp://", "socket://", "rfc2217://", "usb:", "mock:",
            ]),
            rest in "[a-zA-Z0-9:/._+ -]{0,24}",
        ) {
            let text = format!("{scheme}{rest}");
            if let Ok(address) = text.parse::<PenAddress>() {
                let shown = address.to_string();
                proptest::prop_assert_eq!(shown.parse::<PenAddress>(), Ok(address), "{}", shown);
            }
        }
    }

    #[test]
    fn ports_are_any_address_but_an_in_process_pen() {
        let t = Transport::for_port("rfc2217://127.0.0.1:4001", 57_600).unwrap();
        assert_eq!(t.describe(), "rfc2217://127.0.0.1:4001");
        assert_eq!(t.baud(), Some(57_600));
        assert_eq!(
            Transport::for_port("socket://h:1", 1).unwrap().describe(),
            "tcp:h:1"
        );
        assert_eq!(Transport::for_port("socket://h:1", 1).unwrap().baud(), None);
        let e = Transport::for_port("mock:skinpen-like", 1).unwrap_err();
        assert!(e.problem.contains("in-process pen, not a port"), "{e}");
    }

    #[test]
    fn a_missing_serial_port_is_caught_before_a_run() {
        let e = Transport::serial("/dev/penlab-no-such-port", 1)
            .check()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "port /dev/penlab-no-such-port does not exist (is the pen plugged in?)"
        );
        assert!(Transport::tcp("h:1").check().is_ok(), "not tried");
    }

    #[tokio::test(start_paused = true)]
    async fn reopen_gives_up_after_its_bound_with_the_last_error() {
        let t = Transport::serial("/dev/penlab-no-such-port", 115_200);
        let started = tokio::time::Instant::now();
        let e = t.reopen(Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(e.to_string().contains("not back within 2s"), "{e}");
    }

    /// A PTY re-created under the same link, as a pen that resets and
    /// comes back: the link appears after a while and reopen finds it.
    #[tokio::test]
    async fn reopen_waits_for_a_pen_that_comes_back() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_serial::{SerialPort, SerialStream};
        let dir = std::env::temp_dir().join(format!("penlab-reopen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("pen");
        let _ = std::fs::remove_file(&link);
        let t = Transport::serial(link.to_str().unwrap(), 115_200);
        let (mut pen, slave) = SerialStream::pair().unwrap();
        let pty = slave.name().unwrap();
        let maker = {
            let link = link.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                std::os::unix::fs::symlink(pty, &link).unwrap();
            })
        };
        let back = t.reopen(Duration::from_secs(10)).await.expect("came back");
        maker.await.unwrap();
        assert!(back.attempts > 1, "it was not there at first");
        assert!(
            back.waited >= Duration::from_millis(300),
            "{:?}",
            back.waited
        );
        assert_eq!(back.at, link.to_str().unwrap());
        let mut link_end = back.connection.link;
        pen.write_all(b"hi\n").await.unwrap();
        let mut got = [0u8; 3];
        link_end.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hi\n");
        drop(slave);
        let _ = std::fs::remove_file(&link);
    }
}
