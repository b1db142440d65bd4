//! Where a pen is and how to open it: one [`Transport`] for every host tool.
//!
//! A pen's address is one string, as pyserial takes a port:
//!
//! | address | transport |
//! |---|---|
//! | `/dev/ttyACM0`, `/dev/ttyUSB0`, `COM3`, a PTY path | a serial port (USB CDC-ACM or a UART bridge) at the given baud rate |
//! | `tcp:HOST:PORT`, `socket://HOST:PORT` | raw TCP (a mock on `--tcp`, a `ser2net` raw port) |
//! | `mock:NAME` | an in-process pen; the caller resolves `NAME` (see [`PenAddress`]) |
//!
//! Opening gives a [`Connection`]: the byte link and, for a pen that has
//! one, its environment channel.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::env::EnvLink;

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
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
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
        if let Some(name) = s.strip_prefix("mock:") {
            if name.is_empty() {
                return Err(bad("expected a profile name or file after mock:"));
            }
            return Ok(PenAddress::InProcess(name.to_owned()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(bad(&format!(
                "unknown scheme {scheme}:// (known: socket://, tcp:, mock:, or a serial port path)"
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
            PenAddress::InProcess(_) => None,
        }
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

    /// Opens the pen. An in-process pen needs a tokio runtime.
    pub async fn open(&self) -> Result<Connection, OpenError> {
        let failed = |source| OpenError {
            what: self.description.clone(),
            source,
        };
        match &self.kind {
            Kind::Serial { path, baud } => {
                use tokio_serial::SerialPortBuilderExt;
                let port = tokio_serial::new(path, *baud)
                    .open_native_async()
                    .map_err(|e| failed(std::io::Error::other(e)))?;
                Ok(Connection::new(port))
            }
            Kind::Tcp { addr } => {
                let stream = tokio::net::TcpStream::connect(addr).await.map_err(failed)?;
                stream.set_nodelay(true).map_err(failed)?;
                Ok(Connection::new(stream))
            }
            Kind::InProcess(spawn) => Ok(spawn()),
        }
    }
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
        for s in ["/dev/ttyACM0", "tcp:h:1", "mock:exceed-like"] {
            assert_eq!(s.parse::<PenAddress>().unwrap().to_string(), s);
        }
    }
}
