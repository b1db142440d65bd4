//! Command → acknowledgement round trip over a pseudo-terminal to the mock
//! pen: the harness's `Session` against a minimal pyserial script doing the
//! same exchange, in the same run. Prints p50 / p99 and the harness's
//! per-step overhead.
//!
//! `cargo bench -p penlab-harness --bench roundtrip` (needs `pip install pyserial`
//! for the Python peer; without it only the harness is measured).

use std::process::Command;
use std::time::{Duration, Instant};

use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{Mock, MockConfig};
use penlab_firmware_mock::transport::Pty;
use penlab_host::session::{Session, SessionOptions};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::{Hello, Message, Packet};
use tokio_serial::SerialPortBuilderExt;

const ROUNDS: usize = 2_000;

fn wire(seq: u16, message: Message) -> String {
    let mut out = [0u8; MAX_WIRE_FRAME];
    let n = encode_packet(&Packet { seq, message }, &mut out).expect("fits");
    out[..n].iter().map(|b| format!("{b:02x}")).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A mock pen on its own PTY, served by a background runtime.
fn spawn_mock() -> (String, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut pty = Pty::open(None).expect("a pty");
            tx.send(pty.path().to_string_lossy().into_owned()).unwrap();
            let profile = Profile::builtin("skinpen-like").unwrap();
            let mut mock = Mock::new(MockConfig::new(DeviceConfig::new(profile)));
            let _ = mock.run(&mut pty.master).await;
        });
    });
    (rx.recv().unwrap(), handle)
}

fn harness_latencies(path: &str) -> Vec<Duration> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let port = tokio_serial::new(path, 115_200)
            .open_native_async()
            .expect("open");
        let mut s = Session::new(port, SessionOptions::default());
        s.open().await.expect("handshake");
        let commands = [Message::Heartbeat, Message::StatusRequest];
        let mut out = Vec::with_capacity(ROUNDS);
        for i in 0..ROUNDS {
            let start = Instant::now();
            s.command(commands[i % 2].clone()).await.expect("answered");
            out.push(start.elapsed());
            // The Status that answers a StatusRequest is not part of the timing.
            if i % 2 == 1 {
                let _ = s.recv(Duration::from_millis(50)).await;
            }
        }
        let _ = s.stop_motor().await;
        out
    })
}

fn python_latencies(path: &str) -> Option<Vec<Duration>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/roundtrip.py");
    let hello = wire(0, Message::Hello(Hello { major: 1, minor: 0 }));
    // Heartbeats only: each is answered by exactly one frame, the Ack.
    let frames: Vec<String> = (1..=64).map(|seq| wire(seq, Message::Heartbeat)).collect();
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(path)
        .arg(hello)
        .arg(ROUNDS.to_string())
        .args(&frames);
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!(
            "pyserial peer not run: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .map(Duration::from_micros)
            .collect(),
    )
}

fn report(name: &str, mut lat: Vec<Duration>) -> Duration {
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.50), percentile(&lat, 0.99));
    println!(
        "{name:<28} n={:<5} p50 {:>7.1} µs   p99 {:>7.1} µs",
        lat.len(),
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    p50
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let (path, _mock) = spawn_mock();
    println!("mock pen (skinpen-like) on {path}, {ROUNDS} commands each");
    let harness = report("penlab harness Session", harness_latencies(&path));
    // A fresh pen for the peer, so neither inherits the other's session.
    let (path, _mock2) = spawn_mock();
    match python_latencies(&path) {
        Some(lat) if !lat.is_empty() => {
            let python = report("minimal pyserial script", lat);
            let overhead = harness.as_secs_f64() - python.as_secs_f64();
            println!(
                "harness per-step overhead at p50: {:+.1} µs ({:.2}× the pyserial round trip)",
                overhead * 1e6,
                harness.as_secs_f64() / python.as_secs_f64()
            );
        }
        _ => println!("minimal pyserial script      not run (pip install pyserial)"),
    }
    std::process::exit(0);
}
