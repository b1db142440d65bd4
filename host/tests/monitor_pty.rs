//! `monitor` over a real pseudo-terminal opened with tokio-serial, the path
//! a USB pen takes: frames, sequence gaps, garbage, an unplugged pen, and a
//! capture that keeps it all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use penlab_host::capture;
use penlab_host::monitor::{self, MonitorEnd, MonitorOptions};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::{Message, Packet, Telemetry};
use tokio::io::AsyncWriteExt;
use tokio_serial::{SerialPort, SerialStream};

/// Output shared between the monitor thread and the test.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn telemetry(seq: u16, depth_um: u16) -> Vec<u8> {
    let message = Message::Telemetry(Telemetry {
        time_us: u32::from(seq) * 50_000,
        depth_um,
        rate_chz: 11_700,
        current_ma: 400,
        force_mn: 1_500,
        battery_pct: 90,
        battery_mv: 3_950,
        temperature_dc: 300,
    });
    let mut out = [0u8; MAX_WIRE_FRAME];
    let n = encode_packet(&Packet { seq, message }, &mut out).unwrap();
    out[..n].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decodes_reports_gaps_and_survives_an_unplugged_pen() {
    let (mut pen, host_side) = SerialStream::pair().expect("a pty pair");
    let path = host_side.name().expect("the pty has a path");
    let dir = std::env::temp_dir().join(format!("penlab-monitor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture_path = dir.join("live.capture");

    let out = Shared::default();
    let options = MonitorOptions {
        port: path.clone(),
        baud: 115_200,
        capture: Some(capture_path.clone()),
        json: false,
        duration: Some(Duration::from_secs(30)),
        reattach: None,
    };
    let mut sink = out.clone();
    let monitor = std::thread::spawn(move || monitor::run(&options, &mut sink));

    // Opening a port flushes it: probe until the monitor shows it is reading.
    for _ in 0..250 {
        pen.write_all(&telemetry(0, 1_000)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if out.text().contains("Telemetry") {
            break;
        }
    }
    assert!(
        out.text().contains("Telemetry"),
        "the monitor never read the port"
    );
    let before = out.text().lines().count();

    let mut stream = Vec::new();
    stream.extend(telemetry(1, 1_250));
    stream.extend(telemetry(4, 1_251)); // 2 and 3 lost
    stream.extend(b"\x13\x37\x00"); // noise
    stream.extend(telemetry(5, 1_249));
    // Split across writes as a USB pen's packets would be.
    for chunk in stream.chunks(7) {
        pen.write_all(chunk).await.unwrap();
    }
    pen.flush().await.unwrap();
    for _ in 0..250 {
        if out.text().lines().count() >= before + 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(pen); // unplug
    drop(host_side);

    let (end, summary) = monitor.join().unwrap().expect("monitor ran");
    assert_eq!(end, MonitorEnd::Disconnected);
    let text = out.text();
    let lines: Vec<&str> = text.lines().skip(before).collect();
    assert!(
        lines[0].contains("seq     1") && lines[0].contains("\"depth_um\":1250"),
        "{text}"
    );
    assert!(
        lines[1].contains("seq     4") && lines[1].contains("[2 frame(s) lost before this]"),
        "{text}"
    );
    assert!(lines[2].contains("error"), "{text}");
    assert!(lines[3].contains("seq     5"), "{text}");
    assert_eq!(summary.lost, 2);
    assert_eq!(summary.errors, 1);

    // The capture holds every byte the monitor read, and decodes the same.
    let file = std::fs::File::open(&capture_path).unwrap();
    let cap = capture::read(std::io::BufReader::new(file)).unwrap();
    assert_eq!(cap.header.target, path);
    let events = capture::decode(&cap);
    let seqs: Vec<u16> = events
        .iter()
        .filter_map(|e| e.result.as_ref().ok())
        .map(|p| p.seq)
        .collect();
    assert!(seqs.ends_with(&[1, 4, 5]), "{seqs:?}");
    assert_eq!(events.iter().filter(|e| e.result.is_err()).count(), 1);
}

#[test]
fn a_missing_port_is_an_error_that_names_it() {
    let options = MonitorOptions {
        port: "/dev/penlab-no-such-port".into(),
        baud: 115_200,
        capture: None,
        json: false,
        duration: None,
        reattach: None,
    };
    let err = monitor::run(&options, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/dev/penlab-no-such-port"), "{err}");
}

/// Writes telemetry from `from` on, a frame every 20 ms, until `shown`
/// holds in the monitor's output: a port just opened is flushed, so the
/// first frames may be lost.
async fn stream_until(
    pen: &mut SerialStream,
    from: u16,
    out: &Shared,
    shown: impl Fn(&str) -> bool,
) -> u16 {
    let mut seq = from;
    for _ in 0..250 {
        pen.write_all(&telemetry(seq, 1_000)).await.unwrap();
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if shown(&out.text()) {
            return seq;
        }
    }
    panic!("the monitor never showed it:\n{}", out.text());
}

/// A pen re-created under the same link while the monitor runs (a USB pen
/// that resets, a mock restarted): the gap is marked, decoding goes on,
/// and a pen that does not come back in time ends the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pen_that_comes_back_is_watched_again_and_the_gap_marked() {
    let dir = std::env::temp_dir().join(format!("penlab-reattach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("pen");
    let capture_path = dir.join("gap.capture");
    let _ = std::fs::remove_file(&link);
    let plug = |link: &std::path::Path| {
        let (pen, slave) = SerialStream::pair().expect("a pty pair");
        std::os::unix::fs::symlink(slave.name().unwrap(), link).unwrap();
        (pen, slave)
    };
    let (mut pen, slave) = plug(&link);

    let out = Shared::default();
    let options = MonitorOptions {
        port: link.to_str().unwrap().to_owned(),
        baud: 115_200,
        capture: Some(capture_path.clone()),
        json: false,
        duration: Some(Duration::from_secs(60)),
        reattach: Some(Duration::from_secs(2)),
    };
    let mut sink = out.clone();
    let monitor = std::thread::spawn(move || monitor::run(&options, &mut sink));

    stream_until(&mut pen, 40, &out, |t| t.contains("Telemetry")).await;
    // Unplugged: the link goes with the pen.
    drop((pen, slave));
    std::fs::remove_file(&link).unwrap();
    for _ in 0..250 {
        if out.text().contains("--- detached") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(out.text().contains("--- detached"), "{}", out.text());

    // Back, counting from 0 as a pen that reset does.
    let (mut pen, slave) = plug(&link);
    stream_until(&mut pen, 0, &out, |t| {
        t.split_once("--- reattached")
            .is_some_and(|(_, after)| after.contains("Telemetry"))
    })
    .await;
    // Gone for good.
    drop((pen, slave));
    std::fs::remove_file(&link).unwrap();

    let (end, summary) = monitor.join().unwrap().expect("monitor ran");
    assert_eq!(end, MonitorEnd::Disconnected, "not back within 2 s");
    assert_eq!(summary.reattached, 1);
    assert_eq!(summary.lost, 0, "a pen that reset is not a sequence gap");
    let text = out.text();
    assert!(
        text.contains(&format!("--- reattached: {} after", link.to_str().unwrap())),
        "{text}"
    );
    assert!(text.contains("not back within 2s"), "{text}");

    // The capture has both markers, frames on either side of the gap.
    let file = std::fs::File::open(&capture_path).unwrap();
    let cap = capture::read(std::io::BufReader::new(file)).unwrap();
    let story: Vec<String> = capture::timeline(&cap)
        .into_iter()
        .filter_map(|e| match e {
            capture::Entry::Frame(f) => f.result.ok().map(|p| format!("seq{}", p.seq)),
            capture::Entry::Link(m) => Some(m.event.name().to_owned()),
        })
        .collect();
    let detached = story.iter().position(|s| s == "detached").expect("marked");
    let reattached = story
        .iter()
        .position(|s| s == "reattached")
        .expect("marked");
    assert!(detached > 0 && reattached == detached + 1, "{story:?}");
    assert!(story[..detached].iter().all(|s| s.starts_with("seq")));
    // Then the pen's frames, and the last detach that did not come back.
    let after = &story[reattached + 1..story.len() - 1];
    assert!(
        !after.is_empty() && after.iter().all(|s| s.starts_with("seq")),
        "{story:?}"
    );
    assert_eq!(
        story.last().map(String::as_str),
        Some("detached"),
        "{story:?}"
    );
}
