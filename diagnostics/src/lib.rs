//! One way to report a mistake in a file a user handed us (a scenario, a
//! mock profile, a simulator script or recording, the tools and zones data,
//! a mesh): `file:line:column: message`, then the source line with a caret
//! under the place, rendered by `annotate-snippets` (the renderer rustc and
//! cargo use).
//!
//! ```text
//! depth.toml:13:3: `send`: unknown variant `set_dept`
//!    |
//! 13 |   { send = { set_dept = { depth_um = 500 } } },
//!    |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ here
//! ```
//!
//! Positions come from the parsers' own spans (`toml`'s `Spanned` values and
//! errors, `serde_json`'s line and column): [`Location::of_offset`] is the
//! only offset → line:column conversion in the project, and it counts
//! columns in characters.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// A place in a text file: `file:line:column`, 1-based, the column in
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file, as given.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// Where byte `offset` of `text` is (clamped to the text, and back to a
    /// character boundary).
    pub fn of_offset(file: impl Into<PathBuf>, text: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(text, offset);
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            file: file.into(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A mistake at a known place in a file.
///
/// `Display` writes `file:line:column: message` on the first line (so that
/// editors and CI logs can jump to it), then the source line with a caret.
/// [`SourceError::summary`] is the first line alone.
#[derive(Debug, Clone)]
pub struct SourceError {
    location: Location,
    text: Arc<str>,
    span: Range<usize>,
    message: String,
    label: Option<String>,
}

impl SourceError {
    /// A mistake at the bytes `span` of `text`, the contents of `file`.
    /// An empty span points at one character.
    pub fn new(
        file: impl Into<PathBuf>,
        text: impl Into<Arc<str>>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let text = text.into();
        let start = floor_char_boundary(&text, span.start);
        let end = floor_char_boundary(&text, span.end.max(start));
        SourceError {
            location: Location::of_offset(file, &text, start),
            span: start..end,
            text,
            message: message.into().trim().to_owned(),
            label: None,
        }
    }

    /// A mistake at 1-based `column` (in characters) of `line`, which is
    /// line `line_no` of `file`: for files read a line at a time, which
    /// keep only the line at hand.
    pub fn in_line(
        file: impl Into<PathBuf>,
        line_no: usize,
        line: &str,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let line = line.trim_end_matches(['\n', '\r']);
        let mut error = SourceError::at_line_column(file, line, 1, column, message);
        // The text is that one line: the snippet numbers it from here.
        error.location.line = line_no.max(1);
        error
    }

    /// A mistake at a 1-based `line` and `column` (in characters), as
    /// line-oriented parsers such as `serde_json` report them.
    pub fn at_line_column(
        file: impl Into<PathBuf>,
        text: impl Into<Arc<str>>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let text = text.into();
        let offset = offset_of(&text, line, column);
        SourceError::new(file, text, offset..offset, message)
    }

    /// A TOML parse or deserialisation error, at the span `toml` gives (the
    /// start of the file when it gives none).
    pub fn from_toml(
        file: impl Into<PathBuf>,
        text: impl Into<Arc<str>>,
        error: &toml::de::Error,
    ) -> Self {
        let span = error.span().unwrap_or(0..0);
        SourceError::new(file, text, span, error.message())
    }

    /// Adds a label under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Where the mistake is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The file.
    pub fn file(&self) -> &Path {
        &self.location.file
    }

    /// What is wrong, without the place.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte range of the mistake in the file's text.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The file line `text` starts at: 1 unless `text` is one line cut from
    /// a file read as a stream ([`SourceError::in_line`]).
    fn first_line(&self) -> usize {
        let line_in_text = self.text[..self.span.start].matches('\n').count() + 1;
        (self.location.line + 1).saturating_sub(line_in_text).max(1)
    }

    /// `file:line:column: message`, on one line.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.location, self.message)
    }

    /// The source line(s) with the caret, as `annotate-snippets` draws them
    /// (no colour).
    pub fn snippet(&self) -> String {
        // The caret covers the first line of a span that runs over several.
        let line_end = self.text[self.span.start..]
            .find('\n')
            .map_or(self.text.len(), |i| self.span.start + i);
        let mut end = self.span.end.min(line_end);
        if end == self.span.start {
            // An empty span: point at the character there (or just past the
            // end of the line).
            end = self.text[self.span.start..]
                .chars()
                .next()
                .filter(|c| *c != '\n')
                .map_or(self.span.start, |c| self.span.start + c.len_utf8());
        }
        let annotation = AnnotationKind::Primary
            .span(self.span.start..end)
            .label(self.label.as_deref());
        let report = &[Level::ERROR.no_name().primary_title("").element(
            Snippet::source(&*self.text)
                .line_start(self.first_line())
                .fold(true)
                .annotation(annotation),
        )];
        let rendered = Renderer::plain().render(report);
        // The empty title leaves a blank first line; the summary is ours.
        rendered.trim_start_matches('\n').trim_end().to_owned()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.summary(), self.snippet())
    }
}

impl std::error::Error for SourceError {}

/// The byte span of the value at `keys` (`["depth", "labelled_max_um"]`,
/// array items by their index as text) in TOML `text`, from `toml`'s own
/// spanned parse; `None` when the text does not parse or has no such key.
pub fn toml_value_span(text: &str, keys: &[&str]) -> Option<Range<usize>> {
    let root = toml::de::DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut value = &root;
    let mut span = 0..text.len();
    for key in keys {
        let next = match value {
            toml::de::DeValue::Table(table) => table.get(*key)?,
            toml::de::DeValue::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
        span = next.span();
        value = next.get_ref();
    }
    Some(span)
}

/// The byte span of the entry at `keys` in TOML `text`: from the start of
/// its (last) key to the end of its value (`max_um = 2500`), for a mistake
/// that is about the setting as a whole. Array items, which have no key,
/// give the item's span. `None` as for [`toml_value_span`].
pub fn toml_entry_span(text: &str, keys: &[&str]) -> Option<Range<usize>> {
    let (last, parents) = keys.split_last()?;
    let value = toml_value_span(text, keys)?;
    let root = toml::de::DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut parent = &root;
    for key in parents {
        parent = match parent {
            toml::de::DeValue::Table(table) => table.get(*key)?.get_ref(),
            toml::de::DeValue::Array(items) => items.get(key.parse::<usize>().ok()?)?.get_ref(),
            _ => return None,
        };
    }
    match parent {
        toml::de::DeValue::Table(table) => {
            let (key, _) = table.get_key_value(*last)?;
            Some(key.span().start.min(value.start)..value.end)
        }
        _ => Some(value),
    }
}

/// The keys leading to the innermost key or value of TOML `text` that holds
/// byte `offset` (`["depth", "max_um"]`; array items by their index as text),
/// from `toml`'s own spanned parse. Empty when the text does not parse or
/// the offset is outside every entry.
pub fn toml_keys_at(text: &str, offset: usize) -> Vec<String> {
    use toml::de::DeValue;
    // Tables opened by a `[header]` span only the header, so an entry can
    // sit outside its table's span: search inside every table and array.
    fn find(value: &DeValue<'_>, offset: usize) -> Option<Vec<String>> {
        // (name, key span, value) of each entry or item.
        type Child<'a, 'b> = (String, Option<Range<usize>>, &'b toml::Spanned<DeValue<'a>>);
        let children: Vec<Child<'_, '_>> = match value {
            DeValue::Table(table) => table
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), Some(k.span()), v))
                .collect(),
            DeValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), None, v))
                .collect(),
            _ => return None,
        };
        for (name, key_span, child) in children {
            let here =
                key_span.is_some_and(|k| k.contains(&offset)) || child.span().contains(&offset);
            let inner = find(child.get_ref(), offset);
            if here || inner.is_some() {
                let mut path = vec![name];
                path.extend(inner.unwrap_or_default());
                return Some(path);
            }
        }
        None
    }
    let Ok(table) = toml::de::DeTable::parse(text) else {
        return Vec::new();
    };
    find(&DeValue::Table(table.into_inner()), offset).unwrap_or_default()
}

/// The byte offset of 1-based `line` and `column` (characters), clamped to
/// the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = &text[line_start..];
    let line_len = rest.find('\n').unwrap_or(rest.len());
    line_start
        + rest[..line_len]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_len, |(i, _)| i)
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[suite]\ntitle = \"Dépth\"\n\n[[test]]\nid = \"x\"\nstat = 3\n";

    #[test]
    fn a_line_from_a_stream_keeps_its_number() {
        let e = SourceError::in_line("rec.jsonl", 4_000_000, "{\"t\":x}\n", 6, "expected value");
        assert_eq!(e.summary(), "rec.jsonl:4000000:6: expected value");
        let text = e.to_string();
        assert!(text.contains("4000000 | {\"t\":x}"), "{text}");
        assert!(text.contains('^'), "{text}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let offset = TEXT.find("\"\n").unwrap();
        let at = Location::of_offset("f.toml", TEXT, offset);
        // `title = "Dépth` is 14 characters but 15 bytes.
        assert_eq!((at.line, at.column), (2, 15));
        assert_eq!(at.to_string(), "f.toml:2:15");
    }

    #[test]
    fn display_has_the_location_the_line_and_a_caret() {
        let start = TEXT.find("stat").unwrap();
        let e = SourceError::new("t.toml", TEXT, start..start + 4, "unknown field `stat`")
            .with_label("not a field of Status");
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[0], "t.toml:6:1: unknown field `stat`");
        assert!(shown.contains("6 | stat = 3"), "{shown}");
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        assert!(caret.ends_with("^^^^ not a field of Status"), "{shown}");
        // The caret sits under `stat`.
        let source = lines.iter().find(|l| l.contains("stat = 3")).unwrap();
        assert_eq!(caret.find('^'), source.find("stat"), "{shown}");
    }

    #[test]
    fn an_empty_span_points_at_one_character() {
        let e = SourceError::at_line_column("r.jsonl", "{}\n{\"t\": x}\n", 2, 7, "expected value");
        assert_eq!(e.summary(), "r.jsonl:2:7: expected value");
        let shown = e.to_string();
        let source = shown.lines().find(|l| l.contains("{\"t\": x}")).unwrap();
        let caret = shown.lines().find(|l| l.contains('^')).unwrap();
        assert_eq!(caret.find('^'), source.find('x'), "{shown}");
    }

    #[test]
    fn toml_errors_keep_toml_s_span() {
        let text = "a = 1\nb = [1, 2\n";
        let err = toml::from_str::<toml::Table>(text).unwrap_err();
        let e = SourceError::from_toml("x.toml", text, &err);
        assert_eq!(e.location().line, 2, "{e}");
        assert!(e.to_string().contains("2 | b = [1, 2"), "{e}");
    }

    #[test]
    fn value_spans_by_key_path() {
        let text =
            "[depth]\nmin_um = 0\nmax_um = 2500\n[[test]]\nid = \"a\"\n[[test]]\nid = \"b\"\n";
        let span = toml_value_span(text, &["depth", "max_um"]).unwrap();
        assert_eq!(&text[span], "2500");
        let span = toml_value_span(text, &["test", "1", "id"]).unwrap();
        assert_eq!(&text[span], "\"b\"");
        assert_eq!(toml_value_span(text, &["depth", "nope"]), None);
        assert_eq!(toml_value_span("= broken", &["a"]), None);
    }

    const PROFILE: &str = "[depth]\nmin_um = 0\nmax_um = 2500\n\n[rate]\nlimits = { lo = 1, hi = 2 }\n[[test]]\nid = \"a\"\n[[test]]\nid = \"b\"\n";

    #[test]
    fn entry_spans_run_from_the_key_to_the_value() {
        let span = toml_entry_span(PROFILE, &["depth", "max_um"]).unwrap();
        assert_eq!(&PROFILE[span], "max_um = 2500");
        let span = toml_entry_span(PROFILE, &["rate", "limits", "hi"]).unwrap();
        assert_eq!(&PROFILE[span], "hi = 2");
        assert_eq!(toml_entry_span(PROFILE, &["depth", "nope"]), None);
    }

    #[test]
    fn keys_at_an_offset_follow_headers_inline_tables_and_arrays() {
        let at = |needle: &str| toml_keys_at(PROFILE, PROFILE.find(needle).unwrap());
        assert_eq!(at("2500"), ["depth", "max_um"]);
        assert_eq!(at("max_um"), ["depth", "max_um"]);
        assert_eq!(at("[depth]"), ["depth"]);
        assert_eq!(at("hi = 2"), ["rate", "limits", "hi"]);
        assert_eq!(at("\"b\""), ["test", "1", "id"]);
        assert!(toml_keys_at("= broken", 0).is_empty());
    }
}
