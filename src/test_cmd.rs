//! `penlab test`: run conformance scenarios against a pen (real or mock)
//! and report them as CI systems expect. The work is the harness's
//! ([`penlab_harness::bench::run`]); this reads the arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::profile::Profile;
use penlab_harness::bench::{self, BenchOptions};
use penlab_harness::partition::Partition;
use penlab_harness::runner::Target;
use penlab_harness::scenario::{load_suites_with, shipped_suite_dir};
use penlab_harness::steps::{FaultInjection, StepSet};
use penlab_host::transport::Transport;

use crate::signals;

/// Arguments of `penlab test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files or directories (default: the shipped conformance
    /// suite, harness/conformance).
    paths: Vec<PathBuf>,
    /// Run against a mock pen in process with this profile (name or file).
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["port", "tcp"])]
    mock: Option<String>,
    /// Run against the pen on this port: a serial path, `usb:VID:PID[:SERIAL]`,
    /// `socket://HOST:PORT` or `rfc2217://HOST:PORT`; repeat for a bench of
    /// pens (they run at once).
    #[arg(long, value_name = "PORT")]
    port: Vec<String>,
    /// Line speed for UART bridges (USB CDC-ACM pens ignore it).
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Run against a pen (or `penlab mock --tcp`) at this address.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "port")]
    tcp: Option<String>,
    /// With --mock: plant this bug (repeatable), to see the suite catch it.
    #[arg(long, value_name = "NAME", requires = "mock")]
    bug: Vec<PlantedBug>,
    /// With --mock: seed of its random draws.
    #[arg(long, default_value_t = 1, requires = "mock")]
    seed: u64,
    /// With --mock: run in real time instead of on the virtual clock.
    #[arg(long, requires = "mock")]
    real_time: bool,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the JSON record (device, measurements, traceability) here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a capture of every test's bytes into this directory.
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
    /// Write those captures as pcapng (`<test>.pcapng`, for Wireshark),
    /// each block flushed as it is written.
    #[arg(long, requires = "capture")]
    capture_pcapng: bool,
    /// Run one shard: hash:K/N or count:K/N.
    #[arg(long, value_name = "SPEC")]
    partition: Option<Partition>,
    /// Run only tests with this tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
}

/// Runs the suites; exit code 0 all passed, 1 a test failed, 2 a test could
/// not be carried out (or bad usage), 130/143 interrupted by SIGINT/SIGTERM
/// (after the motor was stopped).
pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    // Read once, here: only the runner's own tests set it.
    let faults = FaultInjection::from_env().map_err(anyhow::Error::msg)?;
    let paths = if args.paths.is_empty() {
        vec![shipped_suite_dir()]
    } else {
        args.paths.clone()
    };
    let suites = load_suites_with(&paths, StepSet::with_fault_injection(faults))?;
    let targets = targets(&args)?;
    let interrupt = signals::listen()?;
    let options = BenchOptions {
        capture_dir: args.capture,
        capture_pcapng: args.capture_pcapng,
        partition: args.partition,
        tags: args.tag,
        junit: args.junit,
        json: args.json,
        interrupt: Some(interrupt),
    };
    let end = bench::run(&suites, &targets, &options)?;
    Ok(ExitCode::from(end.exit_code))
}

fn targets(args: &TestArgs) -> anyhow::Result<Vec<Target>> {
    if let Some(profile) = &args.mock {
        let loaded = Profile::load(profile).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(vec![Target::mock(
            loaded,
            profile,
            args.bug.iter().copied().collect::<BugSet>(),
            args.seed,
            !args.real_time,
        )]);
    }
    if let Some(addr) = &args.tcp {
        return Ok(vec![Target::new(Transport::tcp(addr.clone()))]);
    }
    if !args.port.is_empty() {
        return args
            .port
            .iter()
            .map(|p| {
                let transport = Transport::for_port(p, args.baud)?;
                transport.check()?;
                Ok(Target::new(transport))
            })
            .collect();
    }
    bail!("say what to test: --mock PROFILE, --port PATH or --tcp HOST:PORT")
}
