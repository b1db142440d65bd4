//! Reading scenario files: the TOML shape by serde, every step by its kind
//! ([`crate::steps::StepSet`]), mistakes as [`SourceError`]s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use penlab_diagnostics::{Location, SourceError};
use serde::Deserialize;
use toml::Spanned;

use super::model::{Feature, ScenarioStep, Suite, Sweep, TestCase};
use crate::steps::{ParseCtx, StepSet};

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
    /// A mistake in the file: `file:line:column: message`, the line and a
    /// caret.
    #[error(transparent)]
    Invalid(Box<SourceError>),
}

impl ScenarioError {
    /// The mistake, for a file that was read.
    pub fn source_error(&self) -> Option<&SourceError> {
        match self {
            ScenarioError::Invalid(e) => Some(e),
            ScenarioError::Io { .. } => None,
        }
    }
}

impl From<SourceError> for ScenarioError {
    fn from(e: SourceError) -> Self {
        ScenarioError::Invalid(Box::new(e))
    }
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
        Suite::load_with(path, StepSet::standard())
    }

    /// Reads and checks a scenario file, with the step kinds of `steps`.
    pub fn load_with(path: &Path, steps: StepSet) -> Result<Suite, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_owned(),
            source,
        })?;
        Suite::parse_with(path, &text, steps)
    }

    /// Checks scenario text; `path` names it in errors and reports.
    pub fn parse(path: &Path, text: &str) -> Result<Suite, ScenarioError> {
        Suite::parse_with(path, text, StepSet::standard())
    }

    /// Checks scenario text with the step kinds of `steps`.
    pub fn parse_with(path: &Path, text: &str, steps: StepSet) -> Result<Suite, ScenarioError> {
        let text: Arc<str> = text.into();
        let invalid = |span: std::ops::Range<usize>, message: String| {
            ScenarioError::from(SourceError::new(path, text.clone(), span, message))
        };
        let raw: RawFile = toml::from_str(&text)
            .map_err(|e| ScenarioError::from(SourceError::from_toml(path, text.clone(), &e)))?;
        let mut ids = BTreeMap::new();
        let mut tests = Vec::with_capacity(raw.tests.len());
        for spanned in raw.tests {
            let span = spanned.span();
            let t = spanned.into_inner();
            if t.id.is_empty() || t.id.contains(char::is_whitespace) {
                return Err(invalid(
                    span,
                    format!("test id {:?} must be non-empty and without spaces", t.id),
                ));
            }
            if ids.insert(t.id.clone(), span.start).is_some() {
                return Err(invalid(
                    span,
                    format!("test id {:?} is used twice in this file", t.id),
                ));
            }
            let mut parsed = Vec::with_capacity(t.steps.len());
            for step in t.steps {
                let cx = ParseCtx::new(path, &text, step.span(), t.sweep);
                let (kind, body) = steps.parse(step.get_ref(), &cx)?;
                parsed.push(ScenarioStep {
                    location: Location::of_offset(path, &text, step.span().start),
                    kind,
                    step: body,
                });
            }
            if parsed.is_empty() {
                return Err(invalid(span, format!("test {:?} has no steps", t.id)));
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
                steps: parsed,
                location: Location::of_offset(path, &text, span.start),
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
    load_suites_with(paths, StepSet::standard())
}

/// [`load_suites`] with the step kinds of `steps`.
pub fn load_suites_with(paths: &[PathBuf], steps: StepSet) -> Result<Vec<Suite>, ScenarioError> {
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
                suites.push(Suite::load_with(&file, steps)?);
            }
        } else {
            suites.push(Suite::load_with(path, steps)?);
        }
    }
    Ok(suites)
}

/// The conformance suite shipped with penlab (`harness/conformance/`).
pub fn shipped_suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::FaultInjection;

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
        let kinds: Vec<&str> = t.steps.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["send", "send", "await", "measure"]);
        assert_eq!(
            (t.steps[1].location.line, t.steps[1].location.column),
            (14, 3)
        );
        let beyond = format!("{:?}", s.tests[1].steps[0]);
        assert!(
            beyond.contains("Nack(OutOfRange)") && beyond.contains("allow_out_of_limits: true"),
            "{beyond}"
        );
        assert!(!t.needs_env());
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

    /// The line under the summary that holds `source`, and the caret line
    /// under it.
    fn source_and_caret<'a>(shown: &'a str, source: &str) -> (&'a str, &'a str) {
        let lines: Vec<&str> = shown.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains(source))
            .unwrap_or_else(|| panic!("no line with {source:?} in\n{shown}"));
        let caret = lines[at + 1..]
            .iter()
            .find(|l| l.contains('^'))
            .unwrap_or_else(|| panic!("no caret in\n{shown}"));
        (lines[at], caret)
    }

    #[test]
    fn a_step_mistake_shows_the_line_and_a_caret_under_the_step() {
        let text = GOOD.replace("within_ms = 200", "within = 200");
        let e = parse(&text).unwrap_err();
        let shown = e.to_string();
        assert!(
            shown.starts_with("depth.toml:15:3: unknown key `within` in a `await` step"),
            "{shown}"
        );
        let (source, caret) = source_and_caret(&shown, "{ await = \"status\"");
        assert!(source.starts_with("15 |"), "{shown}");
        // The caret starts under the step's `{`.
        assert_eq!(caret.find('^'), source.find('{'), "{shown}");
        assert_eq!(e.source_error().unwrap().location().line, 15);
    }

    #[test]
    fn a_toml_mistake_shows_the_line_and_a_caret() {
        let text = GOOD.replace("requirements = [\"21", "requirement = [\"21");
        let shown = error(&text);
        let (source, caret) = source_and_caret(&shown, "requirement = [");
        assert!(source.starts_with("10 |"), "{shown}");
        assert_eq!(caret.find('^'), source.find("requirement"), "{shown}");
    }

    #[test]
    fn a_test_mistake_points_at_the_test() {
        let shown = error(&GOOD.replace("id = \"beyond\"", "id = \"settles\""));
        assert!(shown.contains("used twice"), "{shown}");
        assert!(shown.lines().any(|l| l.contains('^')), "{shown}");
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
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ sned = \"start\" }"));
        assert!(
            e.starts_with("depth.toml:14:3: a step needs one of send, send_frame, resend_last, await, refute, wait_ms, silent_ms, env, line_noise, measure\n"),
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
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ wait_ms = \"${depth}x\" }"));
        assert!(
            e.contains("`wait_ms` is a whole number of milliseconds"),
            "{e}"
        );
        let e = error(&GOOD.replace("{ send = \"start\" }", "{ env = \"remove\" }"));
        assert!(e.contains("`env` is a table"), "{e}");
    }

    #[test]
    fn the_test_only_panic_step_needs_fault_injection() {
        let text = GOOD.replace("{ send = \"start\" }", "{ test_only_panic = \"boom\" }");
        let e = error(&text);
        let summary = e.lines().next().unwrap();
        assert!(summary.contains("a step needs one of send"), "{e}");
        assert!(
            !summary.contains("test_only_panic"),
            "hidden from users: {e}"
        );
        let with = StepSet::with_fault_injection(Some(FaultInjection::PanicInStep));
        let suite = Suite::parse_with(Path::new("depth.toml"), &text, with).unwrap();
        assert_eq!(suite.tests[0].steps[1].kind, "test_only_panic");
    }

    #[test]
    fn env_steps_need_the_environment_channel() {
        let text = GOOD.replace(
            "{ send = \"start\" }",
            "{ env = { cmd = \"remove_cartridge\" } }",
        );
        assert!(parse(&text).unwrap().tests[0].needs_env());
    }
}
