//! The Wireshark dissector (tools/wireshark/penlab.lua) end to end: a mock
//! run's captures and the protocol's test vectors go through `penlab replay
//! --pcapng`, tshark decodes the export with the dissector, and every field
//! of every frame must read as penlab's own decoding (`penlab replay
//! --json`) reads it: type, seq, direction, each message field by name,
//! each strike's depth, the error names and the sequence verdicts. A frame
//! with a corrupted CRC must be flagged as expert info.

mod common;

use common::{penlab, scratch};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use penlab_protocol::message::{
    CartridgeEventKind, CartridgeState, DeviceState, FaultCode, MessageType, NackReason, Packet,
};
use serde_json::{Value, json};

const DISSECTOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/wireshark/penlab.lua");

/// Whether tshark with Lua is here. CI installs it (.ci/run), so there a
/// missing one fails the test instead of skipping it.
fn tshark_with_lua() -> bool {
    let version = Command::new("tshark").arg("-v").output();
    let ok = matches!(&version, Ok(v) if String::from_utf8_lossy(&v.stdout).contains("with Lua"));
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark with Lua is missing on CI"
        );
        eprintln!("tshark with Lua not installed: the dissector is not checked");
    }
    ok
}

/// Runs tshark with the dissector over `pcap` (more arguments after). Its
/// home is `home`, so that a copy of the dissector installed in the user's
/// plugin folder cannot load twice; tshark runs Lua as root too (it warns).
fn tshark(home: &Path, pcap: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .arg("-X")
        .arg(format!("lua_script:{DISSECTOR}"))
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("tshark runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {err}");
    assert!(
        !err.contains("Lua: Error"),
        "the dissector failed to load: {err}"
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// One record of a capture, as JSON.
fn record(t_us: u64, dir: &str, hex: &str) -> String {
    json!({ "t_us": t_us, "dir": dir, "hex": hex }).to_string()
}

fn marker(t_us: u64) -> String {
    json!({ "t_us": t_us, "dir": "pen_to_host", "hex": "", "event": "detached" }).to_string()
}

fn header(target: &str) -> String {
    json!({ "format": "penlab-capture", "version": 1, "started_unix_us": 1_763_700_000_000_000u64, "target": target }).to_string()
}

/// Joins captures into one, each after the one before it and a link
/// marker, so that one tshark run decodes them all (the marker starts the
/// decoders and the sequence checks afresh, as a new capture would).
fn join_captures(paths: &[PathBuf]) -> String {
    let mut out = vec![header("mock run")];
    let mut offset = 0u64;
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap();
        let mut last = 0;
        for line in text.lines().skip(1) {
            let mut r: Value = serde_json::from_str(line).unwrap();
            let t = r["t_us"].as_u64().unwrap();
            last = last.max(t);
            r["t_us"] = json!(offset + t);
            out.push(r.to_string());
        }
        offset += last + 1;
        out.push(marker(offset));
        offset += 1;
    }
    out.join("\n") + "\n"
}

/// `penlab replay --json` of `capture`, exporting `pcap` as it goes: one
/// JSON value a pcapng packet (frames and link markers alike).
fn replay(capture: &Path, pcap: &Path) -> Vec<Value> {
    let (code, out, err) = penlab(&[
        "replay",
        "--json",
        capture.to_str().unwrap(),
        "--pcapng",
        pcap.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "replay failed: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

/// The wire code of a value of one of the protocol's enums, given as
/// penlab's JSON gives it (`"out_of_range"`, `{"other": 200}`).
fn enum_code(message: &str, field: &str, value: &Value) -> Option<u64> {
    let v = value.clone();
    let code = match (message, field) {
        ("nack", "reason") => serde_json::from_value::<NackReason>(v).ok()?.code(),
        ("status", "state") => serde_json::from_value::<DeviceState>(v).ok()?.code(),
        ("status", "cartridge") => serde_json::from_value::<CartridgeState>(v).ok()?.code(),
        ("fault", "code") => serde_json::from_value::<FaultCode>(v).ok()?.code(),
        ("cartridge", "event") => serde_json::from_value::<CartridgeEventKind>(v).ok()?.code(),
        _ => return None,
    };
    Some(u64::from(code))
}

/// Names of a fixed array's components (PROTOCOL.md §5.2 `Pose`).
fn components(field: &str) -> &'static [&'static str] {
    match field {
        "position_um" => &["x", "y", "z"],
        "orientation_q15" => &["w", "x", "y", "z"],
        other => panic!("no component names for {other}"),
    }
}

/// A field's values, as text that compares equal when the values are.
type Fields = BTreeMap<String, Vec<String>>;

fn push(fields: &mut Fields, name: String, value: String) {
    fields.entry(name).or_default().push(value);
}

/// What the dissector must show for one line of `penlab replay --json`,
/// and which of its fields to compare (a frame in error: only what penlab
/// names of it). `None` for a link marker.
fn expected(line: &Value) -> Option<(Fields, bool)> {
    if line.get("event").is_some() {
        return None;
    }
    let mut fields = Fields::new();
    let dir = match line["dir"].as_str().unwrap() {
        "host_to_pen" => 0,
        "pen_to_host" => 1,
        other => panic!("direction {other}"),
    };
    push(&mut fields, "penlab.dir".into(), dir.to_string());
    match &line["seq"] {
        Value::Null => {}
        Value::String(s) if s == "first" || s == "in_order" => {}
        Value::String(s) if s == "duplicate" => {
            push(&mut fields, "penlab.seq.duplicate".into(), "1".into())
        }
        v => push(
            &mut fields,
            "penlab.seq.lost".into(),
            v["gap"]["lost"].as_u64().expect("a gap").to_string(),
        ),
    }
    if let Some(error) = line.get("error") {
        push(
            &mut fields,
            "penlab.error".into(),
            error.as_str().unwrap().into(),
        );
        if let Some(seq) = line["detail"]["message"]["seq"].as_u64() {
            push(&mut fields, "penlab.seq".into(), seq.to_string());
        }
        return Some((fields, false));
    }
    let packet: Packet = serde_json::from_value(line["packet"].clone()).expect("a packet");
    push(
        &mut fields,
        "penlab.type".into(),
        packet.message.msg_type().code().to_string(),
    );
    push(&mut fields, "penlab.seq".into(), packet.seq.to_string());
    // A message with fields is {"key": {fields}}; one without, "key".
    if let Value::Object(message) = &line["packet"]["message"] {
        for (key, body) in message {
            for (name, value) in body.as_object().unwrap() {
                let abbr = format!("penlab.{key}.{name}");
                match value {
                    Value::Array(items) if items.iter().all(Value::is_object) => {
                        for item in items {
                            for (k, v) in item.as_object().unwrap() {
                                push(&mut fields, format!("penlab.strike.{k}"), v.to_string());
                            }
                        }
                    }
                    Value::Array(items) => {
                        for (axis, v) in components(name).iter().zip(items) {
                            push(&mut fields, format!("{abbr}.{axis}"), v.to_string());
                        }
                    }
                    Value::Bool(b) => push(&mut fields, abbr, u8::from(*b).to_string()),
                    Value::Number(n) => push(&mut fields, abbr, n.to_string()),
                    v => match enum_code(key, name, v) {
                        Some(code) => push(&mut fields, abbr, code.to_string()),
                        None => push(&mut fields, abbr, v.as_str().expect("text").into()),
                    },
                }
            }
        }
    }
    Some((fields, true))
}

/// A value as tshark prints it, in the form [`expected`] writes: hex
/// numbers (`0x02`) in decimal.
fn normalise(value: &str) -> String {
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).map_or(value.to_owned(), |n| n.to_string()),
        None => value.to_owned(),
    }
}

/// Decodes `pcap` with tshark and checks every packet against `lines`;
/// returns the message type codes seen and the number of strike depths
/// compared.
fn check_against_penlab(dir: &Path, pcap: &Path, lines: &[Value]) -> (BTreeSet<u64>, usize) {
    let rows: Vec<Option<(Fields, bool)>> = lines.iter().map(expected).collect();
    let mut names: BTreeSet<String> = [
        "penlab.dir",
        "penlab.type",
        "penlab.seq",
        "penlab.error",
        "penlab.seq.lost",
        "penlab.seq.duplicate",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for (fields, _) in rows.iter().flatten() {
        names.extend(fields.keys().cloned());
    }
    let names: Vec<String> = names.into_iter().collect();
    let mut args = vec!["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"];
    for name in &names {
        args.extend(["-e", name.as_str()]);
    }
    let out = tshark(dir, pcap, &args);
    let got: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(got.len(), lines.len(), "one row a packet\n{out}");
    let mut types = BTreeSet::new();
    let mut depths = 0;
    for (i, (row, want)) in got.iter().zip(&rows).enumerate() {
        let context = || format!("packet {} ({})", i + 1, lines[i]);
        let Some((want, complete)) = want else {
            assert!(
                row.iter().all(|v| v.is_empty()),
                "{}: a marker decodes to nothing: {row:?}",
                context()
            );
            continue;
        };
        for (name, value) in names.iter().zip(row) {
            let got: Vec<String> = match *value {
                "" => Vec::new(),
                v => v.split('|').map(normalise).collect(),
            };
            match want.get(name) {
                Some(w) => assert_eq!(&got, w, "{}: {name}", context()),
                None if *complete || name.starts_with("penlab.seq.") => {
                    assert!(got.is_empty(), "{}: {name} = {got:?}", context())
                }
                None => {} // a broken frame's partial fields: penlab names none
            }
        }
        if let Some(t) = want.get("penlab.type") {
            types.insert(t[0].parse().unwrap());
        }
        depths += want.get("penlab.strike.depth_um").map_or(0, Vec::len);
    }
    (types, depths)
}

/// The shipped conformance suite against the mock, captured: every frame
/// of every test, as tshark decodes it, is what penlab decodes.
#[test]
fn a_mock_run_decodes_in_tshark_as_in_penlab() {
    if !tshark_with_lua() {
        return;
    }
    let dir = scratch("wireshark-run");
    let captures = dir.join("captures");
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/harness/conformance");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        suite,
        "--capture",
        captures.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&captures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() > 30, "{paths:?}");
    let joined = dir.join("run.capture");
    std::fs::write(&joined, join_captures(&paths)).unwrap();
    let pcap = dir.join("run.pcapng");
    let lines = replay(&joined, &pcap);
    let (types, depths) = check_against_penlab(&dir, &pcap, &lines);
    // The mock has no pose tracker: every other message is in the run.
    let all: BTreeSet<u64> = (0x01..=0x08)
        .chain(0x80..=0x89)
        .filter(|&c| c != u64::from(MessageType::Pose.code()))
        .collect();
    assert_eq!(types, all, "message types in the run");
    assert!(depths > 100, "only {depths} strike depths compared");
}

/// Every test vector of PROTOCOL.md §13 (one per message type with every
/// field set, Pose among them, and one or more per error), as a capture:
/// tshark names each frame and each error as penlab does.
#[test]
fn the_protocol_vectors_decode_in_tshark_as_in_penlab() {
    if !tshark_with_lua() {
        return;
    }
    let dir = scratch("wireshark-vectors");
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/protocol/vectors/vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut lines = vec![header("protocol/vectors/vectors.json")];
    let mut t = 0;
    for vector in vectors["vectors"].as_array().unwrap() {
        let wire = vector["wire"].as_str().unwrap();
        // Commands as the host sends them, answers as the pen does.
        let first = u8::from_str_radix(&wire[2..4], 16).unwrap();
        let dir = if first < 0x80 {
            "host_to_pen"
        } else {
            "pen_to_host"
        };
        t += 1_000;
        lines.push(record(t, dir, wire));
        t += 1;
        lines.push(marker(t));
    }
    let capture = dir.join("vectors.capture");
    std::fs::write(&capture, lines.join("\n") + "\n").unwrap();
    let pcap = dir.join("vectors.pcapng");
    let replayed = replay(&capture, &pcap);
    let (types, depths) = check_against_penlab(&dir, &pcap, &replayed);
    let all: BTreeSet<u64> = (0x01..=0x08).chain(0x80..=0x89).collect();
    assert_eq!(types, all, "every message type");
    assert!(depths >= 4, "the StrikeBatch vector's depths");
    let errors: BTreeSet<&str> = replayed
        .iter()
        .filter_map(|l| l["error"].as_str())
        .collect();
    assert_eq!(
        errors,
        [
            "cobs",
            "crc_mismatch",
            "malformed",
            "oversize",
            "too_long",
            "too_short",
            "trailing_bytes",
            "truncated",
            "unknown_type"
        ]
        .into(),
        "every error the vectors hold went through the comparison"
    );
}

/// Flips one bit inside a COBS-encoded frame, not in a code byte, so that
/// the frame still decodes and fails only its CRC.
fn corrupt(wire: &mut [u8]) {
    let mut codes = BTreeSet::new();
    let mut i = 0;
    while i < wire.len() && wire[i] != 0 {
        codes.insert(i);
        i += usize::from(wire[i]);
    }
    let at = (1..wire.len() - 1)
        .rev()
        .find(|&k| !codes.contains(&k) && wire[k] ^ 0x10 != 0)
        .expect("a data byte");
    wire[at] ^= 0x10;
}

/// A real run's capture with one StrikeBatch corrupted on the line: penlab
/// and tshark both call it a CRC mismatch, tshark as expert info at that
/// frame, and both see the pen's next frame one after a lost one.
#[test]
fn a_corrupted_crc_is_expert_info() {
    if !tshark_with_lua() {
        return;
    }
    let dir = scratch("wireshark-crc");
    let captures = dir.join("captures");
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/harness/conformance/commands.toml"
    );
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        suite,
        "--capture",
        captures.to_str().unwrap(),
    ]);
    let path = std::fs::read_dir(&captures)
        .unwrap_or_else(|e| panic!("{e}: {out}{err}"))
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("telemetry-while-running"))
        .unwrap_or_else(|| panic!("no telemetry capture: {code} {out}{err}"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let batch = lines
        .iter()
        .position(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            let hex = r["hex"].as_str().unwrap_or_default();
            r["dir"] == "pen_to_host"
                && hex.len() > 4
                && &hex[2..4] == "86"
                && hex::decode(hex)
                    .unwrap()
                    .iter()
                    .filter(|&&b| b == 0)
                    .count()
                    == 1
        })
        .expect("a record holding one StrikeBatch");
    let mut r: Value = serde_json::from_str(&lines[batch]).unwrap();
    let mut wire = hex::decode(r["hex"].as_str().unwrap()).unwrap();
    corrupt(&mut wire);
    r["hex"] = json!(hex::encode(&wire));
    lines[batch] = r.to_string();
    let capture = dir.join("corrupt.capture");
    std::fs::write(&capture, lines.join("\n") + "\n").unwrap();
    let pcap = dir.join("corrupt.pcapng");
    let replayed = replay(&capture, &pcap);
    let bad = replayed
        .iter()
        .position(|l| l["error"] == "crc_mismatch")
        .expect("penlab sees the CRC mismatch");
    let next = bad
        + 1
        + replayed[bad + 1..]
            .iter()
            .position(|l| l["dir"] == "pen_to_host")
            .expect("a pen frame after it");
    assert_eq!(replayed[next]["seq"], json!({ "gap": { "lost": 1 } }));
    // Every field still reads as penlab reads it.
    check_against_penlab(&dir, &pcap, &replayed);
    // The expert info: at the bad frame, a checksum error; at the next pen
    // frame, a sequence warning.
    let out = tshark(
        &dir,
        &pcap,
        &[
            "-Y",
            "penlab.crc_mismatch || penlab.seq.gap",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=|",
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.group",
            "-e",
            "_ws.expert.severity",
            "-e",
            "_ws.expert.message",
            "-e",
            "penlab.crc.status",
        ],
    );
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0][0], (bad + 1).to_string(), "{out}");
    assert!(rows[0][3].contains("crc_mismatch"), "{out}");
    assert_eq!(rows[0][4], "0", "CRC status Bad\n{out}");
    assert_eq!(rows[1][0], (next + 1).to_string(), "{out}");
    assert!(rows[1][3].contains("1 frame(s) from the pen lost"), "{out}");
    println!("{out}");
}
