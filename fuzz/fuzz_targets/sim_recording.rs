//! Arbitrary lines as a recorded session: parsing never panics, and a
//! parsed event written back parses to itself.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use penlab_simulator::script::{parse_event, record_line};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (i, line) in text.lines().enumerate() {
        let Ok(event) = parse_event(Path::new("fuzz.jsonl"), i + 1, line) else { continue };
        let again = record_line(&event).expect("a parsed event serialises");
        let back = parse_event(Path::new("fuzz.jsonl"), 1, &again).expect("and parses back");
        assert_eq!(back, event);
    }
});
