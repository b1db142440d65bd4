//! `penlab`: one command for the protocol tools, the mock pen, the
//! conformance harness and the coverage simulator.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod characterise_cmd;
mod decode_cmd;
mod evidence_args;
mod history_cmd;
mod history_db;
mod history_record;
mod mock_cmd;
mod monitor_cmd;
mod ports_cmd;
mod replay_cmd;
mod signals;
mod sim_cmd;
mod test_cmd;
mod trainee_cmd;
mod trainee_record;

/// Hardware-in-the-loop simulator and conformance harness for motorised
/// microneedling pens.
#[derive(Debug, Parser)]
#[command(name = "penlab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The accuracy study (21 CFR 878.4430(b)(2)(i)): every declared depth
    /// at several rates, N strokes each, judged against limits; CSV, JSON
    /// and plots.
    Characterise(characterise_cmd::CharacteriseArgs),
    /// Decode protocol bytes (hex on the command line, or a raw capture file)
    /// into frames and messages, one per line.
    Decode(decode_cmd::DecodeArgs),
    /// The runs recorded by `penlab test --db`, by device serial and
    /// firmware; `history diff A B` shows what changed between two.
    History(history_cmd::HistoryArgs),
    /// Run a mock pen that speaks the protocol
    Mock(mock_cmd::MockArgs),
    /// Watch a pen's serial port: every frame it sends, decoded, as it
    /// arrives; optionally captured to a file.
    Monitor(monitor_cmd::MonitorArgs),
    /// List this machine's serial ports with their USB IDs, serial numbers
    /// and products, and the `usb:VID:PID:SERIAL` address of each.
    Ports(ports_cmd::PortsArgs),
    /// Print a capture decoded frame by frame, optionally exporting it to
    /// pcapng for Wireshark and tshark.
    Replay(replay_cmd::ReplayArgs),
    /// Run conformance scenarios against a pen (real or mock) and report
    /// them: live, JUnit XML and a JSON record with traceability.
    Test(test_cmd::TestArgs),
    /// Run the coverage simulator
    Sim(sim_cmd::SimArgs),
    /// A trainee's progress from the sessions `penlab sim --headless --db`
    /// recorded: each session, per-skill trends and certification.
    Trainee(trainee_cmd::TraineeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A mock pen inside `penlab test` logs the faults and bugs the suite
    // provokes on purpose; only its errors belong in a test run's output.
    let default_filter = match cli.command {
        Command::Test(_) | Command::Characterise(_) => "warn,penlab_firmware_mock=error",
        _ => "warn",
    };
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PENLAB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Characterise(args) => characterise_cmd::run(args),
        Command::Decode(args) => decode_cmd::run(args),
        Command::History(args) => history_cmd::run(args),
        Command::Mock(args) => mock_cmd::run(args),
        Command::Monitor(args) => monitor_cmd::run(args),
        Command::Ports(args) => ports_cmd::run(args),
        Command::Replay(args) => replay_cmd::run(args),
        Command::Sim(args) => sim_cmd::run(args),
        Command::Test(args) => test_cmd::run(args),
        Command::Trainee(args) => trainee_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            // 2: usage or infrastructure error, as CI systems expect.
            ExitCode::from(2)
        }
    }
}
