//! `SHA256SUMS`: every file of the bundle with its SHA-256, in the format
//! `sha256sum -c` checks (`HASH  PATH`, paths relative to the bundle,
//! sorted).

use std::path::{Path, PathBuf};

use super::provenance::sha256_hex;

/// The manifest's file name.
pub const SHA256SUMS: &str = "SHA256SUMS";

/// Every file under `dir` (the manifest itself aside), relative, with `/`
/// separators, sorted.
pub fn files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let rel = rel.join("/");
                if rel != SHA256SUMS {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `SHA256SUMS` for every file under `dir`.
pub fn write(dir: &Path) -> std::io::Result<()> {
    let mut text = String::new();
    for rel in files(dir)? {
        let hash = sha256_hex(&std::fs::read(dir.join(&rel))?);
        text.push_str(&format!("{hash}  {rel}\n"));
    }
    std::fs::write(dir.join(SHA256SUMS), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_sorted_with_its_hash() {
        let dir = std::env::temp_dir().join(format!("penlab-manifest-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("captures")).unwrap();
        std::fs::write(dir.join("b.txt"), "abc").unwrap();
        std::fs::write(dir.join("captures/a.capture"), "").unwrap();
        write(&dir).unwrap();
        write(&dir).unwrap(); // again: the manifest does not list itself
        let text = std::fs::read_to_string(dir.join(SHA256SUMS)).unwrap();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b.txt\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  captures/a.capture\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
