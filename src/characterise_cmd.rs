//! `penlab characterise`: the accuracy study of 21 CFR 878.4430(b)(2)(i)
//! on a pen (real or mock). The work is the harness's
//! ([`penlab_harness::characterise::run`]); this reads the arguments and
//! writes the outputs (and the evidence bundle, when asked).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::profile::Profile;
use penlab_harness::characterise::stats::StudyLimits;
use penlab_harness::characterise::{self, Characterisation, StudyPlan, reference};
use penlab_harness::evidence;
use penlab_harness::runner::{Interrupt, Target};
use penlab_host::transport::Transport;

use crate::evidence_args::EvidenceArgs;
use crate::signals;

/// Arguments of `penlab characterise`.
#[derive(Debug, Args)]
pub struct CharacteriseArgs {
    /// Study the mock pen in process with this profile (name or file), in
    /// virtual time unless --real-time.
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["port", "tcp"])]
    mock: Option<String>,
    /// Study the pen on this port: a serial path, `usb:VID:PID[:SERIAL]`,
    /// `socket://HOST:PORT` or `rfc2217://HOST:PORT`.
    #[arg(long, value_name = "PORT")]
    port: Option<String>,
    /// Line speed for UART bridges (USB CDC-ACM pens ignore it).
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Study a pen (or `penlab mock --tcp`) at this address.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "port")]
    tcp: Option<String>,
    /// With --mock: plant this bug (repeatable).
    #[arg(long, value_name = "NAME", requires = "mock")]
    bug: Vec<PlantedBug>,
    /// With --mock: seed of its random draws.
    #[arg(long, default_value_t = 1, requires = "mock")]
    seed: u64,
    /// With --mock: run in real time instead of on the virtual clock.
    #[arg(long, requires = "mock")]
    real_time: bool,
    /// Depths to study, µm, comma-separated (default: every declared step).
    #[arg(long, value_name = "UM,…", value_delimiter = ',')]
    depths: Option<Vec<u16>>,
    /// Rates to study, Hz, comma-separated (default: the lowest, middle and
    /// highest declared).
    #[arg(long, value_name = "HZ,…", value_delimiter = ',')]
    rates: Option<Vec<f64>>,
    /// Strokes measured at each point.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    strokes: u32,
    /// Settling time after each change of set point, ms.
    #[arg(long, default_value_t = 800)]
    settle_ms: u64,
    /// Depth limit: every stroke within ± this of the set depth, µm.
    #[arg(long, default_value_t = 50.0)]
    depth_tol_um: f64,
    /// Depth error beyond which a stroke is MARGINAL, µm (0: no band).
    #[arg(long, default_value_t = 35.0)]
    depth_marginal_um: f64,
    /// Rate limit: the measured rate within ± this of the set rate, %.
    #[arg(long, default_value_t = 3.0)]
    rate_tol_pct: f64,
    /// Rate error beyond which the rate is MARGINAL, % (0: no band).
    #[arg(long, default_value_t = 2.0)]
    rate_marginal_pct: f64,
    /// External gauge readings (CSV: depth_um,rate_hz,measured_um) to
    /// compare with what the pen reports.
    #[arg(long, value_name = "FILE.csv")]
    reference: Option<PathBuf>,
    /// Write the CSV, JSON and plots here (default: `characterisation`, or
    /// the bundle's with --evidence).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    evidence: EvidenceArgs,
}

/// Runs the study: exit code 0 every point passed (marginal ones too), 1 a
/// point failed, 2 the study could not be carried out (or bad usage).
pub fn run(args: CharacteriseArgs) -> anyhow::Result<ExitCode> {
    let band = |v: f64| (v > 0.0).then_some(v);
    let limits = StudyLimits {
        depth_abs_um: args.depth_tol_um,
        depth_marginal_um: band(args.depth_marginal_um),
        rate_rel: args.rate_tol_pct / 100.0,
        rate_marginal_rel: band(args.rate_marginal_pct / 100.0),
    };
    limits
        .validate()
        .map_err(|e| anyhow::anyhow!("limits: {e}"))?;
    let plan = StudyPlan {
        depths: args.depths.clone(),
        rates_hz: args.rates.clone(),
        strokes: args.strokes as usize,
        settle: Duration::from_millis(args.settle_ms),
        limits,
    };
    let readings = match &args.reference {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            reference::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    let target = target(&args)?;
    let ev = &args.evidence;
    ev.prepare()?;
    let out = ev
        .in_bundle(evidence::CHARACTERISATION)
        .or_else(|| args.out.clone())
        .unwrap_or_else(|| PathBuf::from("characterisation"));
    let interrupt = signals::listen()?;
    let started = std::time::SystemTime::now();
    let bundle = ev.evidence.as_deref();
    let study = study_into(&out, bundle, &target, &plan, &readings, &interrupt)?;
    for p in &study.points {
        println!(
            "{:<8} {}: {} strokes, depth {}, rate {}",
            p.verdict.label(),
            characterise::label(&p.set),
            p.strokes,
            p.depth
                .map(|d| format!("{:.1} ± {:.1} µm (worst {:+.1})", d.mean, d.sd, d.max_error))
                .unwrap_or_else(|| "-".into()),
            p.rate
                .map(|r| format!("{:.2} Hz", r.mean))
                .unwrap_or_else(|| "-".into()),
        );
    }
    for r in &study.unmatched_readings {
        eprintln!(
            "warning: a gauge reading at {} µm{} matches no point of the study",
            r.depth_um,
            r.rate_hz
                .map(|h| format!(" and {h} Hz"))
                .unwrap_or_default()
        );
    }
    println!("{}", study.summary());
    if let Some(e) = &study.error {
        eprintln!("error: the study did not finish: {e}");
    }
    if let Some(dir) = &ev.evidence {
        let mut scenarios = Vec::new();
        if let Some(r) = &args.reference {
            scenarios.push(r.as_path());
        }
        let provenance = ev.provenance(started, settings(&args), &scenarios)?;
        evidence::write(dir, &provenance, &[], Some(&study))?;
        println!("evidence: {}", dir.join(evidence::REPORT).display());
    } else {
        println!("written: {}", out.display());
    }
    let code = match interrupt.signal() {
        Some(signal) => signal.exit_code(),
        None => study.exit_code(),
    };
    Ok(ExitCode::from(code))
}

/// Runs the study and writes its outputs into `out`; with a `bundle`, the
/// session's capture goes into its captures.
fn study_into(
    out: &Path,
    bundle: Option<&Path>,
    target: &Target,
    plan: &StudyPlan,
    readings: &[reference::Reading],
    interrupt: &Interrupt,
) -> anyhow::Result<Characterisation> {
    let capture = match bundle {
        Some(dir) => {
            let captures = dir.join(evidence::CAPTURES);
            std::fs::create_dir_all(&captures)?;
            Some(captures.join("characterise.capture"))
        }
        None => None,
    };
    let study = characterise::run(target, plan, readings, interrupt, capture.as_deref())?;
    study
        .write(out)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(study)
}

/// `penlab test --characterise`: the study with its defaults, on the pen
/// the suite ran on, into the suite's evidence bundle.
pub fn into_bundle(
    bundle: &Path,
    target: &Target,
    interrupt: &Interrupt,
) -> anyhow::Result<Characterisation> {
    let out = bundle.join(evidence::CHARACTERISATION);
    let study = study_into(
        &out,
        Some(bundle),
        target,
        &StudyPlan::default(),
        &[],
        interrupt,
    )?;
    println!("{}", study.summary());
    if let Some(e) = &study.error {
        eprintln!("error: the study did not finish: {e}");
    }
    Ok(study)
}

fn target(args: &CharacteriseArgs) -> anyhow::Result<Target> {
    if let Some(profile) = &args.mock {
        let loaded = Profile::load(profile).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(Target::mock(
            loaded,
            profile,
            args.bug.iter().copied().collect::<BugSet>(),
            args.seed,
            !args.real_time,
        ));
    }
    if let Some(addr) = &args.tcp {
        return Ok(Target::new(Transport::tcp(addr.clone())));
    }
    if let Some(port) = &args.port {
        let transport = Transport::for_port(port, args.baud)?;
        transport.check()?;
        return Ok(Target::new(transport));
    }
    bail!("say what to study: --mock PROFILE, --port PATH or --tcp HOST:PORT")
}

/// What the study was told, for the evidence.
fn settings(args: &CharacteriseArgs) -> Vec<(String, String)> {
    let list =
        |v: &Option<Vec<String>>, all: &str| v.as_ref().map_or(all.to_owned(), |l| l.join(", "));
    let mut out = vec![
        (
            "Depths (µm)".into(),
            list(
                &args
                    .depths
                    .as_ref()
                    .map(|d| d.iter().map(u16::to_string).collect()),
                "every declared step",
            ),
        ),
        (
            "Rates (Hz)".into(),
            list(
                &args
                    .rates
                    .as_ref()
                    .map(|r| r.iter().map(f64::to_string).collect()),
                "lowest, middle, highest declared",
            ),
        ),
        ("Strokes a point".into(), args.strokes.to_string()),
        ("Settling (ms)".into(), args.settle_ms.to_string()),
    ];
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
    if let Some(p) = &args.port {
        out.push(("Port".into(), format!("{p} at {} baud", args.baud)));
    }
    if let Some(t) = &args.tcp {
        out.push(("TCP".into(), t.clone()));
    }
    if let Some(r) = &args.reference {
        out.push(("Gauge reference".into(), r.display().to_string()));
    }
    out
}
