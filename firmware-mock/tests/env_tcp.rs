//! The environment channel over TCP: JSON lines in, `{"ok":…}` lines out,
//! and the pen reacts on its protocol link.

mod common;

use common::*;
use penlab_firmware_mock::env;
use penlab_firmware_mock::runner::Mock;
use penlab_firmware_mock::transport::duplex;
use penlab_protocol::message::{CartridgeEventKind, DeviceState, FaultCode, Message};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn json_lines_drive_the_pen() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (handle, rx) = env::channel();
    tokio::spawn(env::serve_tcp(listener, handle));
    let (pen, host_end) = duplex();
    let mut mock = Mock::new(config("skinpen-like")).with_env(rx);
    tokio::spawn(async move { mock.run(pen).await });
    let mut host = Host::new(host_end);
    host.hello().await;
    host.command(Message::Start).await;

    let socket = TcpStream::connect(addr).await.unwrap();
    let (rd, mut wr) = socket.into_split();
    let mut lines = BufReader::new(rd).lines();
    let mut say = async |line: &str| {
        wr.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        lines.next_line().await.unwrap().unwrap()
    };
    assert_eq!(
        say(r#"{"cmd":"set_force","newtons":1.5}"#).await,
        r#"{"ok":true}"#
    );
    let reply = say(r#"{"cmd":"levitate"}"#).await;
    assert!(reply.starts_with(r#"{"ok":false,"error":"#), "{reply}");
    assert_eq!(say(r#"{"cmd":"remove_cartridge"}"#).await, r#"{"ok":true}"#);
    let r = host
        .recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    assert!(
        matches!(r.packet.message, Message::Cartridge(c) if c.event == CartridgeEventKind::Removed)
    );
    let r = host.recv_where(|m| matches!(m, Message::Fault(_))).await;
    assert!(
        matches!(r.packet.message, Message::Fault(f) if f.code == FaultCode::CartridgeRemovedWhileRunning)
    );
    assert_eq!(host.status().await.state, DeviceState::Faulted);
    assert_eq!(
        say(r#"{"cmd":"insert_cartridge","id":99,"needles":14}"#).await,
        r#"{"ok":true}"#
    );
    let r = host
        .recv_where(|m| matches!(m, Message::Cartridge(_)))
        .await;
    assert!(
        matches!(r.packet.message, Message::Cartridge(c) if c.event == CartridgeEventKind::Inserted && c.cartridge_id == 99)
    );
}

/// A client of the environment server: one line out, one line back.
struct Client {
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    wr: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let (rd, wr) = TcpStream::connect(addr).await.unwrap().into_split();
        Client {
            lines: BufReader::new(rd).lines(),
            wr,
        }
    }

    async fn say(&mut self, line: &[u8]) -> Option<String> {
        self.wr.write_all(line).await.unwrap();
        self.wr.write_all(b"\n").await.unwrap();
        self.lines.next_line().await.unwrap()
    }
}

#[tokio::test]
async fn an_over_long_line_closes_only_that_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (handle, mut rx) = env::channel();
    tokio::spawn(env::serve_tcp(listener, handle));
    let mut good = Client::connect(addr).await;
    let mut bad = Client::connect(addr).await;
    assert_eq!(
        good.say(br#"{"cmd":"set_force","newtons":1.5}"#)
            .await
            .unwrap(),
        r#"{"ok":true}"#
    );
    // A megabyte without a newline: an error line back, then the end.
    let flood = vec![b'x'; 1 << 20];
    let reply = bad.say(&flood).await.expect("an error line, not a reset");
    assert!(
        reply.starts_with(r#"{"ok":false,"error":"line longer than 4096 bytes"#),
        "{reply}"
    );
    assert_eq!(bad.lines.next_line().await.unwrap(), None, "then closed");
    // Bytes that are not UTF-8 are an error for that line only.
    let reply = good.say(&[0xff, 0xfe]).await.unwrap();
    assert!(reply.contains("not UTF-8"), "{reply}");
    // The other client, and a new one, are still served.
    assert_eq!(
        good.say(br#"{"cmd":"remove_cartridge"}"#).await.unwrap(),
        r#"{"ok":true}"#
    );
    let mut late = Client::connect(addr).await;
    assert_eq!(
        late.say(br#"{"cmd":"set_force","newtons":0}"#)
            .await
            .unwrap(),
        r#"{"ok":true}"#
    );
    // A line of exactly the limit is read (and refused as JSON, not length).
    let long = vec![b' '; env::MAX_LINE - 2];
    let mut exact = b"{}".to_vec();
    exact.extend(&long);
    let reply = late.say(&exact).await.unwrap();
    assert!(
        reply.starts_with(r#"{"ok":false"#) && !reply.contains("longer"),
        "{reply}"
    );
    let mut got = Vec::new();
    while let Ok(cmd) = rx.try_recv() {
        got.push(cmd);
    }
    assert_eq!(got.len(), 3, "{got:?}");
}
