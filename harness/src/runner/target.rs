//! What the suites run against: a pen behind a [`Transport`], or the mock
//! in process.

use penlab_firmware_mock::bugs::BugSet;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_host::env::EnvLink;
use penlab_host::transport::{Connection, Transport};

/// What the suites run against.
#[derive(Debug, Clone)]
pub struct Target {
    /// How to reach the pen. An in-process pen is started afresh for every
    /// test; any other keeps its state from one test to the next.
    pub transport: Transport,
    /// Run on tokio's paused clock: deterministic and much faster than real
    /// time. Only for an in-process pen.
    pub virtual_time: bool,
    description: String,
}

impl Target {
    /// A pen reached through `transport`, in real time.
    pub fn new(transport: Transport) -> Self {
        Target {
            description: transport.describe().to_owned(),
            transport,
            virtual_time: false,
        }
    }

    /// The mock pen in process, a fresh one for every test: `name` is its
    /// profile's name for reports.
    pub fn mock(profile: Profile, name: &str, bugs: BugSet, seed: u64, virtual_time: bool) -> Self {
        let planted: Vec<&str> = bugs.iter().map(|b| b.name()).collect();
        let description = if planted.is_empty() {
            format!("mock:{name}")
        } else {
            format!("mock:{name} (bugs: {})", planted.join(", "))
        };
        let mut device = DeviceConfig::new(profile);
        device.seed = seed;
        device.bugs = bugs;
        let config = MockConfig::new(device);
        let transport = Transport::in_process(description.clone(), move || {
            let (host, env, task) = spawn_duplex(config.clone());
            Connection {
                link: Box::new(host),
                env: Some(EnvLink::in_process(env.into())),
                finished: Some(Box::pin(async move {
                    let _ = task.await;
                })),
            }
        });
        Target {
            transport,
            virtual_time,
            description,
        }
    }

    /// How reports name the target.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Whether the pen is real hardware (or anything else that keeps its
    /// state between tests), rather than a fresh in-process mock.
    pub fn is_persistent(&self) -> bool {
        !self.transport.is_in_process()
    }
}
