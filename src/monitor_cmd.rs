//! `penlab monitor`: a live pen's byte stream, decoded as it arrives.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use penlab_host::monitor::{self, MonitorEnd, MonitorOptions};

/// Arguments of `penlab monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The pen's serial port (`/dev/ttyACM0`, a UART bridge, a mock's PTY).
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
}

/// Exit code 0 when stopped (Ctrl-C or `--seconds`), 2 when the pen went
/// away mid-run; the capture keeps everything seen either way.
pub fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    let duration = match args.seconds {
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
    };
    let (end, summary) = monitor::run(&options, &mut std::io::stdout().lock())?;
    eprintln!(
        "{} frame(s), {} error(s), {} lost, {} duplicate(s), {} byte(s)",
        summary.frames, summary.errors, summary.lost, summary.duplicates, summary.bytes
    );
    Ok(match end {
        MonitorEnd::Stopped => ExitCode::SUCCESS,
        MonitorEnd::Disconnected => {
            eprintln!(
                "error: {} disconnected (pen unplugged or port closed)",
                options.port
            );
            ExitCode::from(2)
        }
    })
}
