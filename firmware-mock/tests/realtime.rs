//! The timing rules of `PROTOCOL.md` §8.5 in real time, over a real
//! pseudo-terminal opened with tokio-serial: the mock runs on the wall clock
//! for a few seconds, as `penlab mock` does, and every interval is checked
//! against the spec's own limits and tolerance, where the spec measures it:
//!
//! - strike batches (R-RUN-1) at the pen, by the time the mock wrote each
//!   one (its transcript), against 100 ms; and at the host, by arrival,
//!   against 100 ms plus the host-side link allowance of R-HOST-2;
//! - telemetry (R-RUN-4) by the pen's clock, `time_us`: every interval
//!   within ± max(20 %, 10 ms) of the period, every mean of 20 within ±5 %.
//!
//! The mock schedules by absolute deadlines with margin (batches every
//! 80 ms against the 100 ms limit), so scheduler noise on a loaded machine
//! stays inside these limits. `.config/nextest.toml` runs this test alone.

mod common;

use std::time::Duration;

use common::*;
use penlab_firmware_mock::runner::Mock;
use penlab_firmware_mock::transcript::{Dir, Transcript};
use penlab_firmware_mock::transport::Pty;
use penlab_protocol::codec::Decoder;
use penlab_protocol::message::{Message, MessageType};
use penlab_protocol::timing::{
    HOST_LINK_ALLOWANCE, STRIKE_BATCH_MAX_INTERVAL, TELEMETRY_MEAN_TOLERANCE_PCT,
    TELEMETRY_MEAN_WINDOW, telemetry_interval_tolerance,
};
use tokio::time::Instant;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `(p50, p100)` of `values`, for the log.
fn spread(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() - 1])
}

/// When (mock uptime, ms) the pen wrote each frame that `pick` picks.
fn written(transcript: &Transcript, pick: impl Fn(&Message) -> bool) -> Vec<f64> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    for chunk in transcript.chunks.iter().filter(|c| c.dir == Dir::PenToHost) {
        decoder.feed(&chunk.bytes, |r| {
            if r.is_ok_and(|p| pick(&p.message)) {
                out.push(chunk.t_us as f64 / 1e3);
            }
        });
    }
    out
}

/// A recording mock on a pseudo-terminal for `seconds` of a run; checks
/// and prints every interval.
async fn check_profile(name: &str, seconds: u64) {
    use tokio_serial::SerialPortBuilderExt;
    let pty = Pty::open(None).unwrap();
    let path = pty.path().to_str().unwrap().to_owned();
    let mut cfg = config(name);
    cfg.record = true;
    let mut mock = Mock::new(cfg);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut pty = pty;
        tokio::select! {
            _ = mock.run(&mut pty.master) => {}
            _ = stopped => {}
        }
        mock
    });
    let port = tokio_serial::new(&path, 115_200)
        .open_native_async()
        .unwrap();
    let mut host = Host::new(port);
    let (_, caps, _) = host.hello().await;
    let period = Duration::from_millis(u64::from(caps.telemetry_period_ms));
    let seq = host.send(Message::Start).await;
    let (_, ack) = host.answer_to(seq).await;
    let got = host.run_for(Duration::from_secs(seconds)).await;
    stop.send(()).unwrap();
    let mock = task.await.unwrap();
    let transcript = mock.transcript().unwrap();

    // Strike batches at the pen: the first within 100 ms of the Ack of
    // Start, then at most 100 ms apart (R-RUN-1).
    let start = MessageType::Start.code();
    let start_at = written(
        transcript,
        |m| matches!(m, Message::Ack(a) if a.command == start),
    )[0];
    let mut at_pen = vec![start_at];
    at_pen.extend(written(transcript, |m| {
        matches!(m, Message::StrikeBatch(_))
    }));
    let pen_gaps: Vec<f64> = at_pen.windows(2).map(|w| w[1] - w[0]).collect();
    let (p50, p100) = spread(&pen_gaps);
    println!(
        "{name}: {} batches; interval at the pen p50 {p50:.1} ms, p100 {p100:.1} ms",
        pen_gaps.len()
    );
    assert!(pen_gaps.len() as u64 >= seconds * 1_000 / 100, "{name}");
    assert!(
        p100 <= ms(STRIKE_BATCH_MAX_INTERVAL),
        "{name}: the pen wrote a strike batch {p100:.1} ms after the previous one"
    );
    // The same at the host, by arrival, with the link allowance (R-HOST-2).
    let mut arrivals = vec![ack.at];
    arrivals.extend(
        got.iter()
            .filter(|r| matches!(r.packet.message, Message::StrikeBatch(_)))
            .map(|r| r.at),
    );
    let host_gaps: Vec<f64> = arrivals.windows(2).map(|w| ms(w[1] - w[0])).collect();
    let (p50, p100) = spread(&host_gaps);
    println!("{name}: interval at the host p50 {p50:.1} ms, p100 {p100:.1} ms");
    assert!(
        p100 <= ms(STRIKE_BATCH_MAX_INTERVAL + HOST_LINK_ALLOWANCE),
        "{name}: a strike batch arrived {p100:.1} ms after the previous one"
    );

    // Telemetry by the pen's clock (R-RUN-4).
    let telemetry: Vec<(Instant, u32)> = got
        .iter()
        .filter_map(|r| match &r.packet.message {
            Message::Telemetry(t) => Some((r.at, t.time_us)),
            _ => None,
        })
        .collect();
    let first = telemetry[0].0 - ack.at;
    assert!(
        first <= period + HOST_LINK_ALLOWANCE,
        "{name}: first telemetry {first:?} after Start"
    );
    let gaps: Vec<f64> = telemetry
        .windows(2)
        .map(|w| f64::from(w[1].1.wrapping_sub(w[0].1)) / 1e3)
        .collect();
    let period_ms = ms(period);
    let tolerance = ms(telemetry_interval_tolerance(period));
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let (p50, p100) = spread(&gaps);
    let low = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{name}: {} telemetry intervals by time_us: mean {mean:.2} ms, min {low:.1}, p50 {p50:.1}, p100 {p100:.1} (period {period_ms} ms)",
        gaps.len()
    );
    assert!(gaps.len() as u64 >= seconds * 1_000 / u64::from(caps.telemetry_period_ms) - 2);
    for (i, gap) in gaps.iter().enumerate() {
        assert!(
            (gap - period_ms).abs() <= tolerance,
            "{name}: telemetry interval {i} was {gap:.1} ms (period {period_ms} ± {tolerance} ms)"
        );
    }
    let mean_tolerance = period_ms * f64::from(TELEMETRY_MEAN_TOLERANCE_PCT) / 100.0;
    for window in gaps.windows(TELEMETRY_MEAN_WINDOW) {
        let m = window.iter().sum::<f64>() / window.len() as f64;
        assert!(
            (m - period_ms).abs() <= mean_tolerance,
            "{name}: mean of 20 telemetry intervals {m:.2} ms (period {period_ms} ± {mean_tolerance} ms)"
        );
    }
    assert!(
        (mean - period_ms).abs() <= mean_tolerance,
        "{name}: mean {mean}"
    );
    // By arrival, for the record: what a host without `time_us` sees.
    let arrival_gaps: Vec<f64> = telemetry.windows(2).map(|w| ms(w[1].0 - w[0].0)).collect();
    let (p50, p100) = spread(&arrival_gaps);
    println!("{name}: telemetry by arrival p50 {p50:.1} ms, p100 {p100:.1} ms");
}

#[tokio::test]
async fn strike_batches_and_telemetry_keep_their_schedule_in_real_time() {
    // 50 ms telemetry on one, 100 ms on the other; four seconds each.
    check_profile("skinpen-like", 4).await;
    check_profile("exceed-like", 4).await;
}
