//! `measure`: a quantity over a window, held to a limit and recorded.
//!
//! ```toml
//! { measure = "strike_depth_um", over_ms = 1000, limit = { nominal = "${depth}", abs = 50 } }
//! { measure = "depth_settle_ms", target_um = "${depth}", within_um = 50, limit = { max = 500 } }
//! { measure = "strike_depth_um", limit = { nominal = "${depth}", abs = 50, marginal_abs = 35 } }
//! { measure = "watchdog_ms", noise = "crc_errors", over_ms = "${watchdog_ms + 500}", limit = { min = "${watchdog_ms}", max = "${watchdog_ms + 70}" } }
//! ```
//!
//! A value outside its limit fails the test; one inside the limit but
//! outside its marginal band is recorded MARGINAL and the test goes on.

use std::time::Duration;

use penlab_diagnostics::SourceError;
use penlab_host::session::Inbound;
use penlab_protocol::message::{Message, Packet};
use serde::Deserialize;

use super::timing::{
    Noise, longest_batch_gap, telemetry_intervals, unwrap_clock, watchdog_expiry, worst_interval,
    worst_mean,
};
use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};
use crate::measure::{Limit, Measurement};

/// What a measurement step measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Strokes per second from strike batches over the window, in Hz.
    StrikeRateHz,
    /// Mean measured depth of the strokes in the window, µm.
    StrikeDepthUm,
    /// Mean depth reported by `Telemetry` over the window, µm.
    TelemetryDepthUm,
    /// Time until `Telemetry` depth is within `within_um` of `target_um`, ms.
    DepthSettleMs,
    /// Latency of the last command's answer, ms.
    AckLatencyMs,
    /// The `Telemetry` interval farthest from the period over the window,
    /// by the pen's `time_us`, ms (R-RUN-4).
    TelemetryIntervalMs,
    /// The mean of 20 consecutive `Telemetry` intervals farthest from the
    /// period over the window, by `time_us`, ms (R-RUN-4).
    TelemetryMeanIntervalMs,
    /// The longest time between two strike batches while the motor struck,
    /// by arrival, ms (R-RUN-1).
    StrikeBatchIntervalMs,
    /// From the last frame that fed the watchdog to its `Fault`, with the
    /// host silent but for `noise`, ms (R-WD-4, R-WD-2).
    WatchdogMs,
}

impl Quantity {
    /// The unit the quantity is measured in.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::StrikeRateHz => "Hz",
            Quantity::StrikeDepthUm | Quantity::TelemetryDepthUm => "um",
            Quantity::DepthSettleMs
            | Quantity::AckLatencyMs
            | Quantity::TelemetryIntervalMs
            | Quantity::TelemetryMeanIntervalMs
            | Quantity::StrikeBatchIntervalMs
            | Quantity::WatchdogMs => "ms",
        }
    }

    /// Why there was no finite value, for a failure's message.
    fn when_missing(self) -> &'static str {
        match self {
            Quantity::WatchdogMs => "no Fault(watchdog_expired) came within the window",
            Quantity::TelemetryMeanIntervalMs => {
                "fewer than 21 Telemetry frames in the window: no mean of 20 intervals"
            }
            Quantity::DepthSettleMs => "the depth did not settle within the window",
            _ => "nothing to measure in the window",
        }
    }

    /// Its name in files and reports (`strike_rate_hz`).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::StrikeRateHz => "strike_rate_hz",
            Quantity::StrikeDepthUm => "strike_depth_um",
            Quantity::TelemetryDepthUm => "telemetry_depth_um",
            Quantity::DepthSettleMs => "depth_settle_ms",
            Quantity::AckLatencyMs => "ack_latency_ms",
            Quantity::TelemetryIntervalMs => "telemetry_interval_ms",
            Quantity::TelemetryMeanIntervalMs => "telemetry_mean_interval_ms",
            Quantity::StrikeBatchIntervalMs => "strike_batch_interval_ms",
            Quantity::WatchdogMs => "watchdog_ms",
        }
    }
}

/// Takes a measurement and holds it to a limit.
#[derive(Debug)]
pub struct Measure {
    quantity: Quantity,
    /// Its name in reports (defaults to the quantity's).
    name: String,
    /// Window, ms (templated).
    over_ms: toml::Value,
    /// The limit (templated).
    limit: toml::Value,
    /// For `depth_settle_ms`: the depth to settle at (templated).
    target_um: Option<toml::Value>,
    /// For `depth_settle_ms`: how close counts as settled (templated).
    within_um: Option<toml::Value>,
    /// For `watchdog_ms`: what the host sends while it waits.
    noise: Noise,
}

impl StepKind for Measure {
    const KEY: &'static str = "measure";
    const OPTIONS: &'static [&'static str] = &[
        "name",
        "over_ms",
        "limit",
        "target_um",
        "within_um",
        "noise",
    ];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let quantity: Quantity = table[Self::KEY]
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| cx.error(format!("`measure`: {}", e.message().trim())))?;
        let name = match table.get("name") {
            None => quantity.name().to_owned(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => return Err(cx.error(format!("`name` is a string, not {other}"))),
        };
        let step = Measure {
            quantity,
            name,
            over_ms: table
                .get("over_ms")
                .cloned()
                .unwrap_or(toml::Value::Integer(1_000)),
            limit: table
                .get("limit")
                .cloned()
                .ok_or_else(|| cx.error("a `measure` step needs a `limit`"))?,
            target_um: table.get("target_um").cloned(),
            within_um: table.get("within_um").cloned(),
            noise: match table.get("noise") {
                None => Noise::None,
                Some(v) if quantity == Quantity::WatchdogMs => {
                    v.clone().try_into().map_err(|e: toml::de::Error| {
                        cx.error(format!("`noise`: {}", e.message().trim()))
                    })?
                }
                Some(_) => return Err(cx.error("`noise` is only for `watchdog_ms`")),
            },
        };
        cx.check_ms(&step.over_ms, "over_ms")?;
        let limit: Limit = cx.fill_as(&step.limit, "limit")?;
        if limit == Limit::range(None, None) {
            return Err(cx.error("`limit` needs `nominal` (with `abs` or `rel`), `min` or `max`: an empty limit passes anything"));
        }
        limit
            .validate()
            .map_err(|e| cx.error(format!("`limit`: {e}")))?;
        if quantity == Quantity::DepthSettleMs
            && (step.target_um.is_none() || step.within_um.is_none())
        {
            return Err(cx.error("`depth_settle_ms` needs `target_um` and `within_um`"));
        }
        for v in [&step.target_um, &step.within_um].into_iter().flatten() {
            cx.fill(v)?;
        }
        Ok(step)
    }
}

impl Step for Measure {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let window = cx.ms(&self.over_ms)?;
            let limit: Limit = cx.fill(&self.limit)?;
            let value = self.value(cx, window).await?;
            let m = Measurement::new(self.name.clone(), value, self.quantity.unit(), limit);
            cx.log.push(m.describe());
            let passed = m.passed;
            let mut text = m.describe();
            if !value.is_finite() {
                text = format!("{text} ({})", self.quantity.when_missing());
            }
            cx.measurements.push(m);
            if passed {
                Ok(())
            } else {
                Err(StepError::Fail(text))
            }
        })
    }
}

impl Measure {
    async fn value(&self, cx: &mut TestCtx, window: Duration) -> Result<f64, StepError> {
        match self.quantity {
            Quantity::AckLatencyMs => {
                let reply = cx
                    .last_reply
                    .ok_or_else(|| StepError::Error("no command sent yet".into()))?;
                Ok(reply.latency().as_secs_f64() * 1e3)
            }
            Quantity::DepthSettleMs => {
                let target = cx.number(self.target_um.as_ref())?;
                let within = cx.number(self.within_um.as_ref())?;
                settle_time(cx, window, target, within).await
            }
            Quantity::WatchdogMs => watchdog_expiry(cx, window, self.noise).await,
            Quantity::StrikeBatchIntervalMs => {
                let events = cx.session.idle(window).await.map_err(StepError::session)?;
                Ok(longest_batch_gap(&events))
            }
            Quantity::TelemetryIntervalMs | Quantity::TelemetryMeanIntervalMs => {
                let events = cx.session.idle(window).await.map_err(StepError::session)?;
                let period = cx.vars.get("telemetry_ms").unwrap_or(f64::NAN);
                let intervals =
                    telemetry_intervals(events.iter().filter_map(|e| e.result.as_ref().ok()));
                Ok(if self.quantity == Quantity::TelemetryIntervalMs {
                    worst_interval(&intervals, period)
                } else {
                    worst_mean(&intervals, period)
                })
            }
            Quantity::StrikeRateHz | Quantity::StrikeDepthUm | Quantity::TelemetryDepthUm => {
                let events = cx.session.idle(window).await.map_err(StepError::session)?;
                let packets = events.iter().filter_map(|e| e.result.as_ref().ok());
                Ok(over_window(self.quantity, packets))
            }
        }
    }
}

/// Milliseconds until `Telemetry` reports a depth within `within` of
/// `target`; infinite if not within `window`.
async fn settle_time(
    cx: &mut TestCtx,
    window: Duration,
    target: f64,
    within: f64,
) -> Result<f64, StepError> {
    let start = tokio::time::Instant::now();
    let deadline = start + window;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match cx.session.recv(left).await.map_err(StepError::session)? {
            None => return Ok(f64::INFINITY),
            Some(Inbound {
                result:
                    Ok(Packet {
                        message: Message::Telemetry(t),
                        ..
                    }),
                ..
            }) if (f64::from(t.depth_um) - target).abs() <= within => {
                return Ok(start.elapsed().as_secs_f64() * 1e3);
            }
            Some(_) => {}
        }
    }
}

/// A quantity of the packets that arrived in a window (NaN, which no limit
/// accepts, when there is nothing to measure).
fn over_window<'p>(quantity: Quantity, packets: impl Iterator<Item = &'p Packet>) -> f64 {
    match quantity {
        Quantity::StrikeRateHz => {
            let batches: Vec<_> = packets
                .filter_map(|p| match &p.message {
                    Message::StrikeBatch(b) => Some(b),
                    _ => None,
                })
                .collect();
            // The pen's clock may wrap within the window (R-HOST-7).
            let starts = unwrap_clock(batches.iter().map(|b| b.time_us));
            let times: Vec<f64> = batches
                .iter()
                .zip(starts)
                .flat_map(|(b, start)| {
                    b.strikes
                        .iter()
                        .map(move |s| start as f64 + f64::from(s.offset_10us) * 10.0)
                })
                .collect();
            match (times.first(), times.last()) {
                (Some(first), Some(last)) if times.len() > 1 && last > first => {
                    (times.len() - 1) as f64 / ((last - first) / 1e6)
                }
                _ => f64::NAN,
            }
        }
        Quantity::StrikeDepthUm => mean(
            packets
                .filter_map(|p| match &p.message {
                    Message::StrikeBatch(b) => Some(
                        b.strikes
                            .iter()
                            .map(|s| f64::from(s.depth_um))
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten(),
        ),
        Quantity::TelemetryDepthUm => mean(packets.filter_map(|p| match &p.message {
            Message::Telemetry(t) => Some(f64::from(t.depth_um)),
            _ => None,
        })),
        _ => f64::NAN,
    }
}

/// The mean, or NaN (which no limit accepts) when there is nothing.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / f64::from(n) }
}
