//! Arbitrary bytes as a history database file (`penlab test --db FILE`):
//! opening never panics; a file that is refused is left byte for byte as
//! it was; a file that opens reads back every run and diffs them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_store::{RunFilter, Store};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("penlab-fuzz-history-{}", std::process::id()));
    std::fs::write(&path, data).expect("writes the input");
    match Store::open(&path) {
        Ok(store) => {
            if let Ok(runs) = store.runs(&RunFilter::default()) {
                for pair in runs.windows(2) {
                    let _ = store.diff(pair[0].id, pair[1].id);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
            assert_eq!(std::fs::read(&path).expect("reads it back"), data);
        }
    }
    let _ = std::fs::remove_file(&path);
});
