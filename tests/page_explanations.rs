//! The page and the dashboard speak the contract's vocabulary (`src/vocabulary.rs`): every
//! verdict has words and every reason a plain-language explanation in every language of
//! www/i18n/, the page a mark for every verdict, and the dashboard's columns are the verdicts.
//! A value added to the vocabulary without its words would show the visitor a bare code.
#![cfg(not(target_arch = "wasm32"))]

use netreach::{Reason, Verdict};
use serde_json::Value;

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every catalog of www/i18n/ (not the list of languages), by file name.
fn catalogs() -> Vec<(String, Value)> {
    let dir = format!("{}/www/i18n", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "languages.json")
        .map(|name| {
            let value = serde_json::from_str(&read(&format!("www/i18n/{name}")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() > 1, "www/i18n/ has English and other languages");
    out
}

/// The wire names a catalog explains under `{prefix}.`.
fn explained<'a>(catalog: &'a Value, prefix: &str) -> Vec<&'a str> {
    catalog
        .as_object()
        .expect("a catalog is an object")
        .iter()
        .filter(|(_, text)| text.as_str().is_some_and(|t| !t.trim().is_empty()))
        .filter_map(|(key, _)| key.strip_prefix(prefix)?.strip_prefix('.'))
        .collect()
}

fn check_every_language(prefix: &str, names: &[&str]) {
    let mut failures = Vec::new();
    for (file, catalog) in catalogs() {
        let have = explained(&catalog, prefix);
        for name in names.iter().filter(|n| !have.contains(n)) {
            failures.push(format!("{file} does not explain {prefix} {name}"));
        }
        for key in have.iter().filter(|k| !names.contains(k)) {
            failures.push(format!("{file} explains unknown {prefix} {key}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_reason_has_a_plain_language_explanation_in_every_language_and_no_other() {
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    check_every_language("reason", &reasons);
}

#[test]
fn every_verdict_has_words_in_every_language_and_no_other() {
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
    check_every_language("verdict", &verdicts);
}

/// The keys of `const VERDICT_MARKS = { key: ..., }` in app.js, one entry per line.
#[test]
fn every_verdict_has_a_mark_on_the_page_and_no_other() {
    let script = read("www/app.js");
    let start = script
        .find("const VERDICT_MARKS = {\n")
        .expect("app.js declares VERDICT_MARKS");
    let table = &script[start..];
    let table = &table[table.find('\n').unwrap() + 1..table.find("\n};").expect("closed")];
    let keys: Vec<&str> = table
        .lines()
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(
        keys, verdicts,
        "app.js VERDICT_MARKS, in the contract's order"
    );
}

#[test]
fn the_dashboard_columns_are_the_verdicts_in_order() {
    let dashboard = read("www/dashboard.js");
    let names: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| format!("\"{}\"", v.as_str()))
        .collect();
    let line = format!("const VERDICTS = [{}];", names.join(", "));
    assert!(
        dashboard.contains(&line),
        "dashboard.js must declare `{line}`"
    );
}
