use super::*;
use glam::{Quat, Vec3};

fn pose(t: f64) -> Pose {
    Pose {
        t,
        position: Vec3::new(t as f32, 0.0, 0.0),
        orientation: Quat::IDENTITY,
        force_n: 2.0,
        depth_mm: 0.5,
    }
}

fn read_all(text: &str) -> Result<Vec<Event>> {
    Recording::new("rec.jsonl", text.as_bytes()).collect()
}

#[test]
fn late_strikes_are_written_in_time_order_and_read_back() {
    let mut rec = Recorder::new(Vec::new(), "pen-14", "flat-pad").unwrap();
    for k in 0..300 {
        let t = f64::from(k) * 0.01;
        rec.pose(&pose(t)).unwrap();
        // The batch for 50 ms ago arrives now.
        if k >= 5 {
            rec.strike(t - 0.05, 0.48).unwrap();
        }
    }
    let text = String::from_utf8(rec.finish().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 1 + 300 + 295);
    let events = read_all(&text).unwrap();
    assert_eq!(events.len(), 1 + 300 + 295);
    assert_eq!(events[0], header(Some("pen-14"), Some("flat-pad")));
    let times: Vec<f64> = events.iter().filter_map(time_of).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(text.contains("\"type\":\"strike\",\"t\":0.0,\"depth_mm\":0.48"));
    assert!(text.lines().nth(1).unwrap().contains("\"type\":\"pose\""));
}

#[test]
fn a_strike_may_carry_the_depth_the_pen_measured() {
    let p = Path::new("rec.jsonl");
    let e = parse_line(p, 3, r#"{"type":"strike","t":1.5,"depth_mm":0.48}"#).unwrap();
    assert_eq!(
        e,
        Event::Strike {
            t: 1.5,
            depth_mm: Some(0.48)
        }
    );
    assert_eq!(
        record_line(&e).unwrap(),
        r#"{"type":"strike","t":1.5,"depth_mm":0.48}"#
    );
    // Without one, the line is as before.
    let e = parse_line(p, 4, r#"{"type":"strike","t":2.0}"#).unwrap();
    assert_eq!(record_line(&e).unwrap(), r#"{"type":"strike","t":2.0}"#);
}

#[test]
fn a_bad_value_is_shown_in_its_line_with_a_caret() {
    let text =
        "{\"type\":\"strike\",\"t\":1.0}\n\n{\"type\":\"strike\",\"t\":2.0,\"depth_mm\":7}\n";
    let err = read_all(text).unwrap_err().to_string();
    let mut lines = err.lines();
    assert_eq!(
        lines.next().unwrap(),
        "rec.jsonl:3:26: strike depth_mm must be within 0 to 5"
    );
    assert!(
        err.contains("3 | {\"type\":\"strike\",\"t\":2.0,\"depth_mm\":7}"),
        "{err}"
    );
    let caret = err.lines().find(|l| l.contains('^')).expect("a caret");
    let code = err.lines().find(|l| l.contains("depth_mm\":7")).unwrap();
    assert_eq!(caret.find('^'), code.find("\"depth_mm\""), "{err}");
}

#[test]
fn malformed_json_names_its_column() {
    let err = read_all("{\"type\":\"pose\",\"t\":0.0,\"position\":[1,2]}\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("rec.jsonl:1:"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn times_must_not_go_backwards() {
    let text = "{\"type\":\"strike\",\"t\":2.0}\n{\"type\":\"strike\",\"t\":1.0}\n";
    let err = read_all(text).unwrap_err().to_string();
    assert!(
        err.starts_with("rec.jsonl:2:18: time 1 s goes backwards (previous event at 2 s)"),
        "{err}"
    );
}

#[test]
fn the_header_names_the_format_and_a_version_this_code_reads() {
    let wrong = "{\"type\":\"header\",\"format\":\"other\",\"version\":1}\n";
    let err = read_all(wrong).unwrap_err().to_string();
    assert!(err.contains("header format is \"other\""), "{err}");
    let future = "{\"type\":\"header\",\"format\":\"penlab-session\",\"version\":2}\n";
    let err = read_all(future).unwrap_err().to_string();
    assert!(err.contains("recording format version 2"), "{err}");
}

#[test]
fn the_stream_ends_after_an_error() {
    let text = "not json\n{\"type\":\"strike\",\"t\":1.0}\n";
    let mut r = Recording::new("rec.jsonl", text.as_bytes());
    assert!(r.next().unwrap().is_err());
    assert!(r.next().is_none());
}

#[test]
fn last_time_reads_the_tail_of_a_long_recording_and_skips_a_torn_line() {
    let dir = std::env::temp_dir().join(format!("penlab-last-time-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("long.jsonl");
    let mut rec = Recorder::new(Vec::new(), "pen-14", "flat-pad").unwrap();
    // Far more than the 64 KiB tail.
    for k in 0..5000 {
        let t = f64::from(k) * 0.01;
        rec.pose(&pose(t)).unwrap();
        rec.strike(t, 0.5).unwrap();
    }
    let mut text = rec.finish().unwrap();
    assert!(text.len() > 200 * 1024);
    std::fs::write(&path, &text).unwrap();
    assert_eq!(last_time(&path).unwrap(), Some(49.99));
    // Killed mid-line: the whole lines before it still answer.
    text.extend_from_slice(b"{\"type\":\"pose\",\"t\":50.0,\"posi");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(last_time(&path).unwrap(), Some(49.99));
    // A header alone has no time; a missing file is an error naming it.
    let header_only = dir.join("header.jsonl");
    std::fs::write(
        &header_only,
        format!("{}\n", record_line(&header(None, None)).unwrap()),
    )
    .unwrap();
    assert_eq!(last_time(&header_only).unwrap(), None);
    let missing = last_time(&dir.join("nope.jsonl")).unwrap_err();
    assert!(missing.to_string().contains("nope.jsonl"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
