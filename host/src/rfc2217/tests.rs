//! The client against scripted access servers, byte for byte: one replays
//! what ser2net 4.3 sent in a recorded session, others refuse, stall,
//! misconfigure or throttle.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

use super::comport::LineSettings;
use super::telnet::{DO, DONT, IAC, SB, SE, WILL};
use super::*;

/// What ser2net 4.3.11 sends as a `telnet(rfc2217)` connection opens:
/// WILL SGA, DO SGA, WILL ECHO, DONT ECHO, DO BINARY, WILL BINARY,
/// DO COM-PORT-OPTION.
const SER2NET_GREETING: &[u8] = &[
    0xff, 0xfb, 0x03, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x01, 0xff, 0xfe, 0x01, 0xff, 0xfd, 0x00, 0xff,
    0xfb, 0x00, 0xff, 0xfd, 0x2c,
];

/// Its answers to 115200 8N1, no flow control (server codes 101 to 105).
const SER2NET_LINE_REPLIES: &[u8] = &[
    0xff, 0xfa, 0x2c, 0x65, 0x00, 0x01, 0xc2, 0x00, 0xff, 0xf0, 0xff, 0xfa, 0x2c, 0x66, 0x08, 0xff,
    0xf0, 0xff, 0xfa, 0x2c, 0x67, 0x01, 0xff, 0xf0, 0xff, 0xfa, 0x2c, 0x68, 0x01, 0xff, 0xf0, 0xff,
    0xfa, 0x2c, 0x69, 0x01, 0xff, 0xf0,
];

/// The client's opening: WILL BINARY, WILL SGA, WILL COM-PORT-OPTION,
/// DO BINARY, DO SGA.
const CLIENT_OFFERS: &[u8] = &[
    IAC, WILL, 0, IAC, WILL, 3, IAC, WILL, 44, IAC, DO, 0, IAC, DO, 3,
];

/// Its answer to the greeting: ECHO refused, nothing else (the rest
/// answered its own offers).
const CLIENT_REFUSES_ECHO: &[u8] = &[IAC, DONT, 1];

/// SIGNATURE (empty: asking for the far end's), SET-BAUDRATE 115200,
/// SET-DATASIZE 8, SET-PARITY NONE, SET-STOPSIZE 1, SET-CONTROL no flow
/// control.
const CLIENT_LINE: &[u8] = &[
    IAC, SB, 44, 0, IAC, SE, IAC, SB, 44, 1, 0x00, 0x01, 0xc2, 0x00, IAC, SE, IAC, SB, 44, 2, 8,
    IAC, SE, IAC, SB, 44, 3, 1, IAC, SE, IAC, SB, 44, 4, 1, IAC, SE, IAC, SB, 44, 5, 1, IAC, SE,
];

async fn expect(server: &mut DuplexStream, want: &[u8]) {
    let mut got = vec![0u8; want.len()];
    server.read_exact(&mut got).await.expect("the client wrote");
    assert_eq!(got, want, "the client sent {got:02x?}");
}

/// Plays ser2net's side of the negotiation; `pen` goes out first, as a pen
/// that talks before the host is ready.
async fn ser2net(server: &mut DuplexStream, pen: &[u8]) {
    let mut greeting = SER2NET_GREETING.to_vec();
    greeting.extend_from_slice(pen);
    server.write_all(&greeting).await.unwrap();
    expect(server, CLIENT_OFFERS).await;
    expect(server, CLIENT_REFUSES_ECHO).await;
    expect(server, CLIENT_LINE).await;
    // A modem state notice and its signature, as ser2net sends them, then
    // the answers.
    server
        .write_all(&[IAC, SB, 44, 107, 0x00, IAC, SE])
        .await
        .unwrap();
    server
        .write_all(b"\xff\xfa\x2c\x64ser2net\xff\xf0")
        .await
        .unwrap();
    server.write_all(SER2NET_LINE_REPLIES).await.unwrap();
}

fn line() -> LineSettings {
    LineSettings::eight_n_one(115_200)
}

#[tokio::test]
async fn negotiates_as_a_recorded_ser2net_session_did_and_carries_every_byte() {
    let (client, mut server) = duplex(4096);
    // The pen's bytes include 0xFF, doubled on the wire.
    let far = tokio::spawn(async move {
        ser2net(&mut server, &[0x01, IAC, IAC, 0x00]).await;
        server.write_all(&[IAC, IAC, 0x7f, 0x00]).await.unwrap();
        expect(&mut server, &[0x02, IAC, IAC, 0x00, IAC, IAC, IAC, IAC]).await;
        server
    });
    let mut stream = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .expect("negotiated");
    assert_eq!(stream.far_end().baud, Some(115_200));
    assert_eq!(stream.far_end().modem_state, Some(0));
    assert_eq!(stream.far_end().signature.as_deref(), Some("ser2net"));
    let mut got = [0u8; 6];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(
        got,
        [0x01, 0xff, 0x00, 0xff, 0x7f, 0x00],
        "kept from before"
    );
    stream
        .write_all(&[0x02, 0xff, 0x00, 0xff, 0xff])
        .await
        .unwrap();
    stream.flush().await.unwrap();
    far.await.unwrap();
}

#[tokio::test]
async fn the_far_ends_signature_request_is_answered_while_reading() {
    let (client, mut server) = duplex(4096);
    let far = tokio::spawn(async move {
        ser2net(&mut server, &[]).await;
        server
            .write_all(&[IAC, SB, 44, 100, IAC, SE])
            .await
            .unwrap();
        let mut want = vec![IAC, SB, 44, 0];
        want.extend_from_slice(SIGNATURE.as_bytes());
        want.extend_from_slice(&[IAC, SE]);
        expect(&mut server, &want).await;
        server.write_all(b"ok").await.unwrap();
        server
    });
    let mut stream = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .unwrap();
    let mut got = [0u8; 2];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"ok");
    far.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_raw_port_that_never_answers_is_named() {
    let (client, mut server) = duplex(4096);
    // A raw port hands our offers to the pen, which says nothing.
    let far = tokio::spawn(async move {
        expect(&mut server, CLIENT_OFFERS).await;
        server
    });
    let err = Rfc2217Stream::negotiate(client, line(), Duration::from_secs(5))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("did not answer COM-PORT-OPTION within 5s") && err.contains("socket://"),
        "{err}"
    );
    drop(far.await.unwrap());
}

#[tokio::test]
async fn a_refusal_of_com_port_option_is_an_error() {
    let (client, mut server) = duplex(4096);
    let far = tokio::spawn(async move {
        expect(&mut server, CLIENT_OFFERS).await;
        server.write_all(&[IAC, DONT, 44]).await.unwrap();
        server
    });
    let err = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused COM-PORT-OPTION"), "{err}");
    drop(far.await.unwrap());
}

#[tokio::test]
async fn a_line_set_otherwise_is_an_error() {
    let (client, mut server) = duplex(4096);
    let far = tokio::spawn(async move {
        server.write_all(&[IAC, DO, 44]).await.unwrap();
        expect(&mut server, CLIENT_OFFERS).await;
        expect(&mut server, CLIENT_LINE).await;
        let mut replies = SER2NET_LINE_REPLIES.to_vec();
        // 9600 in place of 115200.
        replies[4..8].copy_from_slice(&9_600u32.to_be_bytes());
        server.write_all(&replies).await.unwrap();
        server
    });
    let err = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the far end set baud 9600 (asked 115200)"),
        "{err}"
    );
    drop(far.await.unwrap());
}

#[tokio::test]
async fn a_far_end_that_hangs_up_mid_negotiation_is_an_error() {
    let (client, mut server) = duplex(4096);
    let far = tokio::spawn(async move {
        expect(&mut server, CLIENT_OFFERS).await;
    });
    let err = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    far.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn flow_control_suspend_holds_writes_until_resume() {
    let (client, mut server) = duplex(4096);
    let (resumed_tx, resumed_rx) = tokio::sync::oneshot::channel::<()>();
    let far = tokio::spawn(async move {
        ser2net(&mut server, &[]).await;
        server
            .write_all(&[IAC, SB, 44, 108, IAC, SE])
            .await
            .unwrap();
        // Nothing may come while suspended.
        let mut byte = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(500), server.read(&mut byte)).await;
        assert!(early.is_err(), "a byte came while suspended: {early:?}");
        server
            .write_all(&[IAC, SB, 44, 109, IAC, SE])
            .await
            .unwrap();
        resumed_tx.send(()).unwrap();
        expect(&mut server, b"go").await;
    });
    let mut stream = Rfc2217Stream::negotiate(client, line(), NEGOTIATION_TIMEOUT)
        .await
        .unwrap();
    // Let the suspend arrive before writing.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut none = [0u8; 1];
    let _ = tokio::time::timeout(Duration::from_millis(10), stream.read(&mut none)).await;
    assert!(stream.suspended, "the suspend was taken in");
    stream.write_all(b"go").await.unwrap();
    stream.flush().await.unwrap();
    resumed_rx.await.expect("written only after the resume");
    far.await.unwrap();
}
