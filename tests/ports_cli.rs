//! `penlab ports` and `usb:` addresses from the command line. Which ports
//! a machine has cannot be arranged in a test, so this checks the shape of
//! the listing and that a `usb:` address no port matches fails clearly,
//! naming the candidates (the matcher itself is tested on made-up port
//! lists in `host/src/ports.rs`).

mod common;

use common::penlab;

#[test]
fn ports_lists_every_serial_port_as_json() {
    let (code, out, err) = penlab(&["ports", "--json"]);
    assert_eq!(code, 0, "{err}");
    let ports: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    for port in ports.as_array().expect("an array") {
        assert!(port["path"].is_string(), "{port}");
        let usb = port["kind"] == "usb";
        assert_eq!(usb, port["usb"].is_object(), "{port}");
        assert_eq!(usb, port["address"].is_string(), "{port}");
    }
    let (code, text, _) = penlab(&["ports"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with("PATH ") || text == "no serial ports found\n",
        "{text}"
    );
}

#[test]
fn a_usb_address_that_matches_no_port_names_the_candidates() {
    // No device has the IDs ffff:fffe.
    let (code, _, err) = penlab(&["test", "--port", "usb:ffff:fffe:NOPE"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no serial port is usb:ffff:fffe:NOPE"),
        "{err}"
    );
    assert!(
        err.contains("USB serial ports here:") || err.contains("there are no USB serial ports"),
        "{err}"
    );
    let (code, _, err) = penlab(&["monitor", "usb:ffff:fffe", "--seconds", "1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot open usb:ffff:fffe")
            && err.contains("no serial port is usb:ffff:fffe"),
        "{err}"
    );
    let (code, _, err) = penlab(&["monitor", "usb:12345:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("usb:VID:PID[:SERIAL]"), "{err}");
}
