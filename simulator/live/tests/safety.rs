//! The pen link leaves a real pen safe when the view cannot: over a real
//! pseudo-terminal, a view whose main loop stops polling (a frozen window)
//! and a panic on the link's own thread both end with `Stop` acknowledged
//! in the pen's transcript while the port is still open. Each test prints
//! the time from the fault to the acknowledged `Stop` (`--no-capture`).

mod common;

use std::time::{Duration, Instant};

use common::{PtyPen, WAIT, wait_for};
use penlab_host::transport::Transport;
use penlab_live::link::{
    LinkCommand, LinkEvent, LinkFault, LinkOptions, PenLink, StopOutcome, UNPOLLED_LIMIT,
};
use penlab_protocol::message::{DeviceState, Message, MessageType};

fn start_motor(link: &PenLink) {
    wait_for(link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    });
    link.send(LinkCommand::Start).unwrap();
    wait_for(
        link,
        WAIT,
        "Running",
        |e| matches!(e, LinkEvent::Status(s) if s.state == DeviceState::Running),
    );
}

fn report(case: &str, from: &str, us: u64) {
    eprintln!(
        "[safety timing] {case}: {from} to the acknowledged Stop: {:.1} ms",
        us as f64 / 1e3
    );
}

#[test]
fn a_view_that_stops_polling_gets_the_motor_stopped_and_the_heartbeats_ended() {
    let pen = PtyPen::start();
    let link = PenLink::start(Transport::serial(pen.path.clone(), 115_200));
    start_motor(&link);

    // The main loop freezes: nothing polls the link for 2.5 s.
    while link.try_recv().is_some() {}
    let froze = Instant::now();
    std::thread::sleep(Duration::from_millis(2_500));

    // Polling again: the view learns what happened, and the pen gets a
    // fresh handshake.
    let event = wait_for(&link, WAIT, "MotorStoppedUnpolled", |e| {
        matches!(e, LinkEvent::MotorStoppedUnpolled { .. })
    });
    let LinkEvent::MotorStoppedUnpolled { unpolled, stop, at } = event else {
        unreachable!()
    };
    assert!(matches!(stop, StopOutcome::Acknowledged { .. }), "{stop:?}");
    assert!(unpolled > UNPOLLED_LIMIT, "{unpolled:?}");
    let stopped_after = at.duration_since(froze);
    assert!(
        stopped_after < UNPOLLED_LIMIT + Duration::from_millis(500),
        "the Stop came {stopped_after:?} after the last poll"
    );
    let LinkEvent::Connected { status, .. } = wait_for(&link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    }) else {
        unreachable!()
    };
    assert_ne!(status.state, DeviceState::Running);

    // The port is still open (the link lives on) when the pen's transcript
    // is read.
    let froze_t = pen.t_of(froze);
    let (mock, frames) = pen.end();
    let (stop_read, acked) = frames
        .stop_acknowledged_after(froze_t)
        .expect("a Stop acknowledged after the freeze");
    assert!(
        stop_read >= froze_t + UNPOLLED_LIMIT.as_micros() as u64 - 50_000,
        "the Stop came before the limit: {} µs after the freeze",
        stop_read - froze_t
    );
    // Silence from the Stop's answer to the new handshake: no heartbeats
    // keep the pen's watchdog fed while nobody watches.
    let hello = frames
        .first_host_after(acked, MessageType::Hello)
        .expect("a fresh Hello once the view polls again");
    assert_eq!(frames.host_sent(acked, hello), vec![], "sent while frozen");
    assert!(
        hello >= froze_t + 2_400_000,
        "the Hello came before the view polled again"
    );
    assert_ne!(mock.device().state(), DeviceState::Running);
    report(
        "frozen main loop",
        "the last poll",
        acked.saturating_sub(froze_t),
    );
    report(
        "frozen main loop",
        "the 1 s limit",
        acked.saturating_sub(froze_t + UNPOLLED_LIMIT.as_micros() as u64),
    );
    link.shutdown();
}

#[test]
fn a_panic_on_the_link_thread_still_stops_the_motor() {
    let pen = PtyPen::start();
    let options = LinkOptions {
        fault: Some(LinkFault::PanicAfterStart),
        ..LinkOptions::default()
    };
    let link = PenLink::start_with(Transport::serial(pen.path.clone(), 115_200), options);
    wait_for(&link, WAIT, "Connected", |e| {
        matches!(e, LinkEvent::Connected { .. })
    });
    link.send(LinkCommand::Start).unwrap();
    let accepted = wait_for(
        &link,
        WAIT,
        "Start accepted",
        |e| matches!(e, LinkEvent::Accepted { command, .. } if command == "Start"),
    );
    let LinkEvent::Accepted { .. } = accepted else {
        unreachable!()
    };
    // The thread panics right after that answer; the view hears why, and
    // that the motor was stopped.
    let gone = wait_for(&link, WAIT, "Disconnected", |e| {
        matches!(e, LinkEvent::Disconnected { .. })
    });
    let LinkEvent::Disconnected { reason } = gone else {
        unreachable!()
    };
    assert!(reason.contains("injected fault"), "{reason}");
    assert!(reason.contains("Stop acknowledged"), "{reason}");

    let (mock, frames) = pen.end();
    let start_seq = frames
        .0
        .iter()
        .find(|(_, host, m, _)| *host && *m == Message::Start)
        .map(|(_, _, _, seq)| *seq)
        .expect("Start on the line");
    let start = MessageType::Start.code();
    let start_acked = frames
        .0
        .iter()
        .find_map(|(t, host, m, _)| match m {
            Message::Ack(a) if !host && a.command == start && a.ack_seq == start_seq => Some(*t),
            _ => None,
        })
        .expect("Start acknowledged");
    let (_, acked) = frames
        .stop_acknowledged_after(start_acked)
        .expect("a Stop acknowledged after the panic");
    assert_ne!(mock.device().state(), DeviceState::Running);
    report("panic on the link thread", "the panic", acked - start_acked);
    // The thread is done, and says how its closing Stop went.
    std::thread::sleep(Duration::from_millis(100));
    assert!(link.is_finished());
    let closing = link.shutdown();
    assert!(
        matches!(closing, Some(StopOutcome::Acknowledged { .. })),
        "{closing:?}"
    );
}
