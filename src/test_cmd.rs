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
use penlab_harness::evidence;
use penlab_harness::partition::Partition;
use penlab_harness::runner::{self, Target};
use penlab_harness::scenario::{load_suites_with, shipped_suite_dir};
use penlab_harness::steps::{FaultInjection, StepSet};
use penlab_host::transport::Transport;

use crate::evidence_args::EvidenceArgs;
use crate::history_record::Recorder;
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
    /// Record the run in this history database (SQLite, made if absent;
    /// see `penlab history`). Nothing is recorded without it.
    #[arg(long, value_name = "FILE", env = "PENLAB_DB")]
    db: Option<PathBuf>,
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
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// With --evidence and one pen: after the suite, run the accuracy study
    /// (`penlab characterise` with its defaults) into the same bundle.
    #[arg(long, requires = "evidence")]
    characterise: bool,
    /// Run only tests whose id matches this glob (repeatable): `depth-*`,
    /// `watchdog::*`, `commands::set-depth[depth=250]`.
    #[arg(long, value_name = "GLOB")]
    filter: Vec<String>,
    /// Run a test that fails again, up to N times; one that then passes is
    /// reported flaky (live output, JUnit flakyFailure, JSON).
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Never prompt an operator: tests that need a cartridge taken off or
    /// a fault provoked are skipped on a real pen (as without a terminal).
    #[arg(long)]
    no_prompts: bool,
    /// Print the tests that would run (after --tag, --filter and
    /// --partition) and exit; needs no pen.
    #[arg(long)]
    list: bool,
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
    if args.list {
        let listed = runner::list(&suites, &args.tag, &args.filter, args.partition);
        for t in &listed {
            let env = if t.needs_env {
                " (needs the mock's environment channel)"
            } else {
                ""
            };
            println!("{}  {}{env}", t.id, t.title);
        }
        println!("{} test(s)", listed.len());
        return Ok(ExitCode::SUCCESS);
    }
    let targets = targets(&args)?;
    // Opened first: a file that is not a history is refused before a run.
    let mut history = args
        .db
        .as_deref()
        .map(|path| Recorder::open(path, &suites))
        .transpose()?;
    let interrupt = signals::listen()?;
    let ev = &args.evidence;
    ev.prepare()?;
    let started = std::time::SystemTime::now();
    let options = BenchOptions {
        capture_dir: ev.output(&args.capture, evidence::CAPTURES),
        capture_pcapng: args.capture_pcapng,
        partition: args.partition,
        tags: args.tag.clone(),
        filters: args.filter.clone(),
        retries: args.retries,
        junit: ev.output(&args.junit, evidence::JUNIT),
        json: ev.output(&args.json, evidence::RECORD),
        interrupt: Some(interrupt.clone()),
        prompts: !args.no_prompts,
        operator: args.evidence.operator.clone(),
    };
    if args.characterise && targets.len() != 1 {
        bail!("--characterise studies one pen: give one --port, --tcp or --mock");
    }
    let mut end = bench::run(&suites, &targets, &options)?;
    if let Some(history) = &mut history {
        history.record(&end.reports)?;
    }
    if let Some(dir) = &ev.evidence {
        let study = if args.characterise && interrupt.signal().is_none() {
            let pen = &targets[0];
            Some(crate::characterise_cmd::into_bundle(dir, pen, &interrupt)?)
        } else {
            None
        };
        if let Some(s) = &study {
            end.exit_code = end.exit_code.max(s.exit_code());
        }
        let scenarios: Vec<&std::path::Path> = suites.iter().map(|s| s.path.as_path()).collect();
        let provenance = ev.provenance(started, settings(&args), &scenarios)?;
        evidence::write(dir, &provenance, &end.reports, study.as_ref())?;
        ev.copy_out(&args.junit, evidence::JUNIT)?;
        ev.copy_out(&args.json, evidence::RECORD)?;
        ev.copy_out(&args.capture, evidence::CAPTURES)?;
        println!("evidence: {}", dir.join(evidence::REPORT).display());
    }
    Ok(ExitCode::from(end.exit_code))
}

/// What the run was told, for the evidence.
fn settings(args: &TestArgs) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(m) = &args.mock {
        out.push(("Mock profile".into(), m.clone()));
        out.push(("Seed".into(), args.seed.to_string()));
        out.push((
            "Clock".into(),
            if args.real_time {
                "real time"
            } else {
                "virtual time"
            }
            .into(),
        ));
        for bug in &args.bug {
            out.push(("Planted bug".into(), bug.name().into()));
        }
    }
    for p in &args.port {
        out.push(("Port".into(), format!("{p} at {} baud", args.baud)));
    }
    if let Some(t) = &args.tcp {
        out.push(("TCP".into(), t.clone()));
    }
    if let Some(p) = &args.partition {
        out.push(("Partition".into(), p.to_string()));
    }
    if !args.tag.is_empty() {
        out.push(("Tags".into(), args.tag.join(", ")));
    }
    out
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
