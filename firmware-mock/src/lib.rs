//! A behavioural mock of a microneedling pen's firmware that speaks the
//! penlab protocol (`protocol/PROTOCOL.md`): for CI, trainers and firmware
//! engineers who have no pen at hand.
//!
//! - [`profile`]: device profiles (TOML), three shipped.
//! - [`device`]: the firmware as a pure state machine (no I/O, time passed in).
//! - [`physics`]: depth actuator, motor ramp, battery, heating, seeded noise.
//! - [`env`](mod@env): the environment channel (force, cartridges, faults).
//! - [`link`]: seeded link faults, and a pen that stops reading.
//! - [`transport`]: pseudo-terminal, TCP and in-process links.
//! - [`runner`]: the async loop that ties a device to a link.
//! - [`bugs`]: planted bugs for testing test suites.
//! - [`transcript`]: every byte both ways, for determinism checks, and
//!   written to a file as it goes for whoever drives the mock from outside.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use penlab_firmware_mock::{device::DeviceConfig, profile::Profile, runner::{Mock, MockConfig}};
//! let profile = Profile::builtin("skinpen-like").unwrap();
//! let mut mock = Mock::new(MockConfig::new(DeviceConfig::new(profile)));
//! let (pen, _host) = penlab_firmware_mock::transport::duplex();
//! mock.run(pen).await?;
//! # Ok(()) }
//! ```

pub mod background;
pub mod bugs;
pub mod device;
pub mod env;
pub mod link;
pub mod physics;
pub mod profile;
pub mod runner;
pub mod transcript;
pub mod transport;
