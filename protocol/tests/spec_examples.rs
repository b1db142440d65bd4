//! The worked example in `PROTOCOL.md` is decoded and checked line by line,
//! so the document cannot drift from the code.

use penlab_protocol::codec::Decoder;
use penlab_protocol::message::Packet;

#[test]
fn worked_example_decodes_as_documented() {
    let spec = include_str!("../PROTOCOL.md");
    let block = spec
        .split("```wire\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("PROTOCOL.md has a ```wire block");
    let mut checked = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (_, rest) = line.split_once(':').expect("`who: hex  # json`");
        let (hex, json) = rest.split_once('#').expect("`who: hex  # json`");
        let bytes = hex::decode(hex.split_whitespace().collect::<String>()).expect("hex");
        let want: Packet = serde_json::from_str(json.trim()).expect("json");
        let mut decoder = Decoder::new();
        let mut input = &bytes[..];
        let got = decoder
            .decode_packet(&mut input)
            .expect("a frame")
            .expect("valid");
        assert_eq!(got, want, "line: {line}");
        assert!(input.is_empty(), "one frame a line: {line}");
        checked += 1;
    }
    assert_eq!(checked, 16);
}

#[test]
fn byte_by_byte_breakdown_crc_is_right() {
    assert_eq!(
        penlab_protocol::checksum::crc32c(&[0x02, 0x01, 0x00, 0xe2, 0x04]),
        0x7395_7bdb
    );
}
