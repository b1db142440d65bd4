//! The protocol's requirement identifiers (`protocol/REQUIREMENTS.md`),
//! for the evidence's requirement → test → result matrix.

use penlab_protocol::REQUIREMENTS_MD;

/// One row of `REQUIREMENTS.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// `R-FRAME-3`.
    pub id: &'static str,
    /// `MUST`, `SHOULD`…
    pub level: &'static str,
    /// The one-line summary.
    pub summary: &'static str,
}

/// Every requirement of the table, in its order.
pub fn protocol_requirements() -> Vec<Requirement> {
    REQUIREMENTS_MD
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [id, level, _who, _section, summary, ..] if id.starts_with("R-") => {
                    Some(Requirement { id, level, summary })
                }
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_as_its_header_counts_it() {
        let all = protocol_requirements();
        // "104 requirements: 101 MUST / MUST NOT, 3 SHOULD."
        assert_eq!(all.len(), 104);
        assert_eq!(all[0].id, "R-LINK-1");
        assert_eq!(all[0].level, "MUST");
        assert!(all[0].summary.starts_with("On USB CDC-ACM"));
        assert_eq!(
            all.iter().filter(|r| r.level.starts_with("SHOULD")).count(),
            3
        );
    }
}
