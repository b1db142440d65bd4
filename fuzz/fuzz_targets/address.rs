//! Arbitrary text as a pen address (`--port`, `penlab monitor PORT`):
//! parsing never panics, and an address that parses is shown as text that
//! parses to the same address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_host::transport::PenAddress;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = text.parse::<PenAddress>() {
        let shown = address.to_string();
        assert_eq!(shown.parse::<PenAddress>().as_ref(), Ok(&address), "{shown}");
    }
});
