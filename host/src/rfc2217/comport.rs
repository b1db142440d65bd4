//! COM-PORT-OPTION (RFC 2217 §3): what the client asks of the serial port
//! behind the access server, and what the server says back. Server codes are
//! the client's plus 100.

use std::fmt;

/// SIGNATURE: free text naming the sender; empty asks for the other's.
pub const SIGNATURE: u8 = 0;
/// SET-BAUDRATE: four bytes, network order.
pub const SET_BAUDRATE: u8 = 1;
/// SET-DATASIZE: 5 to 8.
pub const SET_DATASIZE: u8 = 2;
/// SET-PARITY: 1 none, 2 odd, 3 even, 4 mark, 5 space.
pub const SET_PARITY: u8 = 3;
/// SET-STOPSIZE: 1 one, 2 two, 3 one and a half.
pub const SET_STOPSIZE: u8 = 4;
/// SET-CONTROL: 1 is no flow control.
pub const SET_CONTROL: u8 = 5;
/// NOTIFY-LINESTATE (server to client).
pub const NOTIFY_LINESTATE: u8 = 6;
/// NOTIFY-MODEMSTATE (server to client).
pub const NOTIFY_MODEMSTATE: u8 = 7;
/// FLOWCONTROL-SUSPEND: stop sending.
pub const FLOWCONTROL_SUSPEND: u8 = 8;
/// FLOWCONTROL-RESUME: go on sending.
pub const FLOWCONTROL_RESUME: u8 = 9;
/// What the server adds to a command code in its own messages.
pub const SERVER: u8 = 100;

/// SET-CONTROL's "no flow control".
const NO_FLOW_CONTROL: u8 = 1;

/// Parity, as SET-PARITY codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// None.
    None = 1,
    /// Odd.
    Odd = 2,
    /// Even.
    Even = 3,
    /// Mark.
    Mark = 4,
    /// Space.
    Space = 5,
}

/// Stop bits, as SET-STOPSIZE codes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopBits {
    /// One.
    One = 1,
    /// Two.
    Two = 2,
    /// One and a half.
    OneAndAHalf = 3,
}

/// The line a pen is on: what the client asks the far end to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
}

impl LineSettings {
    /// 8 data bits, no parity, one stop bit: every pen's line.
    pub fn eight_n_one(baud: u32) -> Self {
        LineSettings {
            baud,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: StopBits::One,
        }
    }

    /// The client's requests, as `(command, value)` payload pairs: the line
    /// settings, then no flow control.
    pub fn requests(&self) -> [(u8, Vec<u8>); 5] {
        [
            (SET_BAUDRATE, self.baud.to_be_bytes().to_vec()),
            (SET_DATASIZE, vec![self.data_bits]),
            (SET_PARITY, vec![self.parity as u8]),
            (SET_STOPSIZE, vec![self.stop_bits as u8]),
            (SET_CONTROL, vec![NO_FLOW_CONTROL]),
        ]
    }
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parity = match self.parity {
            Parity::None => 'N',
            Parity::Odd => 'O',
            Parity::Even => 'E',
            Parity::Mark => 'M',
            Parity::Space => 'S',
        };
        let stop = match self.stop_bits {
            StopBits::One => "1",
            StopBits::Two => "2",
            StopBits::OneAndAHalf => "1.5",
        };
        write!(f, "{} {}{parity}{stop}", self.baud, self.data_bits)
    }
}

/// What the access server said in one COM-PORT-OPTION sub-negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// It asks for our signature.
    SignatureRequest,
    /// Its signature.
    Signature(String),
    /// The baud rate now set.
    Baud(u32),
    /// The data size now set.
    DataSize(u8),
    /// The parity code now set.
    Parity(u8),
    /// The stop size code now set.
    StopSize(u8),
    /// The flow control code now set.
    Control(u8),
    /// Line state bits (RFC 2217 NOTIFY-LINESTATE).
    LineState(u8),
    /// Modem state bits (RFC 2217 NOTIFY-MODEMSTATE).
    ModemState(u8),
    /// Stop sending until [`Notice::Resume`].
    Suspend,
    /// Sending may go on.
    Resume,
    /// Anything else: mask and purge acknowledgements, client codes sent
    /// by mistake, codes this client does not know, or a value too short.
    Other {
        /// The command code.
        command: u8,
        /// Its value.
        value: Vec<u8>,
    },
}

impl Notice {
    /// Reads a COM-PORT-OPTION sub-negotiation's data (after the option
    /// byte). Never fails: what is not understood is [`Notice::Other`].
    pub fn parse(data: &[u8]) -> Notice {
        let Some((&command, value)) = data.split_first() else {
            return Notice::Other {
                command: 0,
                value: Vec::new(),
            };
        };
        let byte = value.first().copied();
        let notice = match (command.checked_sub(SERVER), byte) {
            (Some(SIGNATURE), _) if value.is_empty() => Some(Notice::SignatureRequest),
            (Some(SIGNATURE), _) => Some(Notice::Signature(
                String::from_utf8_lossy(value).into_owned(),
            )),
            (Some(SET_BAUDRATE), _) => <[u8; 4]>::try_from(value)
                .ok()
                .map(|b| Notice::Baud(u32::from_be_bytes(b))),
            (Some(SET_DATASIZE), Some(b)) => Some(Notice::DataSize(b)),
            (Some(SET_PARITY), Some(b)) => Some(Notice::Parity(b)),
            (Some(SET_STOPSIZE), Some(b)) => Some(Notice::StopSize(b)),
            (Some(SET_CONTROL), Some(b)) => Some(Notice::Control(b)),
            (Some(NOTIFY_LINESTATE), Some(b)) => Some(Notice::LineState(b)),
            (Some(NOTIFY_MODEMSTATE), Some(b)) => Some(Notice::ModemState(b)),
            (Some(FLOWCONTROL_SUSPEND), _) => Some(Notice::Suspend),
            (Some(FLOWCONTROL_RESUME), _) => Some(Notice::Resume),
            _ => None,
        };
        notice.unwrap_or_else(|| Notice::Other {
            command,
            value: value.to_vec(),
        })
    }
}

/// What the far end has confirmed of the line so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FarEnd {
    /// Its signature, if it sent one.
    pub signature: Option<String>,
    /// Baud rate it reported.
    pub baud: Option<u32>,
    /// Data size it reported.
    pub data_bits: Option<u8>,
    /// Parity code it reported.
    pub parity: Option<u8>,
    /// Stop size code it reported.
    pub stop_bits: Option<u8>,
    /// Flow control code it reported.
    pub control: Option<u8>,
    /// Its last line state notification.
    pub line_state: Option<u8>,
    /// Its last modem state notification.
    pub modem_state: Option<u8>,
}

impl FarEnd {
    /// Whether every line setting has been answered.
    pub fn line_confirmed(&self) -> bool {
        self.baud.is_some()
            && self.data_bits.is_some()
            && self.parity.is_some()
            && self.stop_bits.is_some()
    }

    /// The settings the far end reported that differ from `asked`, named
    /// for an error message. A baud rate of 0 is taken as "cannot tell"
    /// and not held against it.
    pub fn mismatches(&self, asked: &LineSettings) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: &str, got: Option<u32>, want: u32| {
            if let Some(got) = got
                && got != want
            {
                out.push(format!("{what} {got} (asked {want})"));
            }
        };
        check("baud", self.baud.filter(|&b| b != 0), asked.baud);
        check(
            "data bits",
            self.data_bits.map(u32::from),
            u32::from(asked.data_bits),
        );
        check(
            "parity code",
            self.parity.map(u32::from),
            asked.parity as u32,
        );
        check(
            "stop size code",
            self.stop_bits.map(u32::from),
            asked.stop_bits as u32,
        );
        out
    }

    /// Takes in what the far end reported.
    pub fn note(&mut self, notice: &Notice) {
        match *notice {
            Notice::Signature(ref s) => self.signature = Some(s.clone()),
            Notice::Baud(b) => self.baud = Some(b),
            Notice::DataSize(b) => self.data_bits = Some(b),
            Notice::Parity(b) => self.parity = Some(b),
            Notice::StopSize(b) => self.stop_bits = Some(b),
            Notice::Control(b) => self.control = Some(b),
            Notice::LineState(b) => self.line_state = Some(b),
            Notice::ModemState(b) => self.modem_state = Some(b),
            Notice::SignatureRequest | Notice::Suspend | Notice::Resume | Notice::Other { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_coded_as_rfc_2217_says() {
        let r = LineSettings::eight_n_one(115_200).requests();
        assert_eq!(r[0], (1, vec![0x00, 0x01, 0xc2, 0x00]));
        assert_eq!(r[1], (2, vec![8]));
        assert_eq!(r[2], (3, vec![1]));
        assert_eq!(r[3], (4, vec![1]));
        assert_eq!(r[4], (5, vec![1]));
        assert_eq!(LineSettings::eight_n_one(9_600).to_string(), "9600 8N1");
    }

    #[test]
    fn server_notices_parse() {
        assert_eq!(Notice::parse(&[100]), Notice::SignatureRequest);
        assert_eq!(
            Notice::parse(b"\x64ser2net"),
            Notice::Signature("ser2net".into())
        );
        assert_eq!(Notice::parse(&[101, 0, 1, 0xc2, 0]), Notice::Baud(115_200));
        assert_eq!(Notice::parse(&[102, 8]), Notice::DataSize(8));
        assert_eq!(Notice::parse(&[107, 0x30]), Notice::ModemState(0x30));
        assert_eq!(Notice::parse(&[108]), Notice::Suspend);
        assert_eq!(Notice::parse(&[109]), Notice::Resume);
        // Too short, a client code, and an unknown code: kept, not guessed.
        assert_eq!(
            Notice::parse(&[101, 0, 1]),
            Notice::Other {
                command: 101,
                value: vec![0, 1]
            }
        );
        assert!(matches!(
            Notice::parse(&[1, 0, 0, 0, 1]),
            Notice::Other { command: 1, .. }
        ));
        assert!(matches!(
            Notice::parse(&[200]),
            Notice::Other { command: 200, .. }
        ));
        assert!(matches!(Notice::parse(&[]), Notice::Other { .. }));
    }

    #[test]
    fn the_far_end_is_held_to_what_was_asked() {
        let asked = LineSettings::eight_n_one(115_200);
        let mut far = FarEnd::default();
        assert!(!far.line_confirmed());
        for n in [
            Notice::Baud(115_200),
            Notice::DataSize(8),
            Notice::Parity(1),
        ] {
            far.note(&n);
        }
        assert!(!far.line_confirmed());
        far.note(&Notice::StopSize(1));
        assert!(far.line_confirmed());
        assert!(far.mismatches(&asked).is_empty());
        far.note(&Notice::Baud(9_600));
        far.note(&Notice::DataSize(7));
        assert_eq!(
            far.mismatches(&asked),
            ["baud 9600 (asked 115200)", "data bits 7 (asked 8)"]
        );
        far.note(&Notice::Baud(0));
        assert_eq!(far.mismatches(&asked).len(), 1, "0 is 'cannot tell'");
    }
}
