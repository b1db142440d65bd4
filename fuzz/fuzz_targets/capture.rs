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
        writer.record(r.t_us, r.dir, &r.hex).expect("in memory");
    }
    let again = capture::read(&writer.into_inner()[..]).expect("a written capture reads");
    let non_empty: Vec<_> = cap.records.iter().filter(|r| !r.hex.is_empty()).cloned().collect();
    assert_eq!(again.records, non_empty);
});
