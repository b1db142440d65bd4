//! `REQUIREMENTS.md` lists exactly the requirement identifiers `PROTOCOL.md`
//! defines, each once, with the key word the statement carries, and its
//! totals are right.

use std::collections::BTreeMap;

const SPEC: &str = include_str!("../PROTOCOL.md");
const LIST: &str = include_str!("../REQUIREMENTS.md");

/// Identifiers defined in the spec (written bold, `**[R-…]**`), in order.
fn defined() -> Vec<String> {
    SPEC.match_indices("**[R-")
        .map(|(at, _)| {
            let rest = &SPEC[at + 3..];
            rest[..rest.find(']').expect("a closing bracket")].to_owned()
        })
        .collect()
}

/// `ID -> level` from the table of `REQUIREMENTS.md`.
fn listed() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in LIST.lines().filter(|l| l.starts_with("| R-")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let previous = out.insert(cells[1].to_owned(), cells[2].to_owned());
        assert!(previous.is_none(), "{} listed twice", cells[1]);
    }
    out
}

#[test]
fn every_identifier_is_defined_once_and_listed() {
    let defined = defined();
    let listed = listed();
    let mut seen = std::collections::BTreeSet::new();
    for id in &defined {
        assert!(seen.insert(id), "{id} defined twice in PROTOCOL.md");
        assert!(listed.contains_key(id), "{id} missing from REQUIREMENTS.md");
    }
    for id in listed.keys() {
        assert!(seen.contains(id), "{id} listed but not defined");
    }
    // Every reference names a defined requirement.
    for (at, _) in SPEC.match_indices("[R-") {
        let rest = &SPEC[at + 1..];
        let id = &rest[..rest.find(']').unwrap()];
        assert!(seen.contains(&id.to_owned()), "reference to unknown {id}");
    }
}

#[test]
fn levels_match_the_text_and_the_totals() {
    let listed = listed();
    // The statement of each identifier runs to the next identifier or the
    // end of its paragraph; its strongest key word must be the listed one
    // (rows of the table in §7 bind by the MUST of the sentence above it).
    let ids: Vec<(usize, String)> = SPEC
        .match_indices("**[R-")
        .map(|(at, _)| {
            let rest = &SPEC[at + 3..];
            (at, rest[..rest.find(']').unwrap()].to_owned())
        })
        .collect();
    for (i, (at, id)) in ids.iter().enumerate() {
        let end = ids.get(i + 1).map_or(SPEC.len(), |(next, _)| *next);
        let text = &SPEC[*at..end];
        let text = &text[..text.find("\n\n").unwrap_or(text.len())];
        let level = &listed[id];
        let in_table = text.starts_with(&format!("**[{id}]** |"));
        if in_table {
            assert!(level.starts_with("MUST"), "{id}: a row of §7 is {level}");
            continue;
        }
        let bare_must = text
            .match_indices("MUST")
            .any(|(k, _)| !text[k..].starts_with("MUST NOT"));
        let ok = match level.as_str() {
            "MUST" => bare_must,
            "MUST NOT" => text.contains("MUST NOT"),
            "SHOULD" => text.contains("SHOULD") && !text.contains("MUST"),
            other => panic!("{id}: unknown level {other}"),
        };
        assert!(ok, "{id} is listed as {level}, but says: {text}");
    }
    let must = listed.values().filter(|l| l.starts_with("MUST")).count();
    let should = listed.values().filter(|l| l.starts_with("SHOULD")).count();
    let totals = format!(
        "{} requirements: {must} MUST / MUST NOT, {should} SHOULD.",
        listed.len()
    );
    assert!(
        LIST.contains(&totals),
        "REQUIREMENTS.md should say: {totals}"
    );
}
