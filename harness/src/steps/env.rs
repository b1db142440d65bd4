//! `env`: act on the mock pen's environment (force, cartridges, faults)
//! through its environment channel; tests with it are skipped on a pen
//! without one.
//!
//! ```toml
//! { env = { cmd = "inject_fault", code = "motor_stall" } }
//! ```

use std::time::Duration;

use penlab_diagnostics::SourceError;
use penlab_host::env::EnvCommand;

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

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
            let env = cx
                .env
                .as_mut()
                .ok_or_else(|| StepError::Error("no environment channel".into()))?;
            env.send(command.clone())
                .await
                .map_err(|e| StepError::Error(e.to_string()))?;
            cx.log.push(format!("environment: {command:?}"));
            // Let the mock act on it before the next step.
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        })
    }
}
