//! Step kinds: everything a scenario step can do, one type each, in one
//! table ([`KINDS`]).
//!
//! A step kind is a type that implements two traits in its own file:
//! [`StepKind`] says how it is written (its key, the other keys it takes,
//! and how a step of this kind is parsed and checked when the file loads,
//! templates filled with stand-in values) and [`Step`] says what it does
//! when the test runs. The loader finds a step's kind by its key in
//! [`KINDS`]; nothing else matches on step names.
//!
//! # Adding a step
//!
//! 1. Write `harness/src/steps/my_step.rs`: a type `MyStep` with
//!    `impl StepKind for MyStep` (`KEY`, `OPTIONS`, `parse`) and
//!    `impl Step for MyStep` (`run`, returning `Box::pin(async move { … })`;
//!    `needs_env` if it needs the mock's environment channel).
//! 2. Declare `mod my_step;` below and add `register::<my_step::MyStep>()`
//!    to [`KINDS`].
//! 3. Document it in `harness/README.md` ("Scenario files") and, when it is
//!    tied to the spec, add it to a suite in `harness/conformance/`.
//!
//! Errors in `parse` come from [`ParseCtx::error`] (the step's
//! `file:line:column`, its line and a caret); in `run`, from [`StepError`]
//! (the runner puts the step's location before the message). The runner
//! catches a panic in a step and still stops the motor.

mod await_msg;
mod context;
mod env;
mod fault;
mod measure;
mod refute;
mod reply;
mod resend_last;
mod send;
mod send_frame;
mod timing;
mod wait;

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use penlab_diagnostics::SourceError;

pub use context::{StepError, TestCtx, describe_message};
pub use fault::FaultInjection;
pub use measure::Quantity;
pub use reply::{ExpectReply, late};

use crate::scenario::{Sweep, Vars};

/// What [`Step::run`] returns: a boxed future, so that steps can be held
/// as trait objects.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StepError>> + Send + 'a>>;

/// A checked step, ready to run.
pub trait Step: fmt::Debug + Send + Sync {
    /// Whether the step needs the mock's environment channel (on a real
    /// pen its test is skipped with the reason).
    fn needs_env(&self) -> bool {
        false
    }

    /// Runs the step: `Box::pin(async move { … })`.
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a>;
}

/// How a kind of step is written in a scenario file.
pub trait StepKind: Step + Sized + 'static {
    /// The key that names the kind: `{ send = … }`.
    const KEY: &'static str;
    /// The other keys a step of this kind may have.
    const OPTIONS: &'static [&'static str] = &[];

    /// Reads and checks a step (its table holds [`StepKind::KEY`] and only
    /// keys from [`StepKind::OPTIONS`]).
    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError>;
}

/// A kind in the table: its keys and its parser.
pub struct Registration {
    /// [`StepKind::KEY`].
    pub key: &'static str,
    /// [`StepKind::OPTIONS`].
    pub options: &'static [&'static str],
    parse: ParseFn,
}

/// A kind's parser, its step boxed.
type ParseFn = fn(&toml::Table, &ParseCtx<'_>) -> Result<Box<dyn Step>, SourceError>;

/// The entry of `K` in a table of kinds.
pub const fn register<K: StepKind>() -> Registration {
    Registration {
        key: K::KEY,
        options: K::OPTIONS,
        parse: parse_boxed::<K>,
    }
}

fn parse_boxed<K: StepKind>(
    table: &toml::Table,
    cx: &ParseCtx<'_>,
) -> Result<Box<dyn Step>, SourceError> {
    Ok(Box::new(K::parse(table, cx)?))
}

/// Every step kind a scenario file may use, in the order error messages
/// list them.
pub static KINDS: &[Registration] = &[
    register::<send::Send>(),
    register::<send_frame::SendFrame>(),
    register::<resend_last::ResendLast>(),
    register::<await_msg::Await>(),
    register::<refute::Refute>(),
    register::<wait::WaitMs>(),
    register::<wait::SilentMs>(),
    register::<env::Env>(),
    register::<measure::Measure>(),
];

/// Kinds only for the tests of the runner itself (see [`FaultInjection`]).
static TEST_ONLY: &[Registration] = &[register::<fault::PanicInStep>()];

/// The step kinds a loader accepts: [`KINDS`], and with fault injection on
/// the test-only ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepSet {
    fault_injection: Option<FaultInjection>,
}

impl StepSet {
    /// The kinds of [`KINDS`].
    pub fn standard() -> Self {
        StepSet::default()
    }

    /// [`KINDS`] and, when `fault_injection` is on, the test-only kinds.
    pub fn with_fault_injection(fault_injection: Option<FaultInjection>) -> Self {
        StepSet { fault_injection }
    }

    fn kinds(&self) -> impl Iterator<Item = &'static Registration> {
        let test_only: &'static [Registration] = match self.fault_injection {
            Some(FaultInjection::PanicInStep) => TEST_ONLY,
            None => &[],
        };
        KINDS.iter().chain(test_only)
    }

    /// Finds a step's kind by its key and parses it.
    pub(crate) fn parse(
        &self,
        table: &toml::Table,
        cx: &ParseCtx<'_>,
    ) -> Result<(&'static str, Box<dyn Step>), SourceError> {
        let found: Vec<&Registration> =
            self.kinds().filter(|k| table.contains_key(k.key)).collect();
        let kind = match found[..] {
            [one] => one,
            [] => {
                // Test-only kinds stay unnamed.
                let keys: Vec<&str> = KINDS.iter().map(|k| k.key).collect();
                return Err(cx.error(format!("a step needs one of {}", keys.join(", "))));
            }
            _ => {
                let keys: Vec<&str> = found.iter().map(|k| k.key).collect();
                return Err(cx.error(format!(
                    "a step does one thing; this one has {}",
                    keys.join(" and ")
                )));
            }
        };
        if let Some(extra) = table
            .keys()
            .find(|k| *k != kind.key && !kind.options.contains(&k.as_str()))
        {
            let mut takes = vec![kind.key];
            takes.extend(kind.options);
            return Err(cx.error(format!(
                "unknown key `{extra}` in a `{}` step; it takes {}",
                kind.key,
                takes.join(", ")
            )));
        }
        Ok((kind.key, (kind.parse)(table, cx)?))
    }
}

/// What a step's parser knows: where the step is, for errors, and stand-in
/// values for checking its templates.
pub struct ParseCtx<'a> {
    file: &'a Path,
    text: &'a Arc<str>,
    span: Range<usize>,
    vars: Vars,
}

impl<'a> ParseCtx<'a> {
    /// The step at bytes `span` of `text` (the contents of `file`), in a
    /// test with `sweep`.
    pub fn new(
        file: &'a Path,
        text: &'a Arc<str>,
        span: Range<usize>,
        sweep: Option<Sweep>,
    ) -> Self {
        ParseCtx {
            file,
            text,
            span,
            vars: Vars::stand_in(sweep),
        }
    }

    /// A mistake in this step: `file:line:column: message`, the step's
    /// line and a caret.
    pub fn error(&self, message: impl Into<String>) -> SourceError {
        SourceError::new(self.file, self.text.clone(), self.span.clone(), message)
    }

    /// A mistake at the first `word` inside this step (a key), or at the
    /// step when it is not found there.
    pub fn error_at(&self, word: &str, message: impl Into<String>) -> SourceError {
        let step = &self.text[self.span.clone()];
        let at = step
            .match_indices(word)
            .find(|(i, _)| {
                // A whole key, not part of a longer name.
                let before = step[..*i].chars().next_back();
                let after = step[i + word.len()..].chars().next();
                let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !part(before) && !part(after)
            })
            .map(|(i, _)| i);
        match at {
            Some(i) => {
                let start = self.span.start + i;
                SourceError::new(
                    self.file,
                    self.text.clone(),
                    start..start + word.len(),
                    message,
                )
            }
            None => self.error(message),
        }
    }

    /// `value` with its templates filled with stand-ins: an unknown name is
    /// a mistake.
    pub fn fill(&self, value: &toml::Value) -> Result<toml::Value, SourceError> {
        self.vars.fill(value).map_err(|m| self.error(m))
    }

    /// `value` with stand-ins, read as a `T`; a mistake is reported as
    /// ``"`what`: …"``.
    pub fn fill_as<T: serde::de::DeserializeOwned>(
        &self,
        value: &toml::Value,
        what: &str,
    ) -> Result<T, SourceError> {
        self.fill(value)?
            .try_into()
            .map_err(|e: toml::de::Error| self.error(format!("`{what}`: {}", e.message().trim())))
    }

    /// Checks that `value` (the `what` key) is a whole number of
    /// milliseconds once filled.
    pub fn check_ms(&self, value: &toml::Value, what: &str) -> Result<(), SourceError> {
        match self.fill(value)? {
            toml::Value::Integer(n) if n >= 0 => Ok(()),
            other => Err(self.error(format!(
                "`{what}` is a whole number of milliseconds, not {other}"
            ))),
        }
    }
}
