//! `penlab sim`: the coverage simulator. Only headless runs exist so far:
//! a script in, a JSON report and a heatmap PNG out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use penlab_simulator::metrics;
use penlab_simulator::report::Report;
use penlab_simulator::script::Script;
use penlab_simulator::surfaces::BUILTIN_SURFACES;

/// Options of `penlab sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Run without a window or GPU (the only mode for now).
    #[arg(long)]
    headless: bool,
    /// Script to run (TOML; see simulator/README.md).
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Write the metrics as JSON here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the density heatmap with its legend as PNG here.
    #[arg(long, value_name = "FILE")]
    heatmap: Option<PathBuf>,
    /// Use this surface instead of the script's: a built-in name
    /// (flat-pad, curved-pad, forearm, face) or an .obj/.gltf/.glb file.
    #[arg(long, value_name = "NAME|PATH")]
    surface: Option<String>,
    /// Use this tool profile instead of the script's (e.g. pen-14, roller-192, stamp-35).
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Density grid texels per side (default 512).
    #[arg(long, value_name = "N")]
    grid: Option<u32>,
}

/// Runs `penlab sim`.
pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    if !args.headless {
        bail!(
            "the 3D view is not built yet (it arrives with the Bevy view); \
             run `penlab sim --headless --script FILE` for a report and heatmap"
        );
    }
    let Some(script_path) = &args.script else {
        bail!("--headless needs --script FILE (examples in simulator/scripts/)");
    };
    let mut script = Script::load(script_path)?;
    apply_overrides(&mut script, &args)?;
    let session = script.run()?;
    let analysis = metrics::analyse(&session, &script.spec.metrics)?;
    if let Some(path) = &args.report {
        let json =
            serde_json::to_string_pretty(&analysis.report).context("serialising the report")?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.heatmap {
        penlab_simulator::heatmap::write_png(&analysis, path)?;
    }
    let mut out = std::io::stdout().lock();
    let printed = print_summary(&mut out, &analysis.report).and_then(|()| {
        for (what, path) in [("report", &args.report), ("heatmap", &args.heatmap)] {
            if let Some(p) = path {
                writeln!(out, "{what:<13} {}", p.display())?;
            }
        }
        Ok(())
    });
    match printed {
        // A reader that stopped early (`| head`) is not a failure of the run.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the summary")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn apply_overrides(script: &mut Script, args: &SimArgs) -> anyhow::Result<()> {
    let spec = &mut script.spec;
    if let Some(surface) = &args.surface {
        if BUILTIN_SURFACES.contains(&surface.as_str()) {
            spec.surface.builtin = Some(surface.clone());
            spec.surface.mesh = None;
        } else {
            // A path on the command line is relative to where penlab runs.
            let path = std::env::current_dir()
                .context("reading the working directory")?
                .join(Path::new(surface));
            spec.surface.builtin = None;
            spec.surface.mesh = Some(path);
        }
    }
    if let Some(tool) = &args.tool {
        spec.tool.profile = tool.clone();
    }
    if let Some(grid) = args.grid {
        spec.surface.grid = grid;
    }
    Ok(())
}

fn print_summary(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let [lo, hi] = r.settings.band_per_cm2;
    writeln!(
        out,
        "{} on {}: {:.1} s, {} punctures from {} strikes",
        r.tool, r.surface, r.duration_s, r.punctures, r.strikes
    )?;
    writeln!(
        out,
        "coverage      {:.1} % of {:.2} cm² in {lo}–{hi} /cm²",
        r.coverage * 100.0,
        r.area.treatment_cm2
    )?;
    writeln!(
        out,
        "density       mean {:.0} /cm², evenness CV {:.3}",
        r.mean_density_per_cm2, r.evenness_cv
    )?;
    for (name, set) in [("gaps", &r.gaps), ("hot spots", &r.hot_spots)] {
        match set.largest.first() {
            Some(big) => writeln!(
                out,
                "{name:<13} {} ({:.2} cm²), largest {:.2} cm² at uv ({:.2}, {:.2}){}",
                set.count,
                set.total_area_cm2,
                big.area_cm2,
                big.centroid_uv.x,
                big.centroid_uv.y,
                big.zone
                    .as_ref()
                    .map(|z| format!(" in {z}"))
                    .unwrap_or_default()
            )?,
            None => writeln!(out, "{name:<13} none")?,
        }
    }
    let cells: Vec<_> = r
        .passes
        .regions
        .iter()
        .filter(|g| g.region.starts_with("cell"))
        .collect();
    writeln!(
        out,
        "passes        {} strokes, mean speed {:.0} mm/s, crosshatched in {}/{} cells",
        r.passes.strokes,
        r.passes.mean_speed_mm_s,
        cells.iter().filter(|g| g.crosshatch).count(),
        cells.len()
    )?;
    writeln!(
        out,
        "depth         mean {:.2} mm, max {:.2} mm, {} over a zone limit",
        r.depth.mean_mm, r.depth.max_mm, r.depth.violations
    )?;
    for z in r.depth.zones.iter().filter(|z| z.violations > 0) {
        writeln!(
            out,
            "  {:<11} {} of {} punctures deeper than {:.2} mm (max {:.2} mm)",
            z.zone,
            z.violations,
            z.punctures,
            z.limit_mm.unwrap_or(f32::INFINITY),
            z.max_mm
        )?;
    }
    Ok(())
}
