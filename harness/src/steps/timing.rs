//! The timing rules of `PROTOCOL.md` §8 as measurements: the `Telemetry`
//! period by the pen's clock (R-RUN-4), the strike-batch interval by
//! arrival (R-RUN-1) and when the watchdog fires after the host falls
//! silent (R-WD-4), optionally with noise on the line that must not feed it
//! (R-WD-2).

use std::time::Duration;

use penlab_host::session::Inbound;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::{Ack, FaultCode, Message, Packet};
use penlab_protocol::timing::{STRIKE_BATCH_MAX_INTERVAL, TELEMETRY_MEAN_WINDOW};
use serde::Deserialize;

use super::{StepError, TestCtx};
use crate::transcript::{FrameBody, frames};

/// What the host sends while it waits for the watchdog: frames that must
/// not feed it (R-WD-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noise {
    /// Nothing at all.
    #[default]
    None,
    /// Every 100 ms, a frame whose CRC is wrong.
    CrcErrors,
    /// Every 100 ms, a frame with a pen-direction type code (an echo).
    PenFrames,
}

/// The pen's `time_us` unwrapped across the 2³² wrap (R-HOST-7), µs.
pub(super) fn unwrap_clock(times: impl Iterator<Item = u32>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut last: Option<u32> = None;
    for t in times {
        let next = match (last, out.last()) {
            (Some(prev), Some(&base)) => base + u64::from(t.wrapping_sub(prev)),
            _ => u64::from(t),
        };
        out.push(next);
        last = Some(t);
    }
    out
}

/// The intervals between consecutive `Telemetry` frames, ms, by `time_us`.
pub(super) fn telemetry_intervals<'p>(packets: impl Iterator<Item = &'p Packet>) -> Vec<f64> {
    let times = unwrap_clock(packets.filter_map(|p| match &p.message {
        Message::Telemetry(t) => Some(t.time_us),
        _ => None,
    }));
    times
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1e3)
        .collect()
}

/// The value of `values` farthest from `nominal` (NaN when empty).
fn farthest(values: impl Iterator<Item = f64>, nominal: f64) -> f64 {
    values.fold(f64::NAN, |worst, v| {
        if worst.is_nan() || (v - nominal).abs() > (worst - nominal).abs() {
            v
        } else {
            worst
        }
    })
}

/// The single interval farthest from the period.
pub(super) fn worst_interval(intervals: &[f64], period_ms: f64) -> f64 {
    farthest(intervals.iter().copied(), period_ms)
}

/// The mean of 20 consecutive intervals farthest from the period (NaN
/// with fewer than 20).
pub(super) fn worst_mean(intervals: &[f64], period_ms: f64) -> f64 {
    farthest(
        intervals
            .windows(TELEMETRY_MEAN_WINDOW)
            .map(|w| w.iter().sum::<f64>() / w.len() as f64),
        period_ms,
    )
}

/// The longest time between two strike batches that arrived while strokes
/// went on (the later one's first stroke less than 100 ms after the
/// earlier one's last), ms; NaN with fewer than two batches.
pub(super) fn longest_batch_gap(events: &[Inbound]) -> f64 {
    let batches: Vec<(Duration, u64, u64)> = {
        let mut clock = Vec::new();
        let mut arrivals = Vec::new();
        for e in events {
            if let Ok(Packet {
                message: Message::StrikeBatch(b),
                ..
            }) = &e.result
                && let (Some(first), Some(last)) = (b.strikes.first(), b.strikes.last())
            {
                clock.push(b.time_us);
                arrivals.push((e.at, first.offset_10us, last.offset_10us));
            }
        }
        unwrap_clock(clock.into_iter())
            .into_iter()
            .zip(arrivals)
            .map(|(t, (at, first, last))| (at, t + u64::from(first) * 10, t + u64::from(last) * 10))
            .collect()
    };
    let steady = STRIKE_BATCH_MAX_INTERVAL.as_micros() as u64;
    batches
        .windows(2)
        .filter(|w| w[1].1.saturating_sub(w[0].2) < steady)
        .map(|w| w[1].0.saturating_sub(w[0].0).as_secs_f64() * 1e3)
        .fold(f64::NAN, f64::max)
}

/// A frame the pen must not be fed by.
fn noise_frame(noise: Noise, seq: u16) -> Option<Vec<u8>> {
    let packet = Packet {
        seq,
        // As a line echoing the pen's own answers would send back.
        message: Message::Ack(Ack {
            ack_seq: seq,
            command: 0x08,
        }),
    };
    let mut wire = [0u8; penlab_protocol::MAX_WIRE_FRAME];
    let n = encode_packet(&packet, &mut wire).ok()?;
    let mut wire = wire[..n].to_vec();
    match noise {
        Noise::None => None,
        // A pen-direction code (`Ack`, 0x80) with a sound CRC.
        Noise::PenFrames => Some(wire),
        Noise::CrcErrors => {
            // Flip a bit of the first payload byte inside the COBS block:
            // still valid COBS (no zero made), the CRC no longer matches.
            if let Some(b) = wire.get_mut(2) {
                *b = if *b == 0x01 { 0x03 } else { *b ^ 0x01 };
                if *b == 0 {
                    *b = 0x02;
                }
            }
            Some(wire)
        }
    }
}

/// Milliseconds from the last frame that fed the watchdog to the pen's
/// `Fault(watchdog_expired)`, sending nothing else meanwhile but `noise`;
/// infinite if it does not come within `window`.
pub(super) async fn watchdog_expiry(
    cx: &mut TestCtx,
    window: Duration,
    noise: Noise,
) -> Result<f64, StepError> {
    let transcript = cx
        .transcript
        .clone()
        .ok_or_else(|| StepError::Error("no transcript of the link".into()))?;
    // Both times from the transcript, the host's clock at the link.
    let fed_and_fired = || {
        let all = frames(&transcript);
        let fired = all.iter().rev().find_map(|f| match f.packet() {
            Some(Packet {
                message: Message::Fault(fault),
                ..
            }) if fault.active && fault.code == FaultCode::WatchdogExpired => Some(f.at),
            _ => None,
        })?;
        let fed = all
            .iter()
            .filter(|f| f.at <= fired)
            .rev()
            .find_map(|f| match f.body {
                FrameBody::Sound { msg_type, .. }
                    if f.dir == penlab_protocol::message::Direction::HostToPen
                        && msg_type < 0x80 =>
                {
                    Some(f.at)
                }
                _ => None,
            })?;
        Some(fired.saturating_sub(fed))
    };
    let start = tokio::time::Instant::now();
    let deadline = start + window;
    let mut next_noise = start;
    let mut seq = 0x4000u16;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(f64::INFINITY);
        }
        if noise != Noise::None && now >= next_noise {
            if let Some(bytes) = noise_frame(noise, seq) {
                cx.session
                    .send_bytes("noise", &bytes)
                    .await
                    .map_err(StepError::session)?;
            }
            seq = seq.wrapping_add(1);
            next_noise = now + Duration::from_millis(100);
        }
        // Short slices, so the wait ends soon after the watchdog fires.
        let wake = deadline.min(now + Duration::from_millis(100));
        let events = cx
            .session
            .silent(wake.saturating_duration_since(tokio::time::Instant::now()))
            .await
            .map_err(StepError::session)?;
        let expired = events.iter().any(|e| {
            matches!(
                &e.result,
                Ok(Packet { message: Message::Fault(f), .. })
                    if f.active && f.code == FaultCode::WatchdogExpired
            )
        });
        // What came with it (the Status of awaiting_hello) is for later steps.
        cx.backlog.extend(events);
        if expired {
            let took = fed_and_fired().ok_or_else(|| {
                StepError::Error("the watchdog's Fault is not in the transcript".into())
            })?;
            return Ok(took.as_secs_f64() * 1e3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_unwraps_across_its_wrap() {
        let t = unwrap_clock([u32::MAX - 10_000, u32::MAX - 5, 40_000].into_iter());
        assert_eq!(t[1] - t[0], 9_995);
        assert_eq!(t[2] - t[1], 40_006);
    }

    #[test]
    fn the_worst_mean_needs_twenty_intervals() {
        let steady = vec![50.0; 19];
        assert!(worst_mean(&steady, 50.0).is_nan());
        let mut drifting = vec![50.0; 25];
        drifting.extend([60.0; 20]);
        assert_eq!(worst_mean(&drifting, 50.0), 60.0);
        assert_eq!(worst_interval(&[49.0, 62.0, 40.5], 50.0), 62.0);
    }

    #[test]
    fn noise_frames_fail_their_checks_or_go_the_wrong_way() {
        use penlab_protocol::codec::{DecodeError, Decoder};
        let mut d = Decoder::new();
        let crc = noise_frame(Noise::CrcErrors, 7).unwrap();
        let mut input = &crc[..];
        assert!(matches!(
            d.decode_packet(&mut input),
            Some(Err(DecodeError::Frame(_)))
        ));
        let echo = noise_frame(Noise::PenFrames, 7).unwrap();
        let mut input = &echo[..];
        assert!(
            matches!(d.decode_packet(&mut input), Some(Ok(p)) if p.message.msg_type().code() >= 0x80)
        );
        assert!(noise_frame(Noise::None, 7).is_none());
    }
}
