use super::*;

#[test]
fn builtin_profiles_parse_and_match_the_issue() {
    for (name, text) in BUILTIN {
        Profile::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
    }
    let skin = Profile::builtin("skinpen-like").unwrap().capabilities();
    assert_eq!(
        (
            skin.needle_count,
            skin.depth_min_um,
            skin.depth_max_um,
            skin.depth_step_um
        ),
        (14, 0, 2_500, 250)
    );
    assert_eq!(
        (skin.rate_min_chz, skin.rate_max_chz, skin.rate_step_chz),
        (11_700, 11_700, 0)
    );
    let derma = Profile::builtin("dermapen4-like").unwrap().capabilities();
    assert_eq!(
        (
            derma.needle_count,
            derma.depth_min_um,
            derma.depth_max_um,
            derma.depth_step_um
        ),
        (16, 200, 3_000, 100)
    );
    assert!(derma.rate_step_chz > 0 && derma.rate_max_chz > derma.rate_min_chz);
    let exceed = Profile::builtin("exceed-like").unwrap().capabilities();
    assert_eq!(
        (
            exceed.needle_count,
            exceed.depth_min_um,
            exceed.depth_max_um
        ),
        (6, 0, 1_900)
    );
    assert_eq!((exceed.rate_min_chz, exceed.rate_max_chz), (10_000, 15_000));
}

fn skin_text() -> &'static str {
    BUILTIN[0].1
}

#[test]
fn semantic_error_names_field_and_location() {
    let text = skin_text().replace("step_um = 250", "step_um = 300");
    let err = Profile::parse(&text, "my.toml").unwrap_err();
    assert_eq!(err.field, "depth.max_um");
    let (line, col) = err.location.unwrap();
    assert_eq!(text.lines().nth(line - 1).unwrap().trim(), "max_um = 2500");
    assert_eq!(col, 1);
    assert!(
        err.to_string()
            .starts_with(&format!("my.toml:{line}:1: field `depth.max_um`"))
    );
}

/// The source line of `shown` holding `source`, and the caret line under it.
fn caret_under(shown: &str, source: &str) -> (usize, usize) {
    let lines: Vec<&str> = shown.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with(source))
        .unwrap_or_else(|| panic!("no line {source:?} in\n{shown}"));
    let caret = lines[at + 1];
    (
        caret.find('^').expect("a caret"),
        lines[at].find(source).unwrap(),
    )
}

#[test]
fn a_mistake_shows_file_line_column_the_line_and_a_caret() {
    // An out-of-range value: the caret under the setting.
    let text = skin_text().replace("labelled_max_um = 1500", "labelled_max_um = 9000");
    let shown = Profile::parse(&text, "pen.toml").unwrap_err().to_string();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("labelled_max_um"))
        .unwrap();
    assert!(
        shown.starts_with(&format!(
            "pen.toml:{line}:1: field `depth.labelled_max_um`: "
        )),
        "{shown}"
    );
    let (caret, column) = caret_under(&shown, "labelled_max_um = 9000");
    assert_eq!(caret, column, "{shown}");
    // A typo in a key: the caret under the key, from toml's own span.
    let text = skin_text().replace("needle_count = 14", "neede_count = 14");
    let shown = Profile::parse(&text, "pen.toml").unwrap_err().to_string();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("neede_count"))
        .unwrap();
    assert!(
        shown.starts_with(&format!(
            "pen.toml:{line}:1: field `cartridge.neede_count`: unknown field"
        )),
        "{shown}"
    );
    let (caret, column) = caret_under(&shown, "neede_count = 14");
    assert_eq!(caret, column, "{shown}");
    // A wrong type: the caret under the value.
    let text = skin_text().replace("needle_count = 14", "needle_count = \"many\"");
    let shown = Profile::parse(&text, "pen.toml").unwrap_err().to_string();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("needle_count"))
        .unwrap();
    assert!(
        shown.starts_with(&format!("pen.toml:{line}:16: ")),
        "{shown}"
    );
    let (caret, column) = caret_under(&shown, "needle_count = \"many\"");
    assert_eq!(caret, column + "needle_count = ".len(), "{shown}");
}

#[test]
fn type_error_names_field_and_location() {
    let text = skin_text().replace("needle_count = 14", "needle_count = \"many\"");
    let err = Profile::parse(&text, "p.toml").unwrap_err();
    assert_eq!(err.field, "cartridge.needle_count");
    let (line, _) = err.location.unwrap();
    assert!(text.lines().nth(line - 1).unwrap().contains("needle_count"));
}

#[test]
fn out_of_range_integer_names_field() {
    let text = skin_text().replace("max_um = 2500", "max_um = 70000");
    let err = Profile::parse(&text, "p.toml").unwrap_err();
    assert_eq!(err.field, "depth.max_um", "{err}");
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let text = skin_text().replace("labelled_max_um = 1500\n", "");
    let err = Profile::parse(&text, "p.toml").unwrap_err();
    assert_eq!(err.field, "depth.labelled_max_um", "{err}");
    let text = skin_text().replace("[rate]\n", "[rate]\nspeed = 3\n");
    let err = Profile::parse(&text, "p.toml").unwrap_err();
    assert_eq!(err.field, "rate.speed", "{err}");
    assert!(err.location.is_some());
}

#[test]
fn fixed_rate_needs_equal_bounds_and_watchdog_floor() {
    let text = skin_text().replace("max_chz = 11700", "max_chz = 12000");
    assert_eq!(
        Profile::parse(&text, "p").unwrap_err().field,
        "rate.step_chz"
    );
    let text = skin_text().replace("watchdog_timeout_ms = 1000", "watchdog_timeout_ms = 500");
    assert_eq!(
        Profile::parse(&text, "p").unwrap_err().field,
        "timing.watchdog_timeout_ms"
    );
}

#[test]
fn load_reads_a_user_file() {
    let path = std::env::temp_dir().join(format!("penlab-profile-{}.toml", std::process::id()));
    let text = skin_text().replace("needle_count = 14", "needle_count = 36");
    std::fs::write(&path, text).unwrap();
    let profile = Profile::load(path.to_str().unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(profile.capabilities().needle_count, 36);
    assert_eq!(profile.identity().model.as_str(), "penlab-mock-14");
}

#[test]
fn load_unknown_name_lists_builtins() {
    let err = Profile::load("no-such-pen-profile").unwrap_err();
    assert!(err.message.contains("skinpen-like"), "{err}");
}
