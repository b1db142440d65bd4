//! What a step works with: the test's session and what the test has
//! gathered so far ([`TestCtx`]), and how a step says it did not pass
//! ([`StepError`]).

use std::collections::VecDeque;
use std::time::Duration;

use penlab_host::env::EnvLink;
use penlab_host::session::{Inbound, Reply, Session, SessionError};
use penlab_host::transport::Link;
use penlab_protocol::message::Message;

use crate::measure::Measurement;
use crate::operator::Operator;
use crate::scenario::Vars;
use crate::transcript::Transcript;
use std::sync::Arc;

/// What a running test keeps, for its steps.
pub struct TestCtx {
    /// The session with the pen.
    pub session: Session<Box<dyn Link>>,
    /// The pen's environment channel, for a pen that has one.
    pub env: Option<EnvLink>,
    /// The values `${…}` templates are filled from.
    pub vars: Vars,
    /// What the test did and saw, one line each, for reports.
    pub log: Vec<String>,
    /// Measurements taken so far.
    pub measurements: Vec<Measurement>,
    /// The answer to the last command sent.
    pub last_reply: Option<Reply>,
    /// What arrived during waits, for a later `await` to find.
    pub backlog: VecDeque<Inbound>,
    /// Every byte of the test both ways, when the runner keeps one.
    pub transcript: Option<Transcript>,
    /// When the pen last acknowledged a set point (or a `Hello`), for the
    /// `busy` limit (R-BUSY-2).
    pub last_set_point: Option<tokio::time::Instant>,
    /// Someone at the bench for what the environment channel does on the
    /// mock, when the pen has none.
    pub operator: Option<Arc<dyn Operator>>,
}

impl TestCtx {
    /// A context for a test on `session`.
    pub fn new(session: Session<Box<dyn Link>>, env: Option<EnvLink>, vars: Vars) -> Self {
        TestCtx {
            session,
            env,
            vars,
            log: Vec::new(),
            measurements: Vec::new(),
            last_reply: None,
            backlog: VecDeque::new(),
            transcript: None,
            last_set_point: None,
            operator: None,
        }
    }

    /// A templated number of milliseconds, filled in.
    pub fn ms(&self, value: &toml::Value) -> Result<Duration, StepError> {
        match self.vars.fill(value) {
            Ok(toml::Value::Integer(n)) if n >= 0 => Ok(Duration::from_millis(n as u64)),
            Ok(other) => Err(StepError::Error(format!(
                "{other} is not a number of milliseconds"
            ))),
            Err(e) => Err(StepError::Error(e)),
        }
    }

    /// A templated number (integer or float), filled in.
    pub fn number(&self, value: Option<&toml::Value>) -> Result<f64, StepError> {
        match value.map(|v| self.vars.fill(v)) {
            Some(Ok(toml::Value::Integer(n))) => Ok(n as f64),
            Some(Ok(toml::Value::Float(x))) => Ok(x),
            _ => Err(StepError::Error("needs a number".into())),
        }
    }

    /// A templated value, filled in and read as a `T`.
    pub fn fill<T: serde::de::DeserializeOwned>(
        &self,
        value: &toml::Value,
    ) -> Result<T, StepError> {
        let filled = self.vars.fill(value).map_err(StepError::Error)?;
        filled
            .try_into()
            .map_err(|e: toml::de::Error| StepError::Error(e.message().trim().to_owned()))
    }
}

/// Why a step (or a test) stopped early. The message says what happened;
/// the runner puts the step's `file:line:column` before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The pen did not behave as required: the test fails.
    Fail(String),
    /// The test could not be carried out: an error, not a verdict on the pen.
    Error(String),
}

impl StepError {
    /// A session error: the pen's fault when it did not answer or got the
    /// handshake wrong, the test's otherwise.
    pub fn session(e: SessionError) -> Self {
        match e {
            SessionError::NoReply { .. } | SessionError::Handshake(_) => {
                StepError::Fail(e.to_string())
            }
            other => StepError::Error(other.to_string()),
        }
    }

    /// The same error with `place` (a step's location) before its message.
    pub fn at(self, place: &impl std::fmt::Display) -> Self {
        match self {
            StepError::Fail(m) => StepError::Fail(format!("{place}: {m}")),
            StepError::Error(m) => StepError::Error(format!("{place}: {m}")),
        }
    }
}

/// A message as PROTOCOL.md §12's JSON writes it, for logs and failures.
pub fn describe_message(m: &Message) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| m.msg_type().name().to_owned())
}
