//! `penlab mock` end to end: the binary on a pseudo-terminal behind a
//! symlink, opened with tokio-serial like a USB pen; bad profiles refused.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::{DeviceState, Hello, Message, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialPortBuilderExt;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads frames until `n` packets have come.
async fn read_packets(port: &mut tokio_serial::SerialStream, n: usize) -> Vec<Packet> {
    let mut decoder = Decoder::new();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while got.len() < n {
        let k = tokio::time::timeout(Duration::from_secs(5), port.read(&mut buf))
            .await
            .expect("the mock went quiet")
            .unwrap();
        decoder.feed(&buf[..k], |r| got.push(r.expect("a sound frame")));
    }
    got
}

#[tokio::test]
async fn serves_a_pty_behind_a_symlink_and_removes_it_on_sigint() {
    let dir = temp_dir("mock-cli");
    let link = dir.join("pen");
    let mut child = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["mock", "--profile", "skinpen-like", "--pty", "--link"])
        .arg(&link)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let pty = line.trim();
    assert!(pty.starts_with("/dev/pts/"), "{line:?}");
    assert_eq!(std::fs::read_link(&link).unwrap(), PathBuf::from(pty));

    let mut port = tokio_serial::new(link.to_str().unwrap(), 115_200)
        .open_native_async()
        .unwrap();
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let hello = Packet {
        seq: 0,
        message: Message::Hello(Hello { major: 1, minor: 0 }),
    };
    let n = encode_packet(&hello, &mut wire).unwrap();
    port.write_all(&wire[..n]).await.unwrap();
    let got = read_packets(&mut port, 4).await;
    assert!(matches!(&got[0].message, Message::Ack(a) if a.ack_seq == 0 && a.command == 1));
    assert!(
        matches!(&got[1].message, Message::Identity(i) if i.model.as_str() == "penlab-mock-14")
    );
    assert!(matches!(&got[2].message, Message::Capabilities(c) if c.needle_count == 14));
    assert!(matches!(&got[3].message, Message::Status(s) if s.state == DeviceState::Idle));
    drop(port);

    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the symlink outlived the mock"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_profile_is_refused_naming_file_line_column_and_field() {
    let dir = temp_dir("mock-cli-profile");
    let path = dir.join("bad.toml");
    let good = include_str!("../firmware-mock/profiles/skinpen-like.toml");
    let bad = good.replace("labelled_max_um = 1500", "labelled_max_um = 2600");
    std::fs::write(&path, &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("labelled_max_um"))
        .unwrap()
        + 1;
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["mock", "--profile"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:{line}:1: field `depth.labelled_max_um`", path.display());
    assert!(stderr.contains(&want), "{stderr}");
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_bug_and_profile_names_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["mock", "--profile", "skinpen-like", "--bug", "no-such-bug"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("late-ack"));
    let out = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args(["mock", "--profile", "no-such-pen"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dermapen4-like"));
}

#[tokio::test]
async fn serves_tcp_with_an_environment_channel() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_penlab"))
        .args([
            "mock",
            "--profile",
            "exceed-like",
            "--tcp",
            "127.0.0.1:0",
            "--env",
            "127.0.0.1:0",
            "--seed",
            "5",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut pen_addr = String::new();
    stdout.read_line(&mut pen_addr).unwrap();
    let mut env_line = String::new();
    stdout.read_line(&mut env_line).unwrap();
    let env_addr = env_line
        .trim()
        .strip_prefix("env ")
        .expect("env line")
        .to_owned();

    let mut pen = tokio::net::TcpStream::connect(pen_addr.trim())
        .await
        .unwrap();
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let hello = Packet {
        seq: 9,
        message: Message::Hello(Hello { major: 1, minor: 0 }),
    };
    let n = encode_packet(&hello, &mut wire).unwrap();
    pen.write_all(&wire[..n]).await.unwrap();
    let mut decoder = Decoder::new();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while got.len() < 5 {
        let k = tokio::time::timeout(Duration::from_secs(5), pen.read(&mut buf))
            .await
            .expect("the mock went quiet")
            .unwrap();
        assert!(k > 0);
        decoder.feed(&buf[..k], |r| got.push(r.unwrap()));
        if got.len() == 4 {
            let mut env = tokio::net::TcpStream::connect(&env_addr).await.unwrap();
            env.write_all(b"{\"cmd\":\"remove_cartridge\"}\n")
                .await
                .unwrap();
        }
    }
    assert!(matches!(&got[1].message, Message::Identity(i) if i.model.as_str() == "penlab-mock-6"));
    assert!(
        matches!(&got[4].message, Message::Cartridge(_)),
        "{:?}",
        got[4]
    );
    drop(pen);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
}
