//! The study on the pen: the handshake, then every grid point in turn
//! (set depth and rate, let the needle settle, gather the strokes), run
//! as the body of a [`crate::runner`] motor guard so that however it ends
//! the motor is stopped.

use std::sync::Mutex;
use std::time::Duration;

use penlab_host::limits::PenLimits;
use penlab_host::session::{Reply, SessionError};
use penlab_protocol::message::{Message, NackReason, Packet, SetDepth, SetRate};
use tokio::time::Instant;

use super::grid::{self, SetPoint};
use super::stats::{PointResult, Stroke, StudyLimits};
use crate::report::DeviceInfo;
use crate::steps::{Step, StepError, StepFuture, TestCtx};

/// How long a pen that answers `busy` (its drive still moving) is asked
/// again before the point is given up.
const BUSY_PATIENCE: Duration = Duration::from_secs(3);

/// What the study asks for.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    /// Depths to study, µm (every declared setting when `None`).
    pub depths: Option<Vec<u16>>,
    /// Rates to study, Hz (three across the declared range when `None`).
    pub rates_hz: Option<Vec<f64>>,
    /// Strokes to gather at each point.
    pub strokes: usize,
    /// Time after setting a point before its strokes count.
    pub settle: Duration,
    /// The limits every point is held to.
    pub limits: StudyLimits,
}

impl Default for StudyPlan {
    fn default() -> Self {
        StudyPlan {
            depths: None,
            rates_hz: None,
            strokes: 50,
            settle: Duration::from_millis(800),
            limits: StudyLimits::default(),
        }
    }
}

impl StudyPlan {
    /// Longest gathering `strokes` at `rate_hz` may take before the point
    /// is judged on what came: three times the time they should take, and
    /// a second.
    pub fn window(&self, rate_hz: f64) -> Duration {
        Duration::from_secs_f64(3.0 * self.strokes as f64 / rate_hz.max(0.01) + 1.0)
    }
}

/// What the study found on the pen so far (kept as it goes, so that a
/// study cut short still reports the points it measured).
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub device: Option<DeviceInfo>,
    pub limits: Option<PenLimits>,
    pub points: Vec<PointResult>,
}

/// The study as a guarded body.
#[derive(Debug)]
pub(crate) struct Study<'p> {
    pub plan: &'p StudyPlan,
    pub found: Mutex<Found>,
}

impl Study<'_> {
    fn keep(&self, f: impl FnOnce(&mut Found)) {
        if let Ok(mut found) = self.found.lock() {
            f(&mut found);
        }
    }
}

impl Step for Study<'_> {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let h = cx.session.open().await.map_err(|e| match e {
                SessionError::Disconnected | SessionError::Io(_) | SessionError::Stalled { .. } => {
                    StepError::Error(format!("handshake: {e}"))
                }
                other => StepError::Fail(other.to_string()),
            })?;
            let device = crate::runner::device_info(&h.identity);
            let limits = h.limits.clone();
            cx.log.push(format!(
                "handshake: {} {} s/n {}",
                device.model, device.firmware, device.serial
            ));
            self.keep(|f| {
                f.device = Some(device);
                f.limits = Some(limits.clone());
            });
            let points = grid::grid(
                &limits,
                self.plan.depths.as_deref(),
                self.plan.rates_hz.as_deref(),
            )
            .map_err(StepError::Error)?;
            let mut started = false;
            for set in points {
                set_point(cx, set).await?;
                if !started {
                    expect_ack(cx, Message::Start).await?;
                    started = true;
                }
                cx.session
                    .idle(self.plan.settle)
                    .await
                    .map_err(StepError::session)?;
                let strokes =
                    gather(cx, self.plan.strokes, self.plan.window(set.rate_hz())).await?;
                let result = PointResult::judge(set, &strokes, &self.plan.limits);
                cx.log.push(format!(
                    "{} µm at {} Hz: {} strokes, {}",
                    set.depth_um,
                    set.rate_hz(),
                    result.strokes,
                    result.verdict
                ));
                self.keep(|f| f.points.push(result));
            }
            Ok(())
        })
    }
}

/// Sets depth and rate, asking again while the pen says `busy`.
async fn set_point(cx: &mut TestCtx, set: SetPoint) -> Result<(), StepError> {
    for message in [
        Message::SetDepth(SetDepth {
            depth_um: set.depth_um,
        }),
        Message::SetRate(SetRate {
            rate_chz: set.rate_chz,
        }),
    ] {
        let asked = Instant::now();
        loop {
            match command(cx, message.clone()).await? {
                Reply::Ack { .. } => break,
                Reply::Nack {
                    reason: NackReason::Busy,
                    ..
                } if asked.elapsed() < BUSY_PATIENCE => {
                    cx.session
                        .idle(Duration::from_millis(50))
                        .await
                        .map_err(StepError::session)?;
                }
                Reply::Nack { reason, .. } => {
                    return Err(StepError::Fail(format!(
                        "the pen refused {} ({reason:?})",
                        crate::steps::describe_message(&message)
                    )));
                }
            }
        }
    }
    Ok(())
}

async fn command(cx: &mut TestCtx, message: Message) -> Result<Reply, StepError> {
    let reply = cx
        .session
        .command(message)
        .await
        .map_err(StepError::session)?;
    cx.last_reply = Some(reply);
    Ok(reply)
}

async fn expect_ack(cx: &mut TestCtx, message: Message) -> Result<(), StepError> {
    match command(cx, message.clone()).await? {
        Reply::Ack { .. } => Ok(()),
        Reply::Nack { reason, .. } => Err(StepError::Fail(format!(
            "the pen refused {} ({reason:?})",
            crate::steps::describe_message(&message)
        ))),
    }
}

/// The next `count` strokes the pen reports, or as many as come within
/// `window`. The first batch is dropped: it may hold strokes struck while
/// the needle was still settling.
async fn gather(
    cx: &mut TestCtx,
    count: usize,
    window: Duration,
) -> Result<Vec<Stroke>, StepError> {
    let deadline = Instant::now() + window;
    let mut strokes = Vec::with_capacity(count);
    let mut first = true;
    while strokes.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(event) = cx.session.recv(left).await.map_err(StepError::session)? else {
            break;
        };
        if let Ok(Packet {
            message: Message::StrikeBatch(b),
            ..
        }) = &event.result
        {
            if std::mem::take(&mut first) {
                continue;
            }
            strokes.extend(b.strikes.iter().map(|s| Stroke {
                time_us: b.time_us.wrapping_add(u32::from(s.offset_10us) * 10),
                depth_um: s.depth_um,
            }));
        }
    }
    strokes.truncate(count);
    Ok(strokes)
}
