//! `penlab`: one command for the protocol tools, the mock pen, the
//! conformance harness and the coverage simulator.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode_cmd;
mod mock_cmd;
mod monitor_cmd;
mod replay_cmd;
mod sim_cmd;

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
    /// Decode protocol bytes (hex on the command line, or a raw capture file)
    /// into frames and messages, one per line.
    Decode(decode_cmd::DecodeArgs),
    /// Run a mock pen that speaks the protocol
    Mock(mock_cmd::MockArgs),
    /// Watch a pen's serial port: every frame it sends, decoded, as it
    /// arrives; optionally captured to a file.
    Monitor(monitor_cmd::MonitorArgs),
    /// Print a capture decoded frame by frame, optionally exporting it to
    /// pcapng for Wireshark and tshark.
    Replay(replay_cmd::ReplayArgs),
    /// Run the coverage simulator
    Sim(sim_cmd::SimArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PENLAB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode_cmd::run(args),
        Command::Mock(args) => mock_cmd::run(args),
        Command::Monitor(args) => monitor_cmd::run(args),
        Command::Replay(args) => replay_cmd::run(args),
        Command::Sim(args) => sim_cmd::run(args),
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
