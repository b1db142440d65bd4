//! Operator prompts: on a pen without an environment channel, the tests
//! that need hands (cartridge off and on, a fault provoked) ask an operator
//! instead of being skipped; the operator's name goes in the reports.
//! Here the "operator" carries each prompt out on a mock whose channel the
//! harness is not given, as a person would on a real pen.

use std::sync::{Arc, Mutex};

use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_harness::operator::{AskFuture, Operator, Prompt};
use penlab_harness::report::Outcome;
use penlab_harness::runner::{self, RunOptions, Target};
use penlab_harness::scenario::{load_suites, shipped_suite_dir};
use penlab_host::env::EnvCommand;
use penlab_host::transport::{Connection, Transport};
use tokio::sync::mpsc::UnboundedSender;

type Hands = Arc<Mutex<Option<UnboundedSender<EnvCommand>>>>;

/// A pen that shows the harness no environment channel; `hands` reaches
/// the current one's, for the operator.
fn pen_without_channel(hands: Hands) -> Target {
    let transport = Transport::in_process("mock:no-channel", move || {
        let device = DeviceConfig::new(Profile::builtin("dermapen4-like").expect("shipped"));
        let (host, env, task) = spawn_duplex(MockConfig::new(device));
        *hands.lock().expect("not poisoned") = Some(env.into());
        Connection {
            link: Box::new(host),
            env: None,
            finished: Some(Box::pin(async move {
                let _ = task.await;
            })),
        }
    });
    let mut target = Target::new(transport);
    target.virtual_time = true;
    target
}

/// Does what it is asked, and remembers what that was.
struct Bench {
    hands: Hands,
    asked: Mutex<Vec<String>>,
}

impl Operator for Bench {
    fn ask<'a>(&'a self, prompt: &'a Prompt) -> AskFuture<'a> {
        Box::pin(async move {
            self.asked
                .lock()
                .expect("not poisoned")
                .push(prompt.text.clone());
            let hands = self.hands.lock().expect("not poisoned").clone();
            hands
                .ok_or("no pen")?
                .send(prompt.command.clone())
                .map_err(|_| "the pen is gone".to_owned())?;
            Ok(())
        })
    }
}

fn run(
    operator: Option<Arc<Bench>>,
    hands: Hands,
    filter: &str,
) -> penlab_harness::report::RunReport {
    let suites = load_suites(&[shipped_suite_dir()]).expect("the suite loads");
    let options = RunOptions {
        filters: vec![filter.into()],
        operator: operator.map(|o| o as Arc<dyn Operator>),
        operator_name: Some("A. Tester".into()),
        ..RunOptions::default()
    };
    runner::run(&suites, &pen_without_channel(hands), options).expect("runs")
}

#[test]
fn an_operator_carries_out_the_environment_steps() {
    let hands: Hands = Arc::default();
    let bench = Arc::new(Bench {
        hands: hands.clone(),
        asked: Mutex::default(),
    });
    let report = run(Some(bench.clone()), hands, "cartridge::no-cartridge");
    assert_eq!(report.tests.len(), 1);
    assert_eq!(
        report.tests[0].outcome,
        Outcome::Passed,
        "{:?}",
        report.tests[0]
    );
    let asked = bench.asked.lock().expect("not poisoned").clone();
    assert_eq!(asked[0], "Remove the cartridge now, then press Enter");
    assert!(asked[1].starts_with("Fit the cartridge now"), "{asked:?}");
    assert!(
        report.tests[0]
            .log
            .iter()
            .any(|l| l == "operator: Remove the cartridge now, then press Enter (done)"),
        "{:?}",
        report.tests[0].log
    );
    assert_eq!(report.operator.as_deref(), Some("A. Tester"));
    assert_eq!(report.to_json()["operator"], "A. Tester");
    let xml = report.to_junit().to_string().expect("serialises");
    assert!(
        xml.contains(r#"name="operator" value="A. Tester""#),
        "{xml}"
    );
}

#[test]
fn without_an_operator_they_are_skipped_as_before() {
    let hands: Hands = Arc::default();
    let report = run(None, hands, "faults::motor-stall");
    assert!(
        matches!(&report.tests[0].outcome, Outcome::Skipped { reason } if reason.contains("operator")),
        "{:?}",
        report.tests[0].outcome
    );
}
