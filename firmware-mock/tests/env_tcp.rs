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
