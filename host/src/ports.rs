//! Finding a USB pen by what it is, not where it was: a pen that resets
//! can come back as `/dev/ttyACM1` instead of `/dev/ttyACM0`, but its
//! vendor and product IDs and its serial number stay. An address
//! `usb:VID:PID[:SERIAL]` (hex IDs, as `lsusb` prints them) is resolved
//! against the machine's serial ports each time it is opened.
//!
//! Matching is a pure function ([`select`]) over [`PortCandidate`]s, so it
//! is tested on made-up port lists; [`enumerate`] asks the operating
//! system (through the serial crate) for the real list.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Which pen to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbSelector {
    /// USB vendor ID.
    pub vid: u16,
    /// USB product ID.
    pub pid: u16,
    /// The device's serial number, exactly; any serial if `None`.
    pub serial: Option<String>,
}

impl FromStr for UsbSelector {
    type Err = String;

    /// Parses `VID:PID[:SERIAL]` (the part after `usb:`).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let id = |part: Option<&str>, what: &str| -> Result<u16, String> {
            let text = part.unwrap_or("");
            if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "expected usb:VID:PID[:SERIAL] with {what} as 1 to 4 hex digits, as lsusb prints it"
                ));
            }
            u16::from_str_radix(text, 16).map_err(|e| e.to_string())
        };
        let vid = id(parts.next(), "VID")?;
        let pid = id(parts.next(), "PID")?;
        let serial = match parts.next() {
            None => None,
            Some("") => return Err("the serial number after usb:VID:PID: is empty".into()),
            Some(serial) => Some(serial.to_owned()),
        };
        Ok(UsbSelector { vid, pid, serial })
    }
}

impl fmt::Display for UsbSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "usb:{:04x}:{:04x}", self.vid, self.pid)?;
        if let Some(serial) = &self.serial {
            write!(f, ":{serial}")?;
        }
        Ok(())
    }
}

/// How a serial port is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    /// USB (CDC-ACM, or a USB-to-UART bridge).
    Usb,
    /// PCI: a port built in.
    Pci,
    /// Bluetooth.
    Bluetooth,
    /// Not known.
    Unknown,
}

/// What USB says about a port's device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbInfo {
    /// Vendor ID.
    #[serde(serialize_with = "hex4")]
    pub vid: u16,
    /// Product ID.
    #[serde(serialize_with = "hex4")]
    pub pid: u16,
    /// Serial number, if the device has one.
    pub serial: Option<String>,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
}

fn hex4<S: Serializer>(id: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{id:04x}"))
}

/// One serial port of this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortCandidate {
    /// Its device path (`/dev/ttyACM0`, `COM3`).
    pub path: String,
    /// How it is attached.
    pub kind: PortKind,
    /// For a USB port, its device's IDs and strings.
    pub usb: Option<UsbInfo>,
}

impl PortCandidate {
    /// The `usb:` address that finds this port's device again, with its
    /// serial number when it has one.
    pub fn usb_address(&self) -> Option<String> {
        self.usb.as_ref().map(|u| {
            UsbSelector {
                vid: u.vid,
                pid: u.pid,
                serial: u.serial.clone(),
            }
            .to_string()
        })
    }

    fn matches(&self, selector: &UsbSelector) -> bool {
        self.usb.as_ref().is_some_and(|u| {
            u.vid == selector.vid
                && u.pid == selector.pid
                && selector
                    .serial
                    .as_ref()
                    .is_none_or(|s| u.serial.as_ref() == Some(s))
        })
    }
}

impl fmt::Display for PortCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.usb, self.usb_address()) {
            (Some(usb), Some(address)) => {
                write!(f, "{}  {address}", self.path)?;
                let names: Vec<&str> = [&usb.manufacturer, &usb.product]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                if !names.is_empty() {
                    write!(f, "  {}", names.join(" "))?;
                }
                Ok(())
            }
            _ => write!(f, "{}  ({:?}, not USB)", self.path, self.kind),
        }
    }
}

impl From<tokio_serial::SerialPortInfo> for PortCandidate {
    fn from(info: tokio_serial::SerialPortInfo) -> Self {
        use tokio_serial::SerialPortType;
        let (kind, usb) = match info.port_type {
            SerialPortType::UsbPort(u) => (
                PortKind::Usb,
                Some(UsbInfo {
                    vid: u.vid,
                    pid: u.pid,
                    serial: u.serial_number,
                    manufacturer: u.manufacturer,
                    product: u.product,
                }),
            ),
            SerialPortType::PciPort => (PortKind::Pci, None),
            SerialPortType::BluetoothPort => (PortKind::Bluetooth, None),
            SerialPortType::Unknown => (PortKind::Unknown, None),
        };
        PortCandidate {
            path: info.port_name,
            kind,
            usb,
        }
    }
}

/// The machine's serial ports, as the operating system lists them.
pub fn enumerate() -> std::io::Result<Vec<PortCandidate>> {
    let ports = tokio_serial::available_ports().map_err(std::io::Error::other)?;
    Ok(ports.into_iter().map(PortCandidate::from).collect())
}

/// Why a `usb:` address found no single port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// No port is that device.
    #[error(
        "no serial port is {selector}; {}",
        listing("USB serial ports here", candidates)
    )]
    None {
        /// What was looked for.
        selector: UsbSelector,
        /// The USB ports there are.
        candidates: Vec<PortCandidate>,
    },
    /// Several are: add the serial number.
    #[error("{} serial ports are {selector}: add the serial number (usb:VID:PID:SERIAL); {}", matches.len(), listing("they are", matches))]
    Several {
        /// What was looked for.
        selector: UsbSelector,
        /// The ports that matched.
        matches: Vec<PortCandidate>,
    },
}

fn listing(title: &str, ports: &[PortCandidate]) -> String {
    if ports.is_empty() {
        return "there are no USB serial ports here (see `penlab ports`)".to_owned();
    }
    let mut text = format!("{title}:");
    for port in ports {
        text.push_str(&format!("\n  {port}"));
    }
    text
}

/// The one port among `candidates` that is `selector`'s device.
///
/// macOS lists every device twice, as `/dev/cu.X` and `/dev/tty.X`; the
/// `cu` one is the one a host opens, so such a pair counts once.
pub fn select<'a>(
    selector: &UsbSelector,
    candidates: &'a [PortCandidate],
) -> Result<&'a PortCandidate, MatchError> {
    let all: Vec<&PortCandidate> = candidates.iter().filter(|c| c.matches(selector)).collect();
    let has_cu = |path: &str| {
        path.strip_prefix("/dev/tty.")
            .is_some_and(|rest| all.iter().any(|c| c.path == format!("/dev/cu.{rest}")))
    };
    let matched: Vec<&PortCandidate> = all.iter().copied().filter(|c| !has_cu(&c.path)).collect();
    match matched.as_slice() {
        [one] => Ok(one),
        [] => Err(MatchError::None {
            selector: selector.clone(),
            candidates: candidates
                .iter()
                .filter(|c| c.usb.is_some())
                .cloned()
                .collect(),
        }),
        many => Err(MatchError::Several {
            selector: selector.clone(),
            matches: many.iter().map(|c| (*c).clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usb(path: &str, vid: u16, pid: u16, serial: Option<&str>) -> PortCandidate {
        PortCandidate {
            path: path.into(),
            kind: PortKind::Usb,
            usb: Some(UsbInfo {
                vid,
                pid,
                serial: serial.map(Into::into),
                manufacturer: Some("Penlab".into()),
                product: Some("Pen 14".into()),
            }),
        }
    }

    fn bench() -> Vec<PortCandidate> {
        vec![
            PortCandidate {
                path: "/dev/ttyS0".into(),
                kind: PortKind::Pci,
                usb: None,
            },
            usb("/dev/ttyACM0", 0x1209, 0x0001, Some("PL14-000123")),
            usb("/dev/ttyACM1", 0x1209, 0x0001, Some("PL14-000124")),
            usb("/dev/ttyUSB0", 0x0403, 0x6001, None),
        ]
    }

    fn selector(s: &str) -> UsbSelector {
        s.parse().unwrap()
    }

    #[test]
    fn selectors_parse_as_lsusb_prints_ids() {
        assert_eq!(
            selector("1209:0001:PL14-000123"),
            UsbSelector {
                vid: 0x1209,
                pid: 1,
                serial: Some("PL14-000123".into())
            }
        );
        assert_eq!(selector("0403:6001").serial, None);
        assert_eq!(selector("CAFE:f00d").vid, 0xcafe, "either case");
        assert_eq!(selector("1209:1:a:b").serial.as_deref(), Some("a:b"));
        for bad in [
            "",
            "1209",
            "1209:",
            "12345:0001",
            "xyz:0001",
            "1209:0001:",
            "+1:2",
        ] {
            assert!(bad.parse::<UsbSelector>().is_err(), "{bad:?}");
        }
        assert_eq!(selector("1209:1:SN").to_string(), "usb:1209:0001:SN");
    }

    #[test]
    fn a_serial_number_picks_one_pen_of_a_bench() {
        let ports = bench();
        let found = select(&selector("1209:0001:PL14-000124"), &ports).unwrap();
        assert_eq!(found.path, "/dev/ttyACM1");
        let found = select(&selector("0403:6001"), &ports).unwrap();
        assert_eq!(found.path, "/dev/ttyUSB0");
    }

    #[test]
    fn two_of_a_kind_without_a_serial_is_an_error_listing_both() {
        let ports = bench();
        let err = select(&selector("1209:0001"), &ports).unwrap_err();
        let MatchError::Several { matches, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(matches.len(), 2);
        let text = err.to_string();
        assert!(text.contains("add the serial number"), "{text}");
        assert!(
            text.contains("/dev/ttyACM0  usb:1209:0001:PL14-000123  Penlab Pen 14")
                && text.contains("/dev/ttyACM1  usb:1209:0001:PL14-000124"),
            "{text}"
        );
    }

    #[test]
    fn no_match_lists_the_usb_ports_there_are() {
        let ports = bench();
        let err = select(&selector("1209:0001:PL14-999999"), &ports).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("no serial port is usb:1209:0001:PL14-999999"),
            "{text}"
        );
        assert!(text.contains("/dev/ttyUSB0  usb:0403:6001"), "{text}");
        assert!(
            !text.contains("ttyS0"),
            "only USB ports are candidates: {text}"
        );
        let none = select(&selector("1209:0001"), &[]).unwrap_err().to_string();
        assert!(none.contains("no USB serial ports here"), "{none}");
    }

    #[test]
    fn macos_lists_a_device_twice_and_it_counts_once() {
        let ports = vec![
            usb("/dev/tty.usbmodem101", 0x1209, 1, Some("A")),
            usb("/dev/cu.usbmodem101", 0x1209, 1, Some("A")),
        ];
        assert_eq!(
            select(&selector("1209:1"), &ports).unwrap().path,
            "/dev/cu.usbmodem101"
        );
    }

    #[test]
    fn candidates_serialise_with_hex_ids() {
        let json = serde_json::to_value(&bench()[1]).unwrap();
        assert_eq!(json["usb"]["vid"], "1209");
        assert_eq!(json["usb"]["pid"], "0001");
        assert_eq!(json["kind"], "usb");
        assert_eq!(
            bench()[1].usb_address().as_deref(),
            Some("usb:1209:0001:PL14-000123")
        );
        assert_eq!(bench()[0].usb_address(), None);
    }
}
