//! `await`: a message of a type whose fields have given values, within a
//! time (including what arrived during earlier waits).
//!
//! ```toml
//! { await = "status", where = { state = "running" }, within_ms = 200 }
//! ```

use penlab_diagnostics::SourceError;
use penlab_host::session::Inbound;
use penlab_protocol::message::{MessageType, Packet};

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx, describe_message};

/// Waits for a message of a type whose fields match `filter`.
#[derive(Debug)]
pub struct Await {
    message_type: MessageType,
    /// Field values it must have (templated).
    filter: toml::Table,
    /// How long to wait, ms (templated).
    within_ms: toml::Value,
}

/// The message type a step names (`"status"`).
pub(super) fn message_type(
    value: &toml::Value,
    cx: &ParseCtx<'_>,
) -> Result<MessageType, SourceError> {
    value.clone().try_into().map_err(|e: toml::de::Error| {
        cx.error(format!("unknown message type: {}", e.message().trim()))
    })
}

impl StepKind for Await {
    const KEY: &'static str = "await";
    const OPTIONS: &'static [&'static str] = &["where", "within_ms"];

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        let step = Await {
            message_type: message_type(&table[Self::KEY], cx)?,
            filter: match table.get("where") {
                None => toml::Table::new(),
                Some(toml::Value::Table(t)) => t.clone(),
                Some(other) => {
                    return Err(
                        cx.error(format!("`where` is a table of field values, not {other}"))
                    );
                }
            },
            within_ms: table
                .get("within_ms")
                .cloned()
                .unwrap_or(toml::Value::Integer(1_000)),
        };
        check_fields(step.message_type, &step.filter, cx)?;
        cx.fill(&toml::Value::Table(step.filter.clone()))?;
        cx.check_ms(&step.within_ms, "within_ms")?;
        Ok(step)
    }
}

impl Step for Await {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let within = cx.ms(&self.within_ms)?;
            let filter = cx
                .vars
                .fill(&toml::Value::Table(self.filter.clone()))
                .map_err(StepError::Error)?;
            let want = serde_json::to_value(&filter).unwrap_or_default();
            let wanted =
                |p: &Packet| p.message.msg_type() == self.message_type && fields_match(p, &want);
            if let Some(i) = cx
                .backlog
                .iter()
                .position(|e| e.result.as_ref().is_ok_and(&wanted))
            {
                let found = cx.backlog.drain(..=i).next_back();
                if let Some(Inbound { result: Ok(p), .. }) = found {
                    cx.log.push(format!(
                        "got {} (while waiting)",
                        describe_message(&p.message)
                    ));
                }
                return Ok(());
            }
            cx.backlog.clear();
            let deadline = tokio::time::Instant::now() + within;
            let mut seen = Vec::new();
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let event = cx.session.recv(left).await.map_err(StepError::session)?;
                let Some(Inbound {
                    result: Ok(packet), ..
                }) = event
                else {
                    if event.is_none() {
                        let filter_text = if want.as_object().is_some_and(|o| o.is_empty()) {
                            String::new()
                        } else {
                            format!(" with {want}")
                        };
                        return Err(StepError::Fail(format!(
                            "no {}{filter_text} within {} ms (saw: {})",
                            self.message_type.name(),
                            within.as_millis(),
                            summarise(&seen)
                        )));
                    }
                    continue;
                };
                if wanted(&packet) {
                    cx.log
                        .push(format!("got {}", describe_message(&packet.message)));
                    return Ok(());
                }
                seen.push(packet.message.msg_type().name());
            }
        })
    }
}

/// The field names of `message_type` as a `where` filter names them (its
/// §12 JSON form), from a sample message of the type.
fn field_names(message_type: MessageType) -> Vec<String> {
    penlab_protocol::samples::every_message()
        .iter()
        .find(|m| m.msg_type() == message_type)
        .and_then(|m| serde_json::to_value(m).ok())
        .and_then(|v| v.as_object()?.values().next()?.as_object().cloned())
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default()
}

/// A filter may name only fields the message has: a typo would otherwise
/// never match and pass for a firmware failure.
fn check_fields(
    message_type: MessageType,
    filter: &toml::Table,
    cx: &ParseCtx<'_>,
) -> Result<(), SourceError> {
    let known = field_names(message_type);
    for key in filter.keys() {
        if !known.contains(key) {
            let has = if known.is_empty() {
                "no fields".to_owned()
            } else {
                format!("the fields {}", known.join(", "))
            };
            return Err(cx.error_at(
                key,
                format!(
                    "`where` names `{key}`, which {} does not have; it has {has}",
                    message_type.name()
                ),
            ));
        }
    }
    Ok(())
}

fn fields_match(packet: &Packet, want: &serde_json::Value) -> bool {
    let Some(want) = want.as_object() else {
        return true;
    };
    let body = serde_json::to_value(&packet.message).unwrap_or_default();
    // Messages serialise as { "name": { fields } }.
    let fields = body
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or_default();
    want.iter().all(|(k, v)| fields.get(k) == Some(v))
}

/// `Telemetry ×3, StrikeBatch ×2` for the messages a failed wait saw.
fn summarise(seen: &[&str]) -> String {
    if seen.is_empty() {
        return "nothing".into();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for name in seen {
        match counts.iter_mut().find(|(n, _)| n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(n, k)| {
            if *k == 1 {
                (*n).to_owned()
            } else {
                format!("{n} ×{k}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_type_has_its_fields_known() {
        let mut status = field_names(MessageType::Status);
        status.sort();
        assert_eq!(
            status,
            [
                "active_faults",
                "cartridge",
                "depth_set_um",
                "rate_set_chz",
                "state"
            ]
        );
        assert!(field_names(MessageType::Fault).contains(&"code".to_owned()));
    }

    #[test]
    fn a_failed_wait_counts_what_it_saw() {
        assert_eq!(summarise(&[]), "nothing");
        assert_eq!(
            summarise(&["Telemetry", "StrikeBatch", "Telemetry"]),
            "Telemetry ×2, StrikeBatch"
        );
    }
}
