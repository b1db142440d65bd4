//! Reaching the pen: opening its transport (time-bounded) and the first
//! handshake, which tells who the pen is and its limits for every test.

use std::time::Duration;

use penlab_host::limits::PenLimits;
use penlab_host::session::{Session, SessionError};
use penlab_host::transport::Connection;
use penlab_protocol::message::Identity;

use super::interrupt::Interrupt;
use super::target::Target;
use super::teardown::{BodyEnd, MotorGuard, TeardownEnd};
use crate::report::DeviceInfo;
use crate::scenario::Vars;
use crate::steps::{Step, StepError, StepFuture, TestCtx};

/// Longest opening a pen may take (a TCP connect to a host that does not
/// answer would otherwise wait for the kernel's timeout, minutes).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the target's transport, within [`CONNECT_TIMEOUT`].
pub(crate) async fn connect(target: &Target) -> Result<Connection, SessionError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, target.transport.open()).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(SessionError::Io(std::io::Error::new(
            e.source.kind(),
            e.to_string(),
        ))),
        Err(_) => Err(SessionError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{}: not open after {CONNECT_TIMEOUT:?}", target.describe()),
        ))),
    }
}

/// What one handshake told about the pen, for every test after it.
pub(crate) struct Pen {
    pub vars: Vars,
    pub limits: PenLimits,
}

/// Who the pen is, as reports name it.
pub(crate) fn device_info(identity: &Identity) -> DeviceInfo {
    DeviceInfo {
        model: identity.model.to_string(),
        firmware: identity.firmware.to_string(),
        serial: identity.serial.to_string(),
        protocol: format!("{}.{}", identity.protocol_major, identity.protocol_minor),
    }
}

/// The probe's body: the handshake alone.
#[derive(Debug)]
struct Handshake;

impl Step for Handshake {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            cx.session.open().await.map_err(|e| match e {
                SessionError::Handshake(_)
                | SessionError::Limits(_)
                | SessionError::NoReply { .. } => StepError::Fail(e.to_string()),
                other => StepError::Error(other.to_string()),
            })?;
            Ok(())
        })
    }
}

/// Why the first handshake failed, in words, and whether the pen answered
/// wrongly (`Fail`) or not at all (`Error`).
pub(crate) type Unreachable = StepError;

/// Handshakes once to learn who the pen is and its limits; the motor is
/// stopped after it like after any test.
pub(crate) async fn probe(
    target: &Target,
    interrupt: &Interrupt,
) -> Result<(DeviceInfo, Pen), Unreachable> {
    let connection = connect(target)
        .await
        .map_err(|e| StepError::Error(e.to_string()))?;
    let session = Session::new(connection.link, super::instance::host_options());
    let ctx = TestCtx::new(session, None, Vars::default());
    let guarded = MotorGuard::new(ctx, interrupt, super::TEST_TIMEOUT)
        .run(&Handshake)
        .await;
    match guarded.body {
        BodyEnd::Finished(Ok(())) => {}
        BodyEnd::Finished(Err(e)) => return Err(e),
        BodyEnd::TimedOut(t) => return Err(StepError::Error(format!("timed out after {t:?}"))),
        BodyEnd::Panicked(m) => return Err(StepError::Error(format!("panicked: {m}"))),
        BodyEnd::Interrupted(signal) => {
            return Err(StepError::Error(format!("interrupted by {signal}")));
        }
    }
    if let TeardownEnd::Unconfirmed(u) = &guarded.teardown {
        tracing::warn!(error = %u, "the probe's Stop was not acknowledged");
    }
    let Some(h) = guarded.ctx.session.handshake() else {
        return Err(StepError::Error("no handshake".into()));
    };
    let device = device_info(&h.identity);
    let pen = Pen {
        vars: Vars::from_limits(&h.limits),
        limits: h.limits.clone(),
    };
    Ok((device, pen))
}
