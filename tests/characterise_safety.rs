//! `penlab characterise` leaves a real pen stopped, end to end over a
//! pseudo-terminal: Ctrl-C (SIGINT) in the middle of a study ends it with
//! `Stop` acknowledged in the pen's own transcript, the points measured so
//! far written, and exit code 130.

mod common;

use common::{penlab_command, scratch};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use penlab_firmware_mock::transcript::{Dir, WrittenTranscript};
use penlab_protocol::message::{DeviceState, Message, MessageType, Packet};

/// The pen's frames from its transcript: (from the host, packet), in order.
fn transcript(path: &std::path::Path) -> Vec<(bool, Packet)> {
    let Ok(Some(written)) = WrittenTranscript::read(path) else {
        return Vec::new();
    };
    written
        .transcript
        .packets()
        .into_iter()
        .map(|(_, dir, p)| (dir == Dir::HostToPen, p))
        .collect()
}

fn pen_states(frames: &[(bool, Packet)]) -> Vec<DeviceState> {
    frames
        .iter()
        .filter_map(|(from_host, p)| match &p.message {
            Message::Status(s) if !from_host => Some(s.state),
            _ => None,
        })
        .collect()
}

#[test]
fn sigint_mid_study_stops_the_motor_and_keeps_the_points() {
    let dir = scratch("characterise-sigint");
    let record = dir.join("pen.transcript");
    let mut pen = penlab_command()
        .args([
            "mock",
            "--profile",
            "dermapen4-like",
            "--pty",
            "--seed",
            "3",
        ])
        .arg("--transcript")
        .arg(&record)
        .stdout(Stdio::piped())
        .spawn()
        .expect("penlab mock starts");
    let mut lines = BufReader::new(pen.stdout.take().unwrap()).lines();
    let port = lines.next().unwrap().unwrap().trim().to_owned();
    let out = dir.join("out");
    let mut host = penlab_command()
        .args(["characterise", "--port", &port, "--strokes", "60", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("penlab characterise starts");
    // Wait for the motor to run, and a point or two to be measured.
    let started = Instant::now();
    while !pen_states(&transcript(&record)).contains(&DeviceState::Running) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the motor never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(3_500));
    let sent = Command::new("kill")
        .args(["-INT", &host.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let limit = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(status) = host.try_wait().unwrap() {
            break status.code().expect("exited, not killed");
        }
        if Instant::now() > limit {
            let _ = host.kill();
            panic!("characterise did not leave after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(200));
    let _ = pen.kill();
    let _ = pen.wait();
    assert_eq!(code, 130);
    let frames = transcript(&record);
    let states = pen_states(&frames);
    assert_ne!(states.last(), Some(&DeviceState::Running), "{states:?}");
    let stop = MessageType::Stop.code();
    let last_stop = frames
        .iter()
        .rposition(|(h, p)| *h && p.message == Message::Stop)
        .expect("the host sent Stop");
    let seq = frames[last_stop].1.seq;
    assert!(
        frames[last_stop..].iter().any(|(h, p)| !h
            && matches!(&p.message, Message::Ack(a) if a.command == stop && a.ack_seq == seq)),
        "the pen acknowledged the last Stop"
    );
    let study: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("characterisation.json")).unwrap())
            .unwrap();
    assert_eq!(study["error"], "interrupted by SIGINT");
    assert!(
        study["teardown"]
            .as_str()
            .unwrap()
            .starts_with("Stop answered: Ack")
    );
    let points = study["points"].as_array().unwrap().len();
    assert!(
        (1..87).contains(&points),
        "{points} points measured before the signal"
    );
}
