//! `penlab monitor`: a live pen's byte stream, decoded as it arrives.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use penlab_host::monitor::{self, MonitorEnd, MonitorOptions};

/// Arguments of `penlab monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The pen: a serial port (`/dev/ttyACM0`, a UART bridge, a mock's
    /// PTY), `usb:VID:PID[:SERIAL]` (see `penlab ports`),
    /// `socket://HOST:PORT` or `rfc2217://HOST:PORT` (ser2net, labgrid).
    port: String,
    /// Line speed for UART bridges (USB CDC-ACM pens ignore it).
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Also write every byte received, timestamped, to this capture file
    /// (replay it with `penlab replay`).
    #[arg(long, value_name = "FILE")]
    capture: Option<PathBuf>,
    /// One JSON object a line instead of text.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds instead of at Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    seconds: Option<f64>,
    /// When the pen goes away (unplugged, reset, its PTY or exporter
    /// restarted), wait this long for it to come back, e.g. `30s`, `2m`,
    /// then go on; the gap is marked in the output and the capture. A
    /// `usb:` address is looked up afresh each try. Without it the run ends
    /// when the pen goes.
    #[arg(long, value_name = "DURATION", value_parser = parse_wait)]
    reattach: Option<Duration>,
}

/// A `--reattach` wait (`30s`, `2m`): longer than zero.
pub(crate) fn parse_wait(text: &str) -> Result<Duration, String> {
    let wait = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 30s, 2m)"))?;
    if wait.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(wait)
}

/// The longest `--seconds`: a deadline that far ahead still fits the
/// clock's arithmetic (adding 1e20 s to an `Instant` would panic).
const MAX_SECONDS: f64 = 100.0 * 365.25 * 24.0 * 3600.0;

/// Exit code 0 when stopped (Ctrl-C or `--seconds`), 2 when the pen went
/// away mid-run (and did not come back within `--reattach`); the capture
/// keeps everything seen either way.
pub fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    let duration = match args.seconds {
        Some(s) if s > MAX_SECONDS => anyhow::bail!(
            "--seconds {s} is too long: at most {MAX_SECONDS} (a hundred years); leave it out to run until Ctrl-C"
        ),
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => anyhow::bail!("--seconds must be a positive number, not {s}"),
        None => None,
    };
    let options = MonitorOptions {
        port: args.port,
        baud: args.baud,
        capture: args.capture,
        json: args.json,
        duration,
        reattach: args.reattach,
    };
    let (end, summary) = monitor::run(&options, &mut std::io::stdout().lock())?;
    let reattached = match summary.reattached {
        0 => String::new(),
        n => format!(", reattached {n} time(s)"),
    };
    eprintln!(
        "{} frame(s), {} error(s), {} lost, {} duplicate(s), {} byte(s){reattached}",
        summary.frames, summary.errors, summary.lost, summary.duplicates, summary.bytes
    );
    Ok(match end {
        MonitorEnd::Stopped => ExitCode::SUCCESS,
        MonitorEnd::Disconnected => {
            let waited = match options.reattach {
                Some(within) => format!(" and did not come back within {within:?}"),
                None => String::new(),
            };
            eprintln!(
                "error: {} disconnected (pen unplugged or port closed){waited}",
                options.port
            );
            ExitCode::from(2)
        }
    })
}
