//! The telnet layer under RFC 2217: commands and sub-negotiations taken out
//! of the byte stream (RFC 854, 855), IAC escaping, and option negotiation
//! by the rules of RFC 1143 (the "Q method"), which keep two ends from
//! answering each other's answers forever.

use std::fmt;

/// Interpret As Command: starts every telnet command; doubled in data.
pub const IAC: u8 = 255;
/// Refuse, or stop, an option on the far end's side.
pub const DONT: u8 = 254;
/// Ask for, or agree to, an option on the far end's side.
pub const DO: u8 = 253;
/// Refuse, or stop, an option on our side.
pub const WONT: u8 = 252;
/// Offer, or agree to, an option on our side.
pub const WILL: u8 = 251;
/// Sub-negotiation begins.
pub const SB: u8 = 250;
/// Sub-negotiation ends.
pub const SE: u8 = 240;

/// Option codes this client knows.
pub mod option {
    /// BINARY TRANSMISSION (RFC 856): 8-bit data, no NVT line-end rules.
    pub const BINARY: u8 = 0;
    /// ECHO (RFC 857): refused, since an echo would hand the host its own
    /// frames back.
    pub const ECHO: u8 = 1;
    /// SUPPRESS-GO-AHEAD (RFC 858): full duplex.
    pub const SGA: u8 = 3;
    /// COM-PORT-OPTION (RFC 2217).
    pub const COM_PORT: u8 = 44;
}

/// The longest sub-negotiation kept; bytes past it are dropped. The
/// longest COM-PORT-OPTION sub-negotiation is a signature, free text.
pub const MAX_SUBNEGOTIATION: usize = 256;

/// A negotiation verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `WILL`: the sender offers, or agrees, to use an option.
    Will,
    /// `WONT`: the sender refuses, or stops, an option.
    Wont,
    /// `DO`: the sender asks the receiver to use an option, or agrees.
    Do,
    /// `DONT`: the sender asks the receiver not to use an option.
    Dont,
}

impl Verb {
    /// The command byte.
    pub fn code(self) -> u8 {
        match self {
            Verb::Will => WILL,
            Verb::Wont => WONT,
            Verb::Do => DO,
            Verb::Dont => DONT,
        }
    }

    fn from_code(code: u8) -> Option<Verb> {
        match code {
            WILL => Some(Verb::Will),
            WONT => Some(Verb::Wont),
            DO => Some(Verb::Do),
            DONT => Some(Verb::Dont),
            _ => None,
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Will => "WILL",
            Verb::Wont => "WONT",
            Verb::Do => "DO",
            Verb::Dont => "DONT",
        })
    }
}

/// Something other than data, found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `IAC verb option`.
    Negotiate {
        /// WILL, WONT, DO or DONT.
        verb: Verb,
        /// The option.
        option: u8,
    },
    /// `IAC SB option data IAC SE`, with the data unescaped.
    Subnegotiation {
        /// The option.
        option: u8,
        /// Its data (at most [`MAX_SUBNEGOTIATION`] bytes).
        data: Vec<u8>,
    },
    /// Any other command (NOP, BREAK, GA, ...).
    Command(u8),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Data,
    Iac,
    Verb(Verb),
    SubOption,
    Sub,
    SubIac,
}

/// Splits a telnet stream into data and [`Event`]s. Any input is taken:
/// nothing panics, and malformed commands are skipped.
#[derive(Debug, Default)]
pub struct Decoder {
    state: State,
    option: u8,
    sub: Vec<u8>,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Feeds `input`, which may end anywhere (mid-command too): data goes to
    /// `data`, commands to `events`.
    pub fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, events: &mut Vec<Event>) {
        for &byte in input {
            self.state = match self.state {
                State::Data if byte == IAC => State::Iac,
                State::Data => {
                    data.push(byte);
                    State::Data
                }
                State::Iac => self.command(byte, data, events),
                State::Verb(verb) => {
                    events.push(Event::Negotiate { verb, option: byte });
                    State::Data
                }
                State::SubOption => {
                    self.option = byte;
                    self.sub.clear();
                    State::Sub
                }
                State::Sub if byte == IAC => State::SubIac,
                State::Sub => {
                    self.push_sub(byte);
                    State::Sub
                }
                State::SubIac => match byte {
                    IAC => {
                        self.push_sub(IAC);
                        State::Sub
                    }
                    SE => {
                        events.push(Event::Subnegotiation {
                            option: self.option,
                            data: std::mem::take(&mut self.sub),
                        });
                        State::Data
                    }
                    // RFC 855 allows only IAC or SE here: the sub-negotiation
                    // was cut short. Drop it and take this as a command.
                    other => {
                        self.sub.clear();
                        self.command(other, data, events)
                    }
                },
            };
        }
    }

    /// The byte after an IAC.
    fn command(&mut self, byte: u8, data: &mut Vec<u8>, events: &mut Vec<Event>) -> State {
        if byte == IAC {
            data.push(IAC);
            return State::Data;
        }
        if byte == SB {
            return State::SubOption;
        }
        if let Some(verb) = Verb::from_code(byte) {
            return State::Verb(verb);
        }
        // A stray SE has nothing to end.
        if byte != SE {
            events.push(Event::Command(byte));
        }
        State::Data
    }

    fn push_sub(&mut self, byte: u8) {
        if self.sub.len() < MAX_SUBNEGOTIATION {
            self.sub.push(byte);
        }
    }
}

/// Appends `data` to `out` with every IAC doubled.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    for &byte in data {
        out.push(byte);
        if byte == IAC {
            out.push(IAC);
        }
    }
}

/// `IAC verb option`.
pub fn negotiation(verb: Verb, option: u8) -> [u8; 3] {
    [IAC, verb.code(), option]
}

/// Appends `IAC SB option payload IAC SE` to `out`, the payload escaped.
pub fn subnegotiation(option: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[IAC, SB, option]);
    escape_into(payload, out);
    out.extend_from_slice(&[IAC, SE]);
}

/// Where one side of one option stands (RFC 1143 §7). This client never
/// changes its mind mid-negotiation, so the queue bits are not needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Q {
    /// Off.
    #[default]
    No,
    /// On.
    Yes,
    /// We asked for it off and wait for the answer.
    WantNo,
    /// We asked for it on and wait for the answer.
    WantYes,
}

/// The state of every option on both sides, and what this end accepts.
#[derive(Debug, Clone)]
pub struct Options {
    us: [Q; 256],
    him: [Q; 256],
    accept_us: [bool; 256],
    accept_him: [bool; 256],
}

impl Options {
    /// Accepts `local` options on our side and `remote` ones on the far
    /// end's; refuses every other.
    pub fn new(local: &[u8], remote: &[u8]) -> Self {
        let mut accept_us = [false; 256];
        let mut accept_him = [false; 256];
        for &o in local {
            accept_us[usize::from(o)] = true;
        }
        for &o in remote {
            accept_him[usize::from(o)] = true;
        }
        Options {
            us: [Q::No; 256],
            him: [Q::No; 256],
            accept_us,
            accept_him,
        }
    }

    /// Our side of `option`.
    pub fn local(&self, option: u8) -> Q {
        self.us[usize::from(option)]
    }

    /// The far end's side of `option`.
    pub fn remote(&self, option: u8) -> Q {
        self.him[usize::from(option)]
    }

    /// Offers `option` on our side: `IAC WILL option` to send, unless it is
    /// on or asked for already.
    pub fn offer(&mut self, option: u8) -> Option<[u8; 3]> {
        let q = &mut self.us[usize::from(option)];
        (*q == Q::No).then(|| {
            *q = Q::WantYes;
            negotiation(Verb::Will, option)
        })
    }

    /// Asks the far end for `option`: `IAC DO option` to send, unless it is
    /// on or asked for already.
    pub fn ask(&mut self, option: u8) -> Option<[u8; 3]> {
        let q = &mut self.him[usize::from(option)];
        (*q == Q::No).then(|| {
            *q = Q::WantYes;
            negotiation(Verb::Do, option)
        })
    }

    /// Takes the far end's `verb option` and gives the answer to send, if
    /// any. An answer to our own request, or a request for what is already
    /// so, is not answered: that is what ends negotiation loops.
    pub fn receive(&mut self, verb: Verb, option: u8) -> Option<[u8; 3]> {
        let i = usize::from(option);
        // WILL/WONT speak of the far end's side; DO/DONT of ours.
        let (q, accepted, yes, no) = match verb {
            Verb::Will | Verb::Wont => (&mut self.him[i], self.accept_him[i], Verb::Do, Verb::Dont),
            Verb::Do | Verb::Dont => (&mut self.us[i], self.accept_us[i], Verb::Will, Verb::Wont),
        };
        let on = matches!(verb, Verb::Will | Verb::Do);
        let (next, reply) = match (*q, on) {
            (Q::No, true) if accepted => (Q::Yes, Some(yes)),
            (Q::No, true) => (Q::No, Some(no)),
            (Q::No, false) => (Q::No, None),
            (Q::Yes, true) => (Q::Yes, None),
            (Q::Yes, false) => (Q::No, Some(no)),
            // An answer to our request (or, for WANTNO + on, an error by
            // the far end that RFC 1143 settles as off).
            (Q::WantYes, true) => (Q::Yes, None),
            (Q::WantYes, false) | (Q::WantNo, _) => (Q::No, None),
        };
        *q = next;
        reply.map(|verb| negotiation(verb, option))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(input: &[u8]) -> (Vec<u8>, Vec<Event>) {
        let (mut data, mut events) = (Vec::new(), Vec::new());
        Decoder::new().feed(input, &mut data, &mut events);
        (data, events)
    }

    #[test]
    fn commands_are_taken_out_of_the_data() {
        // RFC 2217's answer to SET-BAUDRATE 115200, between data bytes, and
        // a doubled IAC that is data.
        let input = [
            b'a', IAC, SB, 44, 101, 0x00, 0x01, 0xc2, 0x00, IAC, SE, b'b', IAC, IAC, b'c', IAC,
            241, // NOP
            IAC, WILL, 3,
        ];
        let (data, events) = decode(&input);
        assert_eq!(data, [b'a', b'b', IAC, b'c']);
        assert_eq!(
            events,
            [
                Event::Subnegotiation {
                    option: 44,
                    data: vec![101, 0x00, 0x01, 0xc2, 0x00]
                },
                Event::Command(241),
                Event::Negotiate {
                    verb: Verb::Will,
                    option: 3
                },
            ]
        );
    }

    #[test]
    fn an_iac_inside_a_subnegotiation_is_unescaped() {
        let (_, events) = decode(&[IAC, SB, 44, 100, b'x', IAC, IAC, b'y', IAC, SE]);
        assert_eq!(
            events,
            [Event::Subnegotiation {
                option: 44,
                data: vec![100, b'x', IAC, b'y']
            }]
        );
    }

    #[test]
    fn a_subnegotiation_cut_short_is_dropped_and_the_stream_goes_on() {
        let (data, events) = decode(&[IAC, SB, 44, 1, 2, IAC, WONT, 1, b'z']);
        assert_eq!(data, b"z");
        assert_eq!(
            events,
            [Event::Negotiate {
                verb: Verb::Wont,
                option: 1
            }]
        );
    }

    #[test]
    fn an_endless_subnegotiation_is_bounded() {
        let mut input = vec![IAC, SB, 44, 0];
        input.extend(std::iter::repeat_n(b's', 10_000));
        input.extend([IAC, SE, b'!']);
        let (data, events) = decode(&input);
        assert_eq!(data, b"!");
        let Event::Subnegotiation { data, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(data.len(), MAX_SUBNEGOTIATION);
    }

    #[test]
    fn subnegotiations_escape_their_payload() {
        let mut out = Vec::new();
        subnegotiation(44, &[1, 0x00, IAC, 0x00, 0x10], &mut out);
        assert_eq!(out, [IAC, SB, 44, 1, 0x00, IAC, IAC, 0x00, 0x10, IAC, SE]);
    }

    /// RFC 1143's examples: agreeing once, refusing what is not wanted, and
    /// never answering an answer.
    #[test]
    fn negotiation_follows_rfc_1143() {
        let mut o = Options::new(&[option::BINARY, option::COM_PORT], &[option::BINARY]);
        // We offer COM-PORT-OPTION; the far end agrees: no reply.
        assert_eq!(o.offer(option::COM_PORT), Some([IAC, WILL, 44]));
        assert_eq!(o.offer(option::COM_PORT), None, "asked once only");
        assert_eq!(o.receive(Verb::Do, option::COM_PORT), None);
        assert_eq!(o.local(option::COM_PORT), Q::Yes);
        // Asked again for what is on: no reply (this is what stops loops).
        assert_eq!(o.receive(Verb::Do, option::COM_PORT), None);
        // The far end offers ECHO: refused.
        assert_eq!(
            o.receive(Verb::Will, option::ECHO),
            Some([IAC, DONT, option::ECHO])
        );
        assert_eq!(o.remote(option::ECHO), Q::No);
        // It asks us for BINARY, unasked: agreed.
        assert_eq!(
            o.receive(Verb::Do, option::BINARY),
            Some([IAC, WILL, option::BINARY])
        );
        // It says DONT ECHO of what is off already: no reply.
        assert_eq!(o.receive(Verb::Dont, option::ECHO), None);
        // It turns BINARY off on our side: acknowledged, once.
        assert_eq!(
            o.receive(Verb::Dont, option::BINARY),
            Some([IAC, WONT, option::BINARY])
        );
        assert_eq!(o.receive(Verb::Dont, option::BINARY), None);
        // We ask for its BINARY and it refuses: off, no reply.
        assert_eq!(o.ask(option::BINARY), Some([IAC, DO, option::BINARY]));
        assert_eq!(o.receive(Verb::Wont, option::BINARY), None);
        assert_eq!(o.remote(option::BINARY), Q::No);
        // COM-PORT-OPTION refused on our side after we offered it.
        let mut refused = Options::new(&[option::COM_PORT], &[]);
        refused.offer(option::COM_PORT);
        assert_eq!(refused.receive(Verb::Dont, option::COM_PORT), None);
        assert_eq!(refused.local(option::COM_PORT), Q::No);
    }

    proptest! {
        /// Escaped data decodes to itself, however the stream is cut.
        #[test]
        fn escaping_round_trips_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut wire = Vec::new();
            escape_into(&bytes, &mut wire);
            prop_assert_eq!(wire.len(), bytes.len() + bytes.iter().filter(|&&b| b == IAC).count());
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut decoder = Decoder::new();
            let (mut data, mut events) = (Vec::new(), Vec::new());
            let mut from = 0;
            for at in points.into_iter().chain([wire.len()]) {
                decoder.feed(&wire[from..at], &mut data, &mut events);
                from = at;
            }
            prop_assert_eq!(data, bytes);
            prop_assert!(events.is_empty());
        }

        /// Data with commands mixed in comes out as the data alone.
        #[test]
        fn commands_between_data_leave_the_data_whole(
            chunks in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..64), 0u8..4, any::<u8>()), 0..16),
        ) {
            let mut wire = Vec::new();
            let mut expected = Vec::new();
            for (data, kind, option) in &chunks {
                escape_into(data, &mut wire);
                expected.extend_from_slice(data);
                match kind {
                    0 => wire.extend(negotiation(Verb::Will, *option)),
                    1 => subnegotiation(*option, data, &mut wire),
                    2 => wire.extend([IAC, 241]),
                    _ => {}
                }
            }
            let (data, _) = decode(&wire);
            prop_assert_eq!(data, expected);
        }

        /// No input makes the decoder panic, and it never invents data.
        #[test]
        fn any_input_is_taken(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let (data, _) = decode(&bytes);
            prop_assert!(data.len() <= bytes.len());
        }
    }
}
