//! Arbitrary text as a mock device profile: parsing never panics, and a
//! profile that parses yields limits the protocol's own rules accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_firmware_mock::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(profile) = Profile::parse(text, "fuzz.toml") else { return };
    let caps = profile.capabilities();
    assert!(caps.depth_min_um <= caps.depth_max_um);
    assert!(caps.accepts_depth(caps.depth_min_um));
    assert!(caps.accepts_rate(caps.rate_min_chz));
    let _ = profile.identity();
});
