//! Scenario files: declarative conformance tests in TOML.
//!
//! Wokwi's automation scenarios (send, wait, expect, set a control) meet
//! OpenHTF's measurements with limits. A file is one suite:
//!
//! ```toml
//! [suite]
//! title = "Depth (PROTOCOL.md §5.1)"
//! requirements = ["PENLAB-DEPTH"]          # every test in the file verifies these
//!
//! [[test]]
//! id = "depth-settles"
//! title = "The needle settles within ±50 µm of the set depth"
//! requirements = ["21 CFR 878.4430(b)(2)(i)"]
//! sweep = "depth"                          # run at the smallest, middle and largest depth
//! steps = [
//!   { send = { set_depth = { depth_um = "${depth}" } } },
//!   { send = "start" },
//!   { measure = "strike_depth_um", over_ms = 1000, limit = { nominal = "${depth}", abs = 50 } },
//! ]
//! ```
//!
//! Steps: `send` (a message, with `expect = "ack" | "nack" | "nack:REASON"`
//! and `allow_out_of_limits`), `send_frame` (any type code and hex payload,
//! for unknown and malformed commands), `resend_last` (the previous command
//! with its sequence number), `await` (a message type, `where` its fields
//! have values, `within_ms`), `refute` (`for_ms`), `wait_ms` (heartbeating),
//! `silent_ms` (nothing sent), `env` (the mock's environment channel) and
//! `measure` (a [`Quantity`] over `over_ms`, held to a `limit`).
//!
//! Values written `"${…}"` are filled in from the pen's declared
//! capabilities when the test runs (see [`Vars`]); a sum or difference of
//! names and numbers is allowed (`"${depth_max + depth_step}"`). Everything
//! else is checked when the file is loaded, and a mistake is reported as
//! `file:line:column: what is wrong`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use penlab_host::limits::PenLimits;
use penlab_protocol::message::{Message, MessageType, NackReason};
use serde::Deserialize;
use toml::Spanned;

use crate::measure::Limit;

/// A place in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Location {
    fn at(file: &Path, text: &str, offset: usize) -> Self {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location {
            file: file.to_owned(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A mistake in the file.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What.
        message: String,
    },
}

/// What a `send` step expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectReply {
    /// An `Ack` (the default).
    Ack,
    /// A `Nack` with this reason.
    Nack(NackReason),
    /// Any `Nack`.
    AnyNack,
}

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
}

impl Quantity {
    /// The unit the quantity is measured in.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::StrikeRateHz => "Hz",
            Quantity::StrikeDepthUm | Quantity::TelemetryDepthUm => "um",
            Quantity::DepthSettleMs | Quantity::AckLatencyMs => "ms",
        }
    }
}

/// One step, its values still templated.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a command and check its answer.
    Send {
        /// The message (`{ set_depth = { depth_um = 1250 } }`, `"start"`).
        message: toml::Value,
        /// The answer it must get.
        expect: ExpectReply,
        /// Send even if outside the pen's declared limits.
        allow_out_of_limits: bool,
    },
    /// Send a frame of any type code and payload (with a sound CRC and the
    /// next sequence number) and check its answer: for unknown and
    /// malformed commands.
    SendFrame {
        /// The type code.
        msg_type: u8,
        /// The payload bytes.
        payload: Vec<u8>,
        /// The answer it must get.
        expect: ExpectReply,
    },
    /// Send the previous command again with the same sequence number, as
    /// after a lost answer, and check its answer.
    ResendLast {
        /// The answer it must get.
        expect: ExpectReply,
    },
    /// Wait for a message of a type, whose fields match `filter`.
    Await {
        /// The message type.
        message_type: MessageType,
        /// Field values it must have (templated).
        filter: toml::Table,
        /// How long to wait, ms (templated).
        within_ms: toml::Value,
    },
    /// Fail if a message of a type arrives within the time.
    Refute {
        /// The message type.
        message_type: MessageType,
        /// How long to watch, ms (templated).
        for_ms: toml::Value,
    },
    /// Keep the session alive (heartbeats) for a time, ms (templated).
    Wait(toml::Value),
    /// Send nothing at all for a time, ms (templated): for the watchdog.
    Silent(toml::Value),
    /// Act on the mock pen's environment (force, cartridge, faults): JSON
    /// as the mock's environment channel takes it.
    Env(toml::Value),
    /// Take a measurement and hold it to a limit.
    Measure {
        /// What to measure.
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
    },
}

impl Action {
    /// Whether the step needs the mock's environment channel.
    pub fn needs_env(&self) -> bool {
        matches!(self, Action::Env(_))
    }
}

/// A step and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Where the step is in its file.
    pub location: Location,
    /// What it does.
    pub action: Action,
}

/// Which declared range a test runs across.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sweep {
    /// Smallest, middle and largest settable depth: `${depth}`.
    Depth,
    /// Lowest, middle and highest settable rate: `${rate}` (cHz), `${rate_hz}`.
    Rate,
}

/// An optional feature a pen declares in `Capabilities.features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// A pose tracker.
    Pose,
    /// A contact-force sensor.
    Force,
    /// Cartridge identity and the reuse lockout.
    Lockout,
}

impl Feature {
    /// Its bit in `Capabilities.features`.
    pub fn bit(self) -> u8 {
        use penlab_protocol::message::{FEATURE_FORCE, FEATURE_LOCKOUT, FEATURE_POSE};
        match self {
            Feature::Pose => FEATURE_POSE,
            Feature::Force => FEATURE_FORCE,
            Feature::Lockout => FEATURE_LOCKOUT,
        }
    }
}

/// One test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// Id, unique in the suite.
    pub id: String,
    /// What it checks.
    pub title: String,
    /// Requirement IDs (the suite's and its own).
    pub requirements: Vec<String>,
    /// Tags (the suite's and its own).
    pub tags: Vec<String>,
    /// Whether the runner opens the session (Hello) before the steps.
    pub handshake: bool,
    /// The range to run across, if any.
    pub sweep: Option<Sweep>,
    /// Features the pen must declare for the test to apply; otherwise it is
    /// skipped with the reason.
    pub requires: Vec<Feature>,
    /// The steps.
    pub steps: Vec<Step>,
    /// Where the test is written.
    pub location: Location,
}

impl TestCase {
    /// Whether any step needs the mock's environment channel.
    pub fn needs_env(&self) -> bool {
        self.steps.iter().any(|s| s.action.needs_env())
    }
}

/// A scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The file's stem: the suite's name in reports.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// What it covers.
    pub title: String,
    /// The tests, in file order.
    pub tests: Vec<TestCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    suite: RawSuite,
    #[serde(default, rename = "test")]
    tests: Vec<Spanned<RawTest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    title: String,
    #[serde(default)]
    requirements: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    id: String,
    title: String,
    #[serde(default)]
    requirements: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "yes")]
    handshake: bool,
    #[serde(default)]
    sweep: Option<Sweep>,
    #[serde(default)]
    requires: Vec<Feature>,
    steps: Vec<Spanned<toml::Table>>,
}

fn yes() -> bool {
    true
}

impl Suite {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Suite, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_owned(),
            source,
        })?;
        Suite::parse(path, &text)
    }

    /// Checks scenario text; `path` names it in errors and reports.
    pub fn parse(path: &Path, text: &str) -> Result<Suite, ScenarioError> {
        let invalid = |offset: usize, message: String| ScenarioError::Invalid {
            location: Location::at(path, text, offset),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_owned(),
            )
        })?;
        let mut ids = BTreeMap::new();
        let mut tests = Vec::with_capacity(raw.tests.len());
        for spanned in raw.tests {
            let offset = spanned.span().start;
            let t = spanned.into_inner();
            if t.id.is_empty() || t.id.contains(char::is_whitespace) {
                return Err(invalid(
                    offset,
                    format!("test id {:?} must be non-empty and without spaces", t.id),
                ));
            }
            if ids.insert(t.id.clone(), offset).is_some() {
                return Err(invalid(
                    offset,
                    format!("test id {:?} is used twice in this file", t.id),
                ));
            }
            let mut steps = Vec::with_capacity(t.steps.len());
            for step in t.steps {
                let at = step.span().start;
                let action = parse_action(step.get_ref()).map_err(|m| invalid(at, m))?;
                check_templates(&action, t.sweep).map_err(|m| invalid(at, m))?;
                steps.push(Step {
                    location: Location::at(path, text, at),
                    action,
                });
            }
            if steps.is_empty() {
                return Err(invalid(offset, format!("test {:?} has no steps", t.id)));
            }
            let mut requirements = raw.suite.requirements.clone();
            requirements.extend(t.requirements);
            let mut tags = raw.suite.tags.clone();
            tags.extend(t.tags);
            tests.push(TestCase {
                id: t.id,
                title: t.title,
                requirements,
                tags,
                handshake: t.handshake,
                sweep: t.sweep,
                requires: t.requires,
                steps,
                location: Location::at(path, text, offset),
            });
        }
        let name = path
            .file_stem()
            .map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned());
        Ok(Suite {
            name,
            path: path.to_owned(),
            title: raw.suite.title,
            tests,
        })
    }
}

/// Loads suites from files and directories (every `*.toml` in a
/// directory, in name order), in the order given.
pub fn load_suites(paths: &[PathBuf]) -> Result<Vec<Suite>, ScenarioError> {
    let mut suites = Vec::new();
    for path in paths {
        if path.is_dir() {
            let read = std::fs::read_dir(path).map_err(|source| ScenarioError::Io {
                path: path.clone(),
                source,
            })?;
            let mut files: Vec<PathBuf> = read
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for file in files {
                suites.push(Suite::load(&file)?);
            }
        } else {
            suites.push(Suite::load(path)?);
        }
    }
    Ok(suites)
}

/// The conformance suite shipped with penlab (`harness/conformance/`).
pub fn shipped_suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

const ACTIONS: &[&str] = &[
    "send",
    "send_frame",
    "resend_last",
    "await",
    "refute",
    "wait_ms",
    "silent_ms",
    "env",
    "measure",
];

fn parse_action(table: &toml::Table) -> Result<Action, String> {
    let actions: Vec<&str> = ACTIONS
        .iter()
        .copied()
        .filter(|a| table.contains_key(*a))
        .collect();
    let action = match actions[..] {
        [one] => one,
        [] => return Err(format!("a step needs one of {}", ACTIONS.join(", "))),
        _ => {
            return Err(format!(
                "a step does one thing; this one has {}",
                actions.join(" and ")
            ));
        }
    };
    let allowed: &[&str] = match action {
        "send" => &["send", "expect", "allow_out_of_limits"],
        "send_frame" => &["send_frame", "expect"],
        "resend_last" => &["resend_last", "expect"],
        "await" => &["await", "where", "within_ms"],
        "refute" => &["refute", "for_ms"],
        "measure" => &[
            "measure",
            "name",
            "over_ms",
            "limit",
            "target_um",
            "within_um",
        ],
        _ => &[action],
    };
    if let Some(extra) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "unknown key `{extra}` in a `{action}` step; it takes {}",
            allowed.join(", ")
        ));
    }
    let get = |key: &str| table.get(key).cloned();
    let expect = || match table.get("expect") {
        None => Ok(ExpectReply::Ack),
        Some(toml::Value::String(s)) => parse_expect(s),
        Some(other) => Err(format!(
            "`expect` is a string (\"ack\", \"nack\" or \"nack:REASON\"), not {other}"
        )),
    };
    let ms = |key: &str, default: i64| get(key).unwrap_or(toml::Value::Integer(default));
    Ok(match action {
        "send" => Action::Send {
            message: table["send"].clone(),
            expect: expect()?,
            allow_out_of_limits: match get("allow_out_of_limits") {
                None => false,
                Some(toml::Value::Boolean(b)) => b,
                Some(other) => {
                    return Err(format!(
                        "`allow_out_of_limits` is true or false, not {other}"
                    ));
                }
            },
        },
        "send_frame" => {
            let frame = table["send_frame"]
                .as_table()
                .ok_or("`send_frame` is a table: { type = 126, payload = \"0102\" }")?;
            let msg_type = match frame.get("type") {
                Some(toml::Value::Integer(t)) => {
                    u8::try_from(*t).map_err(|_| format!("`type` {t} is not a byte"))?
                }
                _ => return Err("`send_frame` needs `type`, a byte".into()),
            };
            let payload = match frame.get("payload") {
                None => Vec::new(),
                Some(toml::Value::String(h)) => {
                    hex::decode(h).map_err(|e| format!("`payload` is not hex: {e}"))?
                }
                Some(other) => return Err(format!("`payload` is a hex string, not {other}")),
            };
            if let Some(extra) = frame
                .keys()
                .find(|k| !["type", "payload"].contains(&k.as_str()))
            {
                return Err(format!(
                    "unknown key `{extra}` in `send_frame`; it takes type, payload"
                ));
            }
            Action::SendFrame {
                msg_type,
                payload,
                expect: expect()?,
            }
        }
        "resend_last" => match table["resend_last"] {
            toml::Value::Boolean(true) => Action::ResendLast { expect: expect()? },
            _ => return Err("`resend_last` is `true`".into()),
        },
        "await" => Action::Await {
            message_type: message_type(&table["await"])?,
            filter: match get("where") {
                None => toml::Table::new(),
                Some(toml::Value::Table(t)) => t,
                Some(other) => {
                    return Err(format!("`where` is a table of field values, not {other}"));
                }
            },
            within_ms: ms("within_ms", 1_000),
        },
        "refute" => Action::Refute {
            message_type: message_type(&table["refute"])?,
            for_ms: ms("for_ms", 500),
        },
        "wait_ms" => Action::Wait(table["wait_ms"].clone()),
        "silent_ms" => Action::Silent(table["silent_ms"].clone()),
        "env" => Action::Env(table["env"].clone()),
        "measure" => {
            let quantity: Quantity = table["measure"]
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("`measure`: {}", e.message().trim()))?;
            let name = match get("name") {
                None => serde_plain_name(quantity),
                Some(toml::Value::String(s)) => s,
                Some(other) => return Err(format!("`name` is a string, not {other}")),
            };
            Action::Measure {
                quantity,
                name,
                over_ms: ms("over_ms", 1_000),
                limit: get("limit").ok_or("a `measure` step needs a `limit`")?,
                target_um: get("target_um"),
                within_um: get("within_um"),
            }
        }
        _ => unreachable!("listed in ACTIONS"),
    })
}

fn serde_plain_name(q: Quantity) -> String {
    match q {
        Quantity::StrikeRateHz => "strike_rate_hz",
        Quantity::StrikeDepthUm => "strike_depth_um",
        Quantity::TelemetryDepthUm => "telemetry_depth_um",
        Quantity::DepthSettleMs => "depth_settle_ms",
        Quantity::AckLatencyMs => "ack_latency_ms",
    }
    .to_owned()
}

fn parse_expect(text: &str) -> Result<ExpectReply, String> {
    match text.split_once(':') {
        None if text == "ack" => Ok(ExpectReply::Ack),
        None if text == "nack" => Ok(ExpectReply::AnyNack),
        Some(("nack", reason)) => {
            let reason: NackReason = toml::Value::String(reason.to_owned())
                .try_into()
                .map_err(|_| format!("unknown Nack reason {reason:?} in `expect`"))?;
            Ok(ExpectReply::Nack(reason))
        }
        _ => Err(format!(
            "`expect` is \"ack\", \"nack\" or \"nack:REASON\", not {text:?}"
        )),
    }
}

fn message_type(value: &toml::Value) -> Result<MessageType, String> {
    value
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| format!("unknown message type: {}", e.message().trim()))
}

/// The values a test's `${…}` templates draw on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vars(BTreeMap<String, f64>);

/// Names every test can use; sweeps add `depth`, or `rate` and `rate_hz`.
pub const VARIABLES: &[&str] = &[
    "depth_min",
    "depth_max",
    "depth_step",
    "depth_mid",
    "depth_labelled_max",
    "rate_min",
    "rate_max",
    "rate_step",
    "rate_mid",
    "rate_min_hz",
    "rate_max_hz",
    "rate_mid_hz",
    "needles",
    "watchdog_ms",
    "telemetry_ms",
];

impl Vars {
    /// The variables of a pen with these (checked) limits.
    pub fn from_limits(c: &PenLimits) -> Vars {
        let mut v = BTreeMap::new();
        let mut put = |k: &str, x: f64| {
            v.insert(k.to_owned(), x);
        };
        put("depth_min", f64::from(c.depth_min_um));
        put("depth_max", f64::from(c.depth_max_um));
        put("depth_step", f64::from(c.depth_step_um));
        put(
            "depth_mid",
            f64::from(c.depth_setting((c.depth_settings() - 1) / 2)),
        );
        put("depth_labelled_max", f64::from(c.labelled_max_depth_um));
        put("rate_min", f64::from(c.rate_min_chz));
        put("rate_max", f64::from(c.rate_max_chz));
        put("rate_step", f64::from(c.rate_step_chz));
        let rate_mid = f64::from(c.rate_setting((c.rate_settings() - 1) / 2));
        put("rate_mid", rate_mid);
        put("rate_min_hz", f64::from(c.rate_min_chz) / 100.0);
        put("rate_max_hz", f64::from(c.rate_max_chz) / 100.0);
        put("rate_mid_hz", rate_mid / 100.0);
        put("needles", f64::from(c.needle_count));
        put("watchdog_ms", f64::from(c.watchdog_timeout_ms));
        put("telemetry_ms", f64::from(c.telemetry_period_ms));
        put("features", f64::from(c.features));
        Vars(v)
    }

    /// Whether the pen declared `feature`.
    pub fn declares(&self, feature: Feature) -> bool {
        let bits = self.0.get("features").copied().unwrap_or(0.0) as u8;
        bits & feature.bit() != 0
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: f64) {
        self.0.insert(name.to_owned(), value);
    }

    /// The points a sweep runs at: the smallest, middle and largest
    /// settable value (fewer when they coincide).
    pub fn sweep_points(&self, sweep: Sweep) -> Vec<f64> {
        let key = match sweep {
            Sweep::Depth => "depth",
            Sweep::Rate => "rate",
        };
        let get = |k: &str| self.0.get(&format!("{key}_{k}")).copied().unwrap_or(0.0);
        let mut points = vec![get("min"), get("mid"), get("max")];
        points.dedup();
        points
    }

    /// Replaces every `"${…}"` string in `value` with its number.
    pub fn fill(&self, value: &toml::Value) -> Result<toml::Value, String> {
        Ok(match value {
            toml::Value::String(s) => {
                match s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    Some(expr) => number(self.eval(expr)?),
                    None => value.clone(),
                }
            }
            toml::Value::Array(items) => toml::Value::Array(
                items
                    .iter()
                    .map(|v| self.fill(v))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => toml::Value::Table(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Evaluates `a + b - 3`: names and numbers joined by `+` and `-`.
    fn eval(&self, expr: &str) -> Result<f64, String> {
        let mut total = 0.0;
        let mut sign = 1.0;
        let mut rest = expr.trim();
        loop {
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let term = rest[..end].trim();
            let value = match term.parse::<f64>() {
                Ok(x) => x,
                Err(_) => *self.0.get(term).ok_or_else(|| {
                    format!(
                        "unknown name `{term}` in \"${{{expr}}}\"; known: {}",
                        self.names()
                    )
                })?,
            };
            total += sign * value;
            if end == rest.len() {
                return Ok(total);
            }
            sign = if rest[end..].starts_with('+') {
                1.0
            } else {
                -1.0
            };
            rest = rest[end + 1..].trim();
        }
    }

    fn names(&self) -> String {
        self.0
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn number(x: f64) -> toml::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        toml::Value::Integer(x as i64)
    } else {
        toml::Value::Float(x)
    }
}

/// Checks at load time, with stand-in values, that every template names a
/// known variable and that messages and limits have the right shape.
fn check_templates(action: &Action, sweep: Option<Sweep>) -> Result<(), String> {
    let mut vars = Vars::default();
    for name in VARIABLES {
        vars.set(name, 1.0);
    }
    match sweep {
        Some(Sweep::Depth) => vars.set("depth", 1.0),
        Some(Sweep::Rate) => {
            vars.set("rate", 1.0);
            vars.set("rate_hz", 1.0);
        }
        None => {}
    }
    let ms = |v: &toml::Value, what: &str| -> Result<(), String> {
        match vars.fill(v)? {
            toml::Value::Integer(n) if n >= 0 => Ok(()),
            other => Err(format!(
                "`{what}` is a whole number of milliseconds, not {other}"
            )),
        }
    };
    match action {
        Action::SendFrame { .. } | Action::ResendLast { .. } => {}
        Action::Send { message, .. } => {
            let _: Message = vars
                .fill(message)?
                .try_into()
                .map_err(|e: toml::de::Error| format!("`send`: {}", e.message().trim()))?;
        }
        Action::Await {
            filter, within_ms, ..
        } => {
            vars.fill(&toml::Value::Table(filter.clone()))?;
            ms(within_ms, "within_ms")?;
        }
        Action::Refute { for_ms, .. } => ms(for_ms, "for_ms")?,
        Action::Wait(v) => ms(v, "wait_ms")?,
        Action::Silent(v) => ms(v, "silent_ms")?,
        Action::Env(v) => {
            if !v.is_table() {
                return Err("`env` is a table, e.g. { cmd = \"remove_cartridge\" }".into());
            }
            vars.fill(v)?;
        }
        Action::Measure {
            over_ms,
            limit,
            target_um,
            within_um,
            quantity,
            ..
        } => {
            ms(over_ms, "over_ms")?;
            let limit: Limit = vars
                .fill(limit)?
                .try_into()
                .map_err(|e: toml::de::Error| format!("`limit`: {}", e.message().trim()))?;
            if limit
                == (Limit::Range {
                    min: None,
                    max: None,
                })
            {
                return Err("`limit` needs `nominal` (with `abs` or `rel`), `min` or `max`: an empty limit passes anything".into());
            }
            if *quantity == Quantity::DepthSettleMs && (target_um.is_none() || within_um.is_none())
            {
                return Err("`depth_settle_ms` needs `target_um` and `within_um`".into());
            }
            for v in [target_um, within_um].into_iter().flatten() {
                vars.fill(v)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[suite]
title = "Depth"
requirements = ["PENLAB-DEPTH"]
tags = ["depth"]

[[test]]
id = "settles"
title = "settles"
requirements = ["21 CFR 878.4430(b)(2)(i)"]
sweep = "depth"
steps = [
  { send = { set_depth = { depth_um = "${depth}" } } },
  { send = "start" },
  { await = "status", where = { state = "running" }, within_ms = 200 },
  { measure = "strike_depth_um", over_ms = 1000, limit = { nominal = "${depth}", abs = 50 } },
]

[[test]]
id = "beyond"
title = "refuses a depth beyond the maximum"
steps = [
  { send = { set_depth = { depth_um = "${depth_max + depth_step}" } }, expect = "nack:out_of_range", allow_out_of_limits = true },
  { refute = "strike_batch", for_ms = 300 },
]
"#;

    fn parse(text: &str) -> Result<Suite, ScenarioError> {
        Suite::parse(Path::new("depth.toml"), text)
    }

    #[test]
    fn a_good_file() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.name, "depth");
        assert_eq!(s.tests.len(), 2);
        let t = &s.tests[0];
        assert_eq!(t.requirements, ["PENLAB-DEPTH", "21 CFR 878.4430(b)(2)(i)"]);
        assert_eq!(t.sweep, Some(Sweep::Depth));
        assert_eq!(t.steps.len(), 4);
        assert_eq!(
            (t.steps[1].location.line, t.steps[1].location.column),
            (14, 3)
        );
        assert!(matches!(
            &s.tests[1].steps[0].action,
            Action::Send {
                expect: ExpectReply::Nack(NackReason::OutOfRange),
                allow_out_of_limits: true,
                ..
            }
        ));
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_typo_in_a_message_is_located() {
        let text = GOOD.replace(
            "set_depth = { depth_um = \"${depth}\" }",
            "set_dept = { depth_um = 1 }",
        );
        let e = error(&text);
        assert!(
            e.starts_with("depth.toml:13:3: `send`: unknown variant `set_dept`"),
            "{e}"
        );
    }

    #[test]
    fn a_typo_in_a_key_is_located() {
        let text = GOOD.replace("requirements = [\"21", "requirement = [\"21");
        let e = error(&text);
        assert!(
            e.starts_with("depth.toml:10:1: unknown field `requirement`"),
            "{e}"
        );
    }

    #[test]
    fn step_mistakes_are_named() {
        let e = error(&GOOD.replace("within_ms = 200", "within = 200"));
        assert!(
            e.starts_with("depth.toml:15:3: unknown key `within` in a `await` step"),
            "{e}"
        );
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ send = \"start\", wait_ms = 5 }"));
        assert!(
            e.contains("a step does one thing; this one has send and wait_ms"),
            "{e}"
        );
        let e = error(&GOOD.replace("\"${depth_max + depth_step}\"", "\"${depth_maxx}\""));
        assert!(e.contains("unknown name `depth_maxx`"), "{e}");
        let e = error(&GOOD.replace("nack:out_of_range", "nack:too_deep"));
        assert!(e.contains("unknown Nack reason \"too_deep\""), "{e}");
        let e = error(&GOOD.replace("await = \"status\"", "await = \"statuss\""));
        assert!(e.contains("unknown message type"), "{e}");
        let e = error(&GOOD.replace("abs = 50", "abs = \"fifty\""));
        assert!(e.contains("`limit`"), "{e}");
        let e = error(&GOOD.replace("limit = { nominal = \"${depth}\", abs = 50 }", "limit = {}"));
        assert!(e.contains("an empty limit passes anything"), "{e}");
        let e = error(&GOOD.replace("id = \"beyond\"", "id = \"settles\""));
        assert!(e.contains("used twice"), "{e}");
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ send_frame = { type = 300 } }"));
        assert!(e.contains("`type` 300 is not a byte"), "{e}");
        let e = error(&GOOD.replace(
            "{ send = \"start\" }",
            "{ send_frame = { type = 4, payload = \"zz\" } }",
        ));
        assert!(e.contains("`payload` is not hex"), "{e}");
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ resend_last = false }"));
        assert!(e.contains("`resend_last` is `true`"), "{e}");
    }

    #[test]
    fn templates_fill_from_capabilities() {
        let caps = penlab_protocol::samples::every_message()[11].clone();
        let Message::Capabilities(caps) = caps else {
            unreachable!()
        };
        let limits = penlab_host::limits::PenLimits::validate(caps).unwrap();
        let mut vars = Vars::from_limits(&limits);
        assert_eq!(vars.sweep_points(Sweep::Depth), [0.0, 1_250.0, 2_500.0]);
        assert_eq!(
            vars.sweep_points(Sweep::Rate),
            [11_700.0],
            "a fixed rate is one point"
        );
        vars.set("depth", 1_250.0);
        let filled = vars
            .fill(&toml::Value::String("${depth_max + depth_step - 5}".into()))
            .unwrap();
        assert_eq!(filled, toml::Value::Integer(2_745));
        assert_eq!(
            vars.fill(&toml::Value::String("${rate_mid_hz}".into()))
                .unwrap(),
            toml::Value::Integer(117)
        );
        let message: Message = vars
            .fill(&toml::Value::Table(
                toml::toml! { set_depth = { depth_um = "${depth}" } },
            ))
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            message,
            Message::SetDepth(penlab_protocol::message::SetDepth { depth_um: 1_250 })
        );
    }
}
