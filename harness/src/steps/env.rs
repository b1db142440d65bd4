//! `env`: act on the mock pen's environment (force, cartridges, faults)
//! through its environment channel; on a pen without one, an operator at
//! a terminal is asked to do it ([`crate::operator`]); without either, the
//! test is skipped.
//!
//! ```toml
//! { env = { cmd = "inject_fault", code = "motor_stall" } }
//! ```

use std::time::Duration;

use penlab_diagnostics::SourceError;
use penlab_host::env::EnvCommand;

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};
use crate::operator::Prompt;

/// Keeps the session alive until cancelled; what arrives is lost to the
/// `select!` that cancels it, so it only heartbeats.
async fn keep_alive(cx: &mut TestCtx) -> Result<Vec<penlab_host::session::Inbound>, StepError> {
    loop {
        let events = cx
            .session
            .idle(Duration::from_millis(50))
            .await
            .map_err(StepError::session)?;
        cx.backlog.extend(events);
    }
}

/// Sends a command on the environment channel, as JSON the mock takes.
#[derive(Debug)]
pub struct Env(toml::Value);

impl StepKind for Env {
    const KEY: &'static str = "env";

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let value = table[Self::KEY].clone();
        if !value.is_table() {
            return Err(cx.error("`env` is a table, e.g. { cmd = \"remove_cartridge\" }"));
        }
        cx.fill(&value)?;
        Ok(Env(value))
    }
}

impl Step for Env {
    fn needs_env(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let command: EnvCommand = cx.fill(&self.0)?;
            match (cx.env.as_mut(), cx.operator.clone()) {
                (Some(env), _) => {
                    env.send(command.clone())
                        .await
                        .map_err(|e| StepError::Error(e.to_string()))?;
                    cx.log.push(format!("environment: {command:?}"));
                }
                (None, Some(operator)) => {
                    let prompt = Prompt::for_command(&command);
                    // Heartbeats go on while the operator works: the
                    // session must outlive the prompt.
                    let asked = operator.ask(&prompt);
                    let events = tokio::select! {
                        done = asked => {
                            done.map_err(StepError::Error)?;
                            Vec::new()
                        }
                        never = keep_alive(cx) => never?,
                    };
                    cx.backlog.extend(events);
                    cx.log.push(format!("operator: {} (done)", prompt.text));
                }
                (None, None) => {
                    return Err(StepError::Error(
                        "no environment channel and no operator".into(),
                    ));
                }
            }
            // Let the mock act on it before the next step.
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        })
    }
}
