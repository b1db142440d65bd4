//! Test-only faults in the runner itself, for the tests that prove a run
//! still stops the motor when a step panics.
//!
//! The `test_only_panic` step kind exists only when the process was started
//! with `PENLAB_FAULT_INJECTION=panic-in-step` (read once, at startup, by
//! [`FaultInjection::from_env`]) and a scenario file names it; otherwise
//! the loader does not know the key and no panic path can be reached. It is
//! not documented for users and never listed in error messages.
//!
//! ```toml
//! { test_only_panic = "mid-test" }
//! ```

use penlab_diagnostics::SourceError;

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

/// The environment variable that turns fault injection on.
pub const FAULT_INJECTION_VAR: &str = "PENLAB_FAULT_INJECTION";

/// A fault the runner may be told to inject into itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultInjection {
    /// `panic-in-step`: the `test_only_panic` step kind panics when it runs.
    PanicInStep,
}

impl FaultInjection {
    /// What [`FAULT_INJECTION_VAR`] asks for: `None` when it is unset or
    /// empty; an error for a value it does not know, so that a typo cannot
    /// pass for a run without faults.
    pub fn from_env() -> Result<Option<Self>, String> {
        match std::env::var(FAULT_INJECTION_VAR) {
            Err(_) => Ok(None),
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) if v == "panic-in-step" => Ok(Some(FaultInjection::PanicInStep)),
            Ok(v) => Err(format!(
                "{FAULT_INJECTION_VAR}={v:?}: unknown fault (test builds know panic-in-step)"
            )),
        }
    }
}

/// Panics with its text when it runs.
#[derive(Debug)]
pub struct PanicInStep(String);

impl StepKind for PanicInStep {
    const KEY: &'static str = "test_only_panic";

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        match &table[Self::KEY] {
            toml::Value::String(s) => Ok(PanicInStep(s.clone())),
            _ => Err(cx.error("`test_only_panic` is a string")),
        }
    }
}

impl Step for PanicInStep {
    fn run<'a>(&'a self, _cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move { injected_panic(&self.0) })
    }
}

fn injected_panic(text: &str) -> Result<(), StepError> {
    panic!("injected fault: {text}")
}
