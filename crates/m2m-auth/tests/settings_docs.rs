//! The README's configuration table, the Python stub and the TypeScript definitions name every setting the
//! core declares (`m2m_auth::settings`), as each surface spells it: a setting added to the declaration and
//! not to the documentation fails here.

use std::path::Path;

use m2m_auth::settings::{CLIENT_SETTINGS, Group, Surface};
use m2m_auth::verify::{VERIFIER_SETTINGS, find_verifier_setting};

fn read(relative: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(relative),
    )
    .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The text between a line starting with `start` and the next line starting with `end`.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let rest = &text[from..];
    let to = rest[start.len()..]
        .find(end)
        .map_or(rest.len(), |i| i + start.len());
    &rest[..to]
}

/// Whether `text` has `declared` (`name:`) as a whole name, not the end of a longer one.
fn declares(text: &str, declared: &str) -> bool {
    text.match_indices(declared).any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn the_readme_configuration_table_names_every_setting_on_every_surface() {
    let readme = read("README.md");
    let table = section(&readme, "## Configuration", "\n## ");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    for s in CLIENT_SETTINGS {
        let row = rows
            .iter()
            .find(|r| r[1].contains(&format!("`{}`", s.name)))
            .unwrap_or_else(|| panic!("README: no row for {}", s.name));
        assert!(
            row[2].contains(&format!("`{}`", s.name_on(Surface::Node))),
            "README: the row of {} does not name {}",
            s.name,
            s.node
        );
        if let Some(env) = s.env {
            assert!(
                row[3].contains(&format!("`{env}`")),
                "README: the row of {} does not name {env}",
                s.name
            );
        }
    }
}

#[test]
fn the_python_stub_takes_every_setting() {
    let stub = read("python/m2m_auth/_native.pyi");
    let common = section(&stub, "class _ClientSettings", "\n\n");
    let new = section(&stub, "    def __new__(", ") -> TokenClient");
    let secureauth = section(&stub, "    def secureauth(", ") -> TokenClient");
    for s in CLIENT_SETTINGS {
        let declared = format!("{}:", s.name);
        let place = match s.group {
            Group::Common => common,
            Group::Endpoint => new,
            Group::Workspace => secureauth,
        };
        assert!(
            declares(place, &declared),
            "_native.pyi: {} is missing ({:?})",
            s.name,
            s.group
        );
    }
}

#[test]
fn the_typescript_definitions_take_every_setting() {
    let dts = read("node/index.d.ts");
    let options = format!(
        "{}{}",
        section(&dts, "export interface TokenClientOptions", "\n}"),
        section(&dts, "export interface SecureAuthOptions", "\n}")
    );
    for s in CLIENT_SETTINGS {
        assert!(
            declares(&options, &format!("{}?:", s.node))
                || declares(&options, &format!("{}:", s.node)),
            "index.d.ts: {} is missing",
            s.node
        );
    }
}

/// Every client setting the verifier takes too (the introspection credentials).
fn verifier_credentials() -> impl Iterator<Item = &'static m2m_auth::settings::Setting> {
    CLIENT_SETTINGS.iter().filter(|s| {
        find_verifier_setting(Surface::Rust, s.name).is_some()
            && !VERIFIER_SETTINGS.iter().any(|own| own.name == s.name)
    })
}

#[test]
fn the_readme_verifier_table_names_every_verifier_setting() {
    let readme = read("README.md");
    let table = section(&readme, "## Protecting your API", "\n## ");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    for s in VERIFIER_SETTINGS {
        let row = rows
            .iter()
            .find(|r| r[1].contains(&format!("`{}`", s.name)))
            .unwrap_or_else(|| panic!("README: no verifier row for {}", s.name));
        assert!(
            row[2].contains(&format!("`{}`", s.node)),
            "README: the verifier row of {} does not name {}",
            s.name,
            s.node
        );
    }
}

#[test]
fn the_python_stub_and_the_typescript_definitions_take_every_verifier_setting() {
    let stub = read("python/m2m_auth/_native.pyi");
    let settings = format!(
        "{}{}",
        section(&stub, "class _VerifierSettings", "\n\n"),
        section(&stub, "class Verifier:", ") -> Self")
    );
    let dts = read("node/index.d.ts");
    let options = section(&dts, "export interface VerifierOptions", "\n}");
    for s in VERIFIER_SETTINGS.iter().chain(verifier_credentials()) {
        assert!(
            declares(&settings, &format!("{}:", s.name)),
            "_native.pyi: the verifier's {} is missing",
            s.name
        );
        assert!(
            declares(options, &format!("{}?:", s.node))
                || declares(options, &format!("{}:", s.node)),
            "index.d.ts: the verifier's {} is missing",
            s.node
        );
    }
}
