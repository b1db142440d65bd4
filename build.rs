//! Tells the `penlab` binary which commit it was built from
//! (`PENLAB_GIT_HASH`, `unknown` outside a git checkout), for the
//! provenance of evidence bundles.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let hash = git(&["rev-parse", "HEAD"]).map(|hash| {
        // Uncommitted changes to tracked files: the commit alone does not
        // say what was built.
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
        if dirty { format!("{hash}-dirty") } else { hash }
    });
    println!(
        "cargo:rustc-env=PENLAB_GIT_HASH={}",
        hash.as_deref().unwrap_or("unknown")
    );
    // Rebuilt when the checked-out commit moves (HEAD, or the branch it
    // names) or the index changes.
    for path in ["HEAD", "index"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
