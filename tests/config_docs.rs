//! The configuration is listed in three places that must agree: the code that reads it (`src/`, in practice
//! `src/config/`), the table in `docs/configuration.md` and `.env.example`. These tests read all three as text and
//! name every variable missing from one of them. They start no server and need only `std`.
//!
//! What counts as a variable the code reads:
//! - a complete string literal `"AUTH_…"` (capitals, digits, underscores) in the `warden` package's own code under
//!   `src/`. Every `AUTH_*` setting is read through `Settings::from_lookup` by its literal name, and error messages
//!   name the variable by the same literal. Comment lines (`//`, `///`, `//!`) are skipped, so doc text is not
//!   scanned; text that only mentions a name inside a longer literal (`"required when AUTH_X is …"`) does not
//!   match, because the quote must close right after the name.
//! - `#[cfg(test)]` items are skipped: tests build settings from literal names too, and also use prefixes such as
//!   `"AUTH_VAULT"` to check error messages.
//! - A literal that ends in `_` (such as `"AUTH_VAULT_"`) is a prefix used to build or match names, not a
//!   variable: it must be the start of at least one documented variable instead.
//! - `std::env::var("…")` / `var_os("…")` calls name variables too. `HOME` (which expands `~/` in the SQLite
//!   path) is the one read that is not a setting of Warden's; it is listed in [`NOT_SETTINGS`].
//!
//! `.env.example` also holds variables docker compose reads for `docker-compose.yml` alone ([`COMPOSE_ONLY`]);
//! they must appear in `docker-compose.yml` and are not compared with the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Variables the code reads that are not Warden settings, with the reason.
const NOT_SETTINGS: &[(&str, &str)] = &[("HOME", "expands a leading `~/` in AUTH_SQLITE_PATH")];

/// Variables `.env.example` lists for `docker-compose.yml` only; Warden does not read them.
const COMPOSE_ONLY: &[&str] = &["POSTGRES_PASSWORD", "WARDEN_PORT"];

const DOCS_TABLE: &str = "docs/configuration.md";
const ENV_EXAMPLE: &str = ".env.example";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The source without `#[cfg(test)]` items and without comment lines.
fn code_without_tests_and_comments(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            skip_item(&mut lines);
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Skips the item that follows an attribute: up to the `;` or the `}` that closes its first `{`. Braces inside
/// string and character literals and in line comments are not counted.
fn skip_item<'a>(lines: &mut impl Iterator<Item = &'a str>) {
    let mut depth = 0usize;
    let mut opened = false;
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        let mut in_string = false;
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' if in_string => i += 1,
                '"' => in_string = !in_string,
                // A character literal ('{', '"', '\'', '\\'); a lifetime ('a) has no closing quote.
                '\'' if !in_string => {
                    if chars.get(i + 1) == Some(&'\\') {
                        i += 3;
                    } else if chars.get(i + 2) == Some(&'\'') {
                        i += 2;
                    }
                }
                '/' if !in_string && chars.get(i + 1) == Some(&'/') => break,
                '{' if !in_string => {
                    depth += 1;
                    opened = true;
                }
                '}' if !in_string => depth = depth.saturating_sub(1),
                ';' if !in_string && !opened => return,
                _ => {}
            }
            i += 1;
        }
        if opened && depth == 0 {
            return;
        }
    }
}

/// Every complete literal `"<start>…"` of capitals, digits and underscores in `code`.
fn literals_starting_with(code: &str, start: &str) -> Vec<String> {
    let needle = format!("\"{start}");
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        if after[len..].starts_with('"') && len > start.len() {
            names.push(after[..len].to_owned());
        }
        rest = &after[len..];
    }
    names
}

/// Variables named in `std::env::var("…")` or `var_os("…")` calls.
fn environment_reads(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for call in ["env::var(\"", "env::var_os(\""] {
        for (at, _) in code.match_indices(call) {
            let after = &code[at + call.len()..];
            if let Some(end) = after.find('"') {
                names.push(after[..end].to_owned());
            }
        }
    }
    names
}

struct CodeScan {
    /// Variable → the files that name it.
    variables: BTreeMap<String, BTreeSet<String>>,
    /// Literals ending in `_`: prefixes, not variables.
    prefixes: BTreeMap<String, BTreeSet<String>>,
}

fn scan_code() -> CodeScan {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut scan = CodeScan {
        variables: BTreeMap::new(),
        prefixes: BTreeMap::new(),
    };
    for file in files {
        let relative = file
            .strip_prefix(root())
            .expect("under the package")
            .display()
            .to_string();
        let code = code_without_tests_and_comments(&fs::read_to_string(&file).expect("source"));
        let names = literals_starting_with(&code, "AUTH_")
            .into_iter()
            .chain(environment_reads(&code));
        for name in names {
            if NOT_SETTINGS.iter().any(|(skip, _)| *skip == name) {
                continue;
            }
            let target = if name.ends_with('_') {
                &mut scan.prefixes
            } else {
                &mut scan.variables
            };
            target.entry(name).or_default().insert(relative.clone());
        }
    }
    scan
}

/// The variables in the first column of the table headed `| Variable |` in `docs/configuration.md`, each with
/// how often it appears there.
fn docs_table() -> BTreeMap<String, usize> {
    let text = read(DOCS_TABLE);
    let tables = text
        .lines()
        .filter(|l| l.trim_start().starts_with("| Variable |"))
        .count();
    assert_eq!(
        tables, 1,
        "{DOCS_TABLE} must hold exactly one table headed `| Variable |`, found {tables}"
    );
    let mut names = BTreeMap::new();
    let rows = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("| Variable |"))
        .skip(2) // the header and the |---| line
        .take_while(|l| l.trim_start().starts_with('|'));
    for row in rows {
        let first_cell = row.trim_start()[1..].split('|').next().unwrap_or_default();
        for name in first_cell.split('`').skip(1).step_by(2) {
            *names.entry(name.to_owned()).or_insert(0) += 1;
        }
    }
    names
}

/// The variables `.env.example` assigns, commented out (`# NAME=`) or not (`NAME=`): the form
/// `scripts/check-dockerfile.sh` looks for.
fn env_example() -> BTreeSet<String> {
    read(ENV_EXAMPLE)
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix('#').unwrap_or(line);
            let line = line.strip_prefix(' ').unwrap_or(line);
            let (name, _) = line.split_once('=')?;
            let is_name = !name.is_empty()
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            is_name.then(|| name.to_owned())
        })
        .filter(|name| !COMPOSE_ONLY.contains(&name.as_str()))
        .collect()
}

/// One line per variable of `from` that `to` lacks.
fn missing<'a>(
    from: impl IntoIterator<Item = &'a String>,
    to: &BTreeSet<String>,
    message: impl Fn(&str) -> String,
) -> Vec<String> {
    from.into_iter()
        .filter(|name| !to.contains(*name))
        .map(|name| message(name))
        .collect()
}

#[track_caller]
fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "the configuration lists disagree:\n  {}\n(the list of record is the table in {DOCS_TABLE}; see the \
         module doc of tests/config_docs.rs for what the scan counts)",
        problems.join("\n  ")
    );
}

#[test]
fn the_scan_finds_the_variables_the_config_reads() {
    let scan = scan_code();
    // Guards the scan itself: if the config moved or its style changed, these would vanish silently.
    for name in [
        "AUTH_DATABASE_URL",
        "AUTH_SERVER_PORT",
        "AUTH_JWT_ALGORITHM",
        "AUTH_VAULT_ADDR",
    ] {
        assert!(
            scan.variables.contains_key(name),
            "the scan of src/ did not find {name}; found {:?}",
            scan.variables.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        scan.variables.len() >= 50,
        "the scan of src/ found only {} variables",
        scan.variables.len()
    );
}

#[test]
fn every_variable_the_config_reads_is_in_the_docs_table() {
    let scan = scan_code();
    let docs: BTreeSet<String> = docs_table().into_keys().collect();
    assert_none(
        scan.variables
            .iter()
            .filter(|(name, _)| !docs.contains(*name))
            .map(|(name, files)| {
                let files: Vec<_> = files.iter().map(String::as_str).collect();
                format!(
                    "{name} is read by {} but missing from the table in {DOCS_TABLE}",
                    files.join(", ")
                )
            })
            .collect(),
    );
}

#[test]
fn every_variable_in_the_docs_table_is_read_by_the_config() {
    let code: BTreeSet<String> = scan_code().variables.into_keys().collect();
    let docs = docs_table();
    assert_none(missing(docs.keys(), &code, |name| {
        format!("{name} is in the table in {DOCS_TABLE} but no code under src/ reads it")
    }));
}

#[test]
fn every_variable_in_the_docs_table_is_in_env_example() {
    let example = env_example();
    assert_none(missing(docs_table().keys(), &example, |name| {
        format!("{name} is in the table in {DOCS_TABLE} but missing from {ENV_EXAMPLE} (add `# {name}=<default>`)")
    }));
}

#[test]
fn every_variable_in_env_example_is_in_the_docs_table() {
    let docs: BTreeSet<String> = docs_table().into_keys().collect();
    assert_none(missing(env_example().iter(), &docs, |name| {
        format!("{name} is in {ENV_EXAMPLE} but missing from the table in {DOCS_TABLE}")
    }));
}

#[test]
fn the_config_code_the_docs_table_and_env_example_name_the_same_variables() {
    let code: BTreeSet<String> = scan_code().variables.into_keys().collect();
    let docs: BTreeSet<String> = docs_table().into_keys().collect();
    let example = env_example();
    let all: BTreeSet<&String> = code.iter().chain(&docs).chain(&example).collect();
    let mut problems = Vec::new();
    for name in all {
        let absent: Vec<&str> = [
            ("the config code (src/)", &code),
            (DOCS_TABLE, &docs),
            (ENV_EXAMPLE, &example),
        ]
        .iter()
        .filter(|(_, set)| !set.contains(name))
        .map(|(place, _)| *place)
        .collect();
        if !absent.is_empty() {
            problems.push(format!("{name} is missing from {}", absent.join(" and ")));
        }
    }
    assert_none(problems);
}

#[test]
fn the_docs_table_names_each_variable_once() {
    assert_none(
        docs_table()
            .into_iter()
            .filter(|(_, count)| *count > 1)
            .map(|(name, count)| {
                format!("{name} appears {count} times in the table in {DOCS_TABLE}")
            })
            .collect(),
    );
}

#[test]
fn every_name_prefix_in_the_code_belongs_to_a_documented_variable() {
    let docs = docs_table();
    assert_none(
        scan_code()
            .prefixes
            .iter()
            .filter(|(prefix, _)| !docs.keys().any(|name| name.starts_with(prefix.as_str())))
            .map(|(prefix, files)| {
                let files: Vec<_> = files.iter().map(String::as_str).collect();
                format!(
                    "the prefix {prefix} (in {}) starts no variable of the table in {DOCS_TABLE}",
                    files.join(", ")
                )
            })
            .collect(),
    );
}

#[test]
fn the_variables_only_docker_compose_reads_are_used_by_it() {
    let compose = read("docker-compose.yml");
    let example = read(ENV_EXAMPLE);
    for name in COMPOSE_ONLY {
        assert!(
            compose.contains(&format!("${{{name}")),
            "{name} is listed as read by docker-compose.yml only, but docker-compose.yml does not use it"
        );
        assert!(
            example
                .lines()
                .any(|l| l.starts_with(&format!("{name}=")) || l.starts_with(&format!("# {name}="))),
            "{name} (read by docker-compose.yml) is missing from {ENV_EXAMPLE}"
        );
    }
}

#[test]
fn the_scan_skips_comments_tests_and_longer_literals() {
    let source = r#"
//! `AUTH_IN_A_DOC` and "AUTH_IN_A_DOC_LITERAL"
fn f() { get("AUTH_REAL"); invalid("AUTH_REAL", "required when AUTH_OTHER is set"); }
// get("AUTH_COMMENTED")
#[cfg(test)]
mod tests {
    fn g() { let s = "}"; let c = '{'; let q = '"'; get("AUTH_TEST_ONLY"); }
}
fn h() { std::env::var_os("HOME"); get("AUTH_PREFIX_"); }
"#;
    let code = code_without_tests_and_comments(source);
    assert_eq!(
        literals_starting_with(&code, "AUTH_"),
        ["AUTH_REAL", "AUTH_REAL", "AUTH_PREFIX_"]
    );
    assert_eq!(environment_reads(&code), ["HOME"]);
}
