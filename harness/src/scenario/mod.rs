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
//! The steps a file may use are the kinds in [`crate::steps::KINDS`], each
//! documented in its own module there.
//!
//! Values written `"${…}"` are filled in from the pen's declared
//! capabilities when the test runs (see [`Vars`]); a sum or difference of
//! names and numbers is allowed (`"${depth_max + depth_step}"`). Everything
//! else is checked when the file is loaded, and a mistake is reported as
//! `file:line:column: what is wrong`, then the line and a caret
//! ([`penlab_diagnostics::SourceError`]).
//!
//! * [`model`]: what a loaded file is.
//! * [`load`]: reading and checking files.
//! * [`template`]: the `${…}` names and their values.

pub mod load;
pub mod model;
pub mod template;

pub use load::{ScenarioError, load_suites, load_suites_with, shipped_suite_dir};
pub use model::{Feature, ScenarioStep, Suite, Sweep, TestCase};
pub use template::{VARIABLES, Vars};
