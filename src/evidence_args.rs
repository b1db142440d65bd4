//! `--evidence DIR` and `--operator`, shared by `penlab test` and
//! `penlab characterise`: the provenance of an evidence bundle.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::Args;
use penlab_harness::evidence::provenance::{self, FileHash, Provenance};

/// Where the evidence goes and who ran it.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Write an evidence bundle into this directory: the reports, captures,
    /// an HTML report with provenance, requirement matrix and anomalies,
    /// and a SHA256SUMS manifest.
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Who runs it, for the evidence (default: the login name).
    #[arg(long, value_name = "NAME", env = "PENLAB_OPERATOR")]
    pub operator: Option<String>,
}

impl EvidenceArgs {
    /// `DIR/name` in the bundle, when one is asked for.
    pub fn in_bundle(&self, name: &str) -> Option<PathBuf> {
        self.evidence.as_ref().map(|d| d.join(name))
    }

    /// Where a run writes the report `name` that `--junit`-like options
    /// also ask for: into the bundle when there is one (and copied to
    /// `given` afterwards by [`EvidenceArgs::copy_out`]), else to `given`.
    pub fn output(&self, given: &Option<PathBuf>, name: &str) -> Option<PathBuf> {
        self.in_bundle(name).or_else(|| given.clone())
    }

    /// Copies the bundle's `name` (a file, or a directory of files) to
    /// `given`, when both a bundle and `given` were asked for.
    pub fn copy_out(&self, given: &Option<PathBuf>, name: &str) -> anyhow::Result<()> {
        let (Some(from), Some(to)) = (self.in_bundle(name), given) else {
            return Ok(());
        };
        if from.is_dir() {
            std::fs::create_dir_all(to)?;
            for entry in std::fs::read_dir(&from)? {
                let entry = entry?;
                std::fs::copy(entry.path(), to.join(entry.file_name()))?;
            }
        } else if from.exists() {
            std::fs::copy(&from, to)?;
        }
        Ok(())
    }

    /// Makes the bundle's directory; refuses one that already holds files,
    /// so that no earlier evidence is mixed in or overwritten.
    pub fn prepare(&self) -> anyhow::Result<()> {
        let Some(dir) = &self.evidence else {
            return Ok(());
        };
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            anyhow::bail!(
                "{}: not empty; an evidence bundle goes into a new or empty directory",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir)?;
        Ok(())
    }

    /// The provenance of a run that started at `started` and ends now.
    pub fn provenance(
        &self,
        started: SystemTime,
        settings: Vec<(String, String)>,
        scenarios: &[&Path],
    ) -> anyhow::Result<Provenance> {
        let scenarios = scenarios
            .iter()
            .map(|p| FileHash::of(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Provenance {
            tool: format!("penlab {}", env!("CARGO_PKG_VERSION")),
            git_hash: env!("PENLAB_GIT_HASH").to_owned(),
            host: provenance::host_name(),
            os: provenance::os_description(),
            operator: self
                .operator
                .clone()
                .unwrap_or_else(provenance::default_operator),
            started: provenance::rfc3339(started),
            ended: provenance::rfc3339(SystemTime::now()),
            settings,
            scenarios,
        })
    }
}
