//! The page and the dashboard speak the contract's vocabulary (`src/vocabulary.rs`): every
//! verdict and reason has words in www/app.js, and the dashboard's columns are the verdicts.
//! A value added to the vocabulary without its words would show the visitor a bare code.
#![cfg(not(target_arch = "wasm32"))]

use netreach::{Reason, Verdict};

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The keys of `const {name} = { key: ..., }` in a page script, one entry per line as the
/// page's tables are written.
fn table_keys(script: &str, name: &str) -> Vec<String> {
    let start = script
        .find(&format!("const {name} = {{\n"))
        .unwrap_or_else(|| panic!("no table {name}"));
    let body = &script[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("\n};").expect("table closed")];
    body.lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_owned()))
        .collect()
}

#[test]
fn every_reason_has_a_plain_language_explanation_and_no_other() {
    let keys = table_keys(&read("www/app.js"), "REASONS");
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    for reason in &reasons {
        assert!(
            keys.iter().any(|k| k == reason),
            "app.js does not explain {reason}"
        );
    }
    for key in &keys {
        assert!(
            reasons.contains(&key.as_str()),
            "app.js explains unknown reason {key}"
        );
    }
}

#[test]
fn every_verdict_has_words_on_the_page_and_no_other() {
    let keys = table_keys(&read("www/app.js"), "VERDICTS");
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(keys, verdicts, "app.js VERDICTS, in the contract's order");
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
