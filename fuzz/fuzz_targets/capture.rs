//! Arbitrary text as a capture file: reading never panics; whatever reads
//! decodes and exports to pcapng, and a capture written back reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_host::capture::{self, CaptureWriter};

fuzz_target!(|data: &[u8]| {
    let Ok(cap) = capture::read(data) else { return };
    let events = capture::decode(&cap);
    assert!(events.iter().all(|e| !e.wire.is_empty() || e.result.is_err()));
    let mut pcap = Vec::new();
    capture::write_pcapng(&cap, &mut pcap).expect("pcapng into memory");

    let mut writer = CaptureWriter::new(Vec::new(), &cap.header).expect("in memory");
    for r in &cap.records {
        match r.event {
            Some(event) => writer.mark(r.t_us, event, r.detail.as_deref()),
            None => writer.record(r.t_us, r.dir, &r.hex),
        }
        .expect("in memory");
    }
    let again = capture::read(&writer.into_inner()[..]).expect("a written capture reads");
    // Empty reads are not written; a marker is written with no bytes.
    let expected: Vec<_> = cap
        .records
        .iter()
        .filter(|r| !r.hex.is_empty() || r.event.is_some())
        .cloned()
        .map(|mut r| {
            if r.event.is_some() {
                r.hex.clear();
                r.dir = penlab_protocol::message::Direction::PenToHost;
            } else {
                r.detail = None;
            }
            r
        })
        .collect();
    assert_eq!(again.records, expected);
});
