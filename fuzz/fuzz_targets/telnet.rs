//! Arbitrary bytes from an RFC 2217 access server: the telnet decoder and
//! the COM-PORT-OPTION reader never panic, never invent data, keep
//! sub-negotiations bounded; and any bytes, escaped, decode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_host::rfc2217::comport::Notice;
use penlab_host::rfc2217::telnet::{self, Decoder, Event, MAX_SUBNEGOTIATION, option};

fuzz_target!(|data: &[u8]| {
    let (mut out, mut events) = (Vec::new(), Vec::new());
    Decoder::new().feed(data, &mut out, &mut events);
    assert!(out.len() <= data.len());
    for event in &events {
        if let Event::Subnegotiation { option, data } = event {
            assert!(data.len() <= MAX_SUBNEGOTIATION);
            if *option == option::COM_PORT {
                let _ = Notice::parse(data);
            }
        }
    }
    let mut wire = Vec::new();
    telnet::escape_into(data, &mut wire);
    let (mut again, mut none) = (Vec::new(), Vec::new());
    Decoder::new().feed(&wire, &mut again, &mut none);
    assert_eq!(again, data);
    assert!(none.is_empty());
});
