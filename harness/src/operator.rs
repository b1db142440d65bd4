//! An operator at the bench, for what only hands can do on a real pen:
//! taking a cartridge off, fitting one, provoking a fault. On the mock the
//! environment channel does these; on a real pen, with a terminal, the
//! runner asks the operator, as OpenHTF stations do ("Remove the cartridge
//! now, then press Enter") and waits a bounded time for the answer. Without
//! a terminal (CI) or with `--no-prompts`, such tests are skipped as before.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use penlab_host::env::EnvCommand;
use tokio::sync::{Mutex, mpsc};

/// How long an operator has to carry out a prompt.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// What the operator is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The instruction, ending with what to press.
    pub text: String,
    /// The environment change it stands for.
    pub command: EnvCommand,
    /// How long the operator has.
    pub timeout: Duration,
}

impl Prompt {
    /// The prompt for `command`.
    pub fn for_command(command: &EnvCommand) -> Prompt {
        let name = |code: &penlab_protocol::message::FaultCode| {
            serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{code:?}"))
        };
        let what = match command {
            EnvCommand::RemoveCartridge => "Remove the cartridge now".to_owned(),
            EnvCommand::InsertCartridge { needles, .. } => {
                format!(
                    "Fit the cartridge now ({needles} needles; the same one again if it was just taken off)"
                )
            }
            EnvCommand::InjectFault { code } => {
                format!("Cause the fault {} on the pen now", name(code))
            }
            EnvCommand::ClearFault { code } => {
                format!("Remove the cause of {} now", name(code))
            }
            EnvCommand::SetBattery { pct } => format!("Bring the battery to {pct:.0} % now"),
            EnvCommand::SetForce { newtons } => {
                format!("Press the pen with {newtons:.1} N now")
            }
            EnvCommand::SetTemperature { dc } => {
                format!("Bring the motor to {:.1} °C now", f64::from(*dc) / 10.0)
            }
        };
        Prompt {
            text: format!("{what}, then press Enter"),
            command: command.clone(),
            timeout: PROMPT_TIMEOUT,
        }
    }
}

/// What [`Operator::ask`] returns.
pub type AskFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Someone (or something) that carries out prompts.
pub trait Operator: Send + Sync {
    /// Shows `prompt` and waits until it is done or its time is up
    /// (`Err` with why).
    fn ask<'a>(&'a self, prompt: &'a Prompt) -> AskFuture<'a>;
}

/// The operator at this terminal: prompts on standard error, Enter on
/// standard input.
pub struct Terminal {
    lines: Mutex<mpsc::UnboundedReceiver<String>>,
}

impl Terminal {
    /// The terminal's operator, if standard input and standard error are a
    /// terminal; `None` otherwise (CI), where prompts cannot be answered.
    pub fn attach() -> Option<Arc<dyn Operator>> {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        // A thread of its own: a read of standard input cannot be cut short,
        // so a prompt that times out leaves it waiting, not the run.
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Some(Arc::new(Terminal {
            lines: Mutex::new(rx),
        }))
    }
}

impl Operator for Terminal {
    fn ask<'a>(&'a self, prompt: &'a Prompt) -> AskFuture<'a> {
        Box::pin(async move {
            let mut lines = self.lines.lock().await;
            // Enter pressed before the question does not answer it.
            while lines.try_recv().is_ok() {}
            let mut err = std::io::stderr();
            let _ = writeln!(
                err,
                "\n>>> OPERATOR: {} ({} s)",
                prompt.text,
                prompt.timeout.as_secs()
            );
            match tokio::time::timeout(prompt.timeout, lines.recv()).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err("standard input closed".into()),
                Err(_) => Err(format!(
                    "the operator did not confirm within {} s: {}",
                    prompt.timeout.as_secs(),
                    prompt.text
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::message::FaultCode;

    #[test]
    fn prompts_say_what_to_do_and_what_to_press() {
        let p = Prompt::for_command(&EnvCommand::RemoveCartridge);
        assert_eq!(p.text, "Remove the cartridge now, then press Enter");
        let p = Prompt::for_command(&EnvCommand::InjectFault {
            code: FaultCode::MotorStall,
        });
        assert_eq!(
            p.text,
            "Cause the fault motor_stall on the pen now, then press Enter"
        );
        assert_eq!(p.timeout, PROMPT_TIMEOUT);
    }
}
