//! `--reattach` for the pen link: the pen's line goes (its PTY closes, as a
//! USB pen resetting would) and comes back under the same name; the link
//! waits within its bound, tells the view, and goes on with a fresh
//! `Hello`. Without the bound, or past it, the link ends as before.

mod common;

use std::time::{Duration, Instant};

use common::{PtyPen, WAIT, wait_for};
use penlab_host::transport::Transport;
use penlab_live::link::{LinkCommand, LinkEvent, LinkOptions, PenLink};
use penlab_protocol::message::{DeviceState, Message};

fn link_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("pen.tty")
}

fn reattaching(path: &str, within: Duration) -> PenLink {
    let options = LinkOptions {
        reattach: Some(within),
        ..LinkOptions::default()
    };
    PenLink::start_with(Transport::serial(path.to_owned(), 115_200), options)
}

#[test]
fn a_pen_that_comes_back_gets_a_fresh_hello_and_the_session_goes_on() {
    let at = link_path("back");
    let first = PtyPen::start_at(Some(at.clone()));
    let link = reattaching(&first.path, Duration::from_secs(10));
    wait_for(&link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    });
    link.send(LinkCommand::Start).unwrap();
    wait_for(
        &link,
        WAIT,
        "Running",
        |e| matches!(e, LinkEvent::Status(s) if s.state == DeviceState::Running),
    );

    // The pen goes: its terminal closes and its link is removed.
    let _ = first.end();
    let away = wait_for(&link, WAIT, "PenAway", |e| {
        matches!(e, LinkEvent::PenAway { .. })
    });
    assert!(
        matches!(&away, LinkEvent::PenAway { within, .. } if *within == Duration::from_secs(10)),
        "{away:?}"
    );
    // Commands while it is away are refused, not queued for later.
    link.send(LinkCommand::Start).unwrap();
    wait_for(
        &link,
        WAIT,
        "Refused",
        |e| matches!(e, LinkEvent::Refused { reason, .. } if reason.contains("away")),
    );

    // Back after a while, on a new terminal under the same name.
    std::thread::sleep(Duration::from_millis(700));
    let second = PtyPen::start_at(Some(at.clone()));
    let back = wait_for(&link, WAIT, "PenBack", |e| {
        matches!(e, LinkEvent::PenBack { .. })
    });
    let LinkEvent::PenBack { waited, .. } = back else {
        unreachable!()
    };
    assert!(waited >= Duration::from_millis(600), "{waited:?}");
    let LinkEvent::Connected { status, .. } = wait_for(&link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    }) else {
        unreachable!()
    };
    assert_eq!(status.state, DeviceState::Idle, "a fresh pen");
    // The session goes on: a command is answered.
    link.send(LinkCommand::StatusRequest).unwrap();
    wait_for(&link, WAIT, "Status", |e| matches!(e, LinkEvent::Status(_)));

    let (_, frames) = second.end();
    let first_from_host = frames.0.iter().find(|(_, host, _, _)| *host);
    assert!(
        matches!(first_from_host, Some((_, _, Message::Hello(_), _))),
        "the new line starts with Hello: {first_from_host:?}"
    );
    link.shutdown();
}

#[test]
fn a_pen_that_does_not_come_back_in_time_ends_the_link() {
    let at = link_path("gone");
    let pen = PtyPen::start_at(Some(at));
    let link = reattaching(&pen.path, Duration::from_millis(800));
    wait_for(&link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    });
    let _ = pen.end();
    let gone = Instant::now();
    let ended = wait_for(&link, WAIT, "Disconnected", |e| {
        matches!(e, LinkEvent::Disconnected { .. })
    });
    let waited = gone.elapsed();
    assert!(
        matches!(&ended, LinkEvent::Disconnected { reason } if reason.contains("did not come back")),
        "{ended:?}"
    );
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_millis(2_500),
        "{waited:?}"
    );
}
