//! `penlab mock`: a mock pen that speaks the protocol on a pseudo-terminal
//! (like a USB serial pen) or on TCP, until interrupted.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use penlab_firmware_mock::bugs::PlantedBug;
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::env;
use penlab_firmware_mock::link::{LinkFaults, StallHook, StallReads};
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{Mock, MockConfig, RunEnd};
use penlab_firmware_mock::transcript::{Recorded, TranscriptFile};
use penlab_firmware_mock::transport::{LineHold, Pty};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Arguments of `penlab mock`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Device profile: a built-in name (skinpen-like, dermapen4-like,
    /// exceed-like, dermapen4-busy) or the path of a TOML profile.
    #[arg(long, value_name = "NAME|PATH")]
    profile: String,
    /// Serve on a new pseudo-terminal (the default); its path is the first
    /// line on standard output.
    #[arg(long, conflicts_with = "tcp")]
    pty: bool,
    /// With `--pty`: also make a symlink to the pseudo-terminal at PATH, as
    /// socat's `link=` does; removed on exit.
    #[arg(long, value_name = "PATH", conflicts_with = "tcp")]
    link: Option<PathBuf>,
    /// Serve on TCP at ADDR instead, one host at a time; the bound address
    /// is the first line on standard output.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<String>,
    /// Serve the environment channel (JSON lines, see
    /// firmware-mock/README.md) on TCP at ADDR; printed as `env ADDR`.
    #[arg(long, value_name = "ADDR")]
    env: Option<String>,
    /// Seed of the pen's noise and of the link faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Plant a bug (repeatable), e.g. late-ack, hello-keeps-motor,
    /// slow-batches; firmware-mock/README.md lists all of them, and an
    /// unknown name is refused with the list.
    #[arg(long = "bug", value_name = "NAME")]
    bugs: Vec<PlantedBug>,
    /// Link faults, e.g.
    /// `drop=0.001,flip=0.0005,dup=0,delay-ms=0,jitter-ms=0,disconnect-after=N`;
    /// `stall-after=N,stall-for-ms=M`: stop reading after N host frames,
    /// for M ms (or for good), holding a PTY host's line meanwhile.
    #[arg(long, value_name = "SPEC")]
    link_faults: Option<LinkFaults>,
    /// Write every byte the pen reads and writes to FILE as it goes, with
    /// its time (see firmware-mock/README.md).
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// Power up with no cartridge fitted.
    #[arg(long)]
    no_cartridge: bool,
}

/// Runs the mock until Ctrl-C or SIGTERM (or a `disconnect-after` link
/// fault on a pseudo-terminal).
pub fn run(args: MockArgs) -> anyhow::Result<ExitCode> {
    let profile = Profile::load(&args.profile).map_err(|e| anyhow!(e))?;
    let mut device = DeviceConfig::new(profile);
    device.seed = args.seed;
    device.bugs = args.bugs.iter().copied().collect();
    if args.no_cartridge {
        device.initial_cartridge = None;
    }
    let mut config = MockConfig::new(device);
    if let Some(faults) = &args.link_faults {
        config.link = faults.clone();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, config))
}

async fn shutdown() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// The pen's end of a link with the stall fault and the transcript file
/// applied: `hold` holds a PTY host's line while the pen does not read.
fn pen_end<S>(
    stream: S,
    faults: &LinkFaults,
    transcript: Option<&Arc<TranscriptFile>>,
    hold: Option<LineHold>,
) -> Recorded<StallReads<S>> {
    let noted = transcript.cloned();
    let hook: StallHook = Box::new(move |stalled| {
        if let Some(hold) = &hold
            && let Err(e) = hold.set(stalled)
        {
            tracing::warn!(error = %e, "could not hold the host's line");
        }
        if let Some(file) = &noted {
            file.note(if stalled {
                "link fault: the pen stops reading"
            } else {
                "link fault: the pen reads again"
            });
        }
    });
    Recorded::new(
        StallReads::new(stream, faults, Some(hook)),
        transcript.cloned(),
    )
}

async fn serve(args: MockArgs, config: MockConfig) -> anyhow::Result<ExitCode> {
    let stop = shutdown();
    tokio::pin!(stop);
    let transcript = args
        .transcript
        .as_deref()
        .map(|path| {
            TranscriptFile::create(path)
                .with_context(|| format!("creating the transcript {}", path.display()))
        })
        .transpose()?;
    let faults = config.link.clone();
    let (env_handle, env_rx) = env::channel();
    for bug in config.device.bugs.iter() {
        tracing::warn!(%bug, "planted bug");
    }
    tracing::info!(
        model = %config.device.profile.identity.model,
        seed = config.device.seed,
        link_faults = %config.link,
        "mock pen powered up"
    );
    let mut mock = Mock::new(config).with_env(env_rx);
    let tcp = match &args.tcp {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            say(&listener.local_addr()?.to_string())?;
            Some(listener)
        }
        None => None,
    };
    let pty = match tcp {
        Some(_) => None,
        None => {
            let pty = Pty::open(args.link.as_deref()).context("opening a pseudo-terminal")?;
            say(&pty.path().display().to_string())?;
            match pty.link() {
                Some(link) => {
                    tracing::info!(pty = %pty.path().display(), link = %link.display(), "serving on a pseudo-terminal")
                }
                None => tracing::info!(pty = %pty.path().display(), "serving on a pseudo-terminal"),
            }
            Some(pty)
        }
    };
    // Without `--env` the handle is kept here, so the mock never sees its
    // environment channel close.
    let _env_handle = if let Some(addr) = &args.env {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the environment channel to {addr}"))?;
        say(&format!("env {}", listener.local_addr()?))?;
        tokio::spawn(async move {
            if let Err(e) = env::serve_tcp(listener, env_handle).await {
                tracing::error!(error = %e, "environment channel stopped");
            }
        });
        None
    } else {
        Some(env_handle)
    };

    if let Some(mut pty) = pty {
        let hold = pty.line_hold();
        let link = pen_end(&mut pty.master, &faults, transcript.as_ref(), Some(hold));
        tokio::select! {
            end = mock.run(link) => match end.context("pseudo-terminal")? {
                RunEnd::Disconnected { frames } => {
                    tracing::warn!(frames, "link fault: disconnected; exiting");
                }
                RunEnd::HostClosed => tracing::info!("pseudo-terminal closed"),
            },
            r = &mut stop => r.context("waiting for a signal")?,
        }
        // Dropping the pseudo-terminal removes the symlink.
        drop(pty);
        tracing::info!("mock pen stopped");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(listener) = tcp else {
        return Ok(ExitCode::SUCCESS);
    };
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => accepted.context("accepting a host")?,
            r = &mut stop => {
                r.context("waiting for a signal")?;
                break;
            }
        };
        tracing::info!(%peer, "host connected");
        socket.set_nodelay(true)?;
        tokio::select! {
            end = mock.run(pen_end(socket, &faults, transcript.as_ref(), None)) => match end {
                Ok(end) => tracing::info!(%peer, ?end, "host link ended"),
                Err(e) => tracing::warn!(%peer, error = %e, "host link failed"),
            },
            r = &mut stop => {
                r.context("waiting for a signal")?;
                break;
            }
        }
    }
    tracing::info!("mock pen stopped");
    Ok(ExitCode::SUCCESS)
}
