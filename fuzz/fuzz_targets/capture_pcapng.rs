//! Arbitrary bytes as a pcapng capture: reading never panics and ends;
//! whatever reads back as frames writes out as pcapng again and reads the
//! same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_host::capture::{self, Entries, PcapngExport};

fuzz_target!(|data: &[u8]| {
    // The magic first, so the fuzzer starts inside the pcapng reader.
    let mut bytes = capture::pcapng::MAGIC.to_vec();
    bytes.extend_from_slice(data);
    let Ok(mut stream) = capture::entries(&bytes[..]) else { return };
    assert!(matches!(stream, Entries::Pcapng(_)));
    let entries: Vec<_> = stream.by_ref().map_while(Result::ok).collect();
    let header = stream.header().clone();
    let mut out = Vec::new();
    let mut export = PcapngExport::new(&mut out, &header).expect("into memory");
    for entry in &entries {
        export.entry(entry).expect("into memory");
    }
    drop(export);
    let again: Vec<_> = capture::entries(&out[..])
        .expect("a written pcapng reads")
        .map(|e| e.expect("a written pcapng reads whole"))
        .collect();
    assert_eq!(again.len(), entries.len());
});
