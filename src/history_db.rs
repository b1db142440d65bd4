//! What `penlab history` and `penlab trainee` share: opening the history
//! database the user named, and printing a table of plain columns.

use std::path::Path;

use penlab_store::Store;

/// Opens the history at `db` (`--db FILE` or `PENLAB_DB`), refusing to make
/// a new one: these commands read, and `made_by` says what writes it.
pub fn open_existing<'a>(db: Option<&'a Path>, made_by: &str) -> anyhow::Result<(Store, &'a Path)> {
    let Some(path) = db else {
        anyhow::bail!("say which history: --db FILE or PENLAB_DB=FILE");
    };
    if !path.exists() {
        anyhow::bail!("{}: no such history ({made_by} makes it)", path.display());
    }
    Ok((Store::open(path)?, path))
}

/// Prints rows as left-aligned columns two spaces apart; a short row
/// leaves its last columns empty.
pub fn print_table<R: AsRef<[String]>>(rows: &[R]) {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.as_ref().get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let cells: Vec<String> = r
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}
