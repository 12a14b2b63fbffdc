//! The page explains every verdict and reason in words: a Reason added to the classifier
//! without an explanation in www/app.js would show the visitor a bare code.
#![cfg(not(target_arch = "wasm32"))]

use netreach::{Reason, Verdict};

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Variant names of `pub enum {name}` in `source`, in snake_case.
fn variants(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub enum {name} {{"))
        .expect("enum declared");
    let block = &source[start..];
    let block = &block[block.find('{').unwrap() + 1..block.find('}').unwrap()];
    // Skip doc comments and attributes inside the enum.
    let code: String = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with("#["))
        .collect();
    code.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let mut snake = String::new();
            for (i, c) in v.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            snake
        })
        .collect()
}

#[test]
fn every_reason_has_a_plain_language_explanation() {
    let reasons = variants(&read("src/classify.rs"), "Reason");
    assert!(reasons.len() >= 10, "parsed {reasons:?}");
    let app = read("www/app.js");
    for reason in &reasons {
        // The parsed name is the serialized one: otherwise the page would look up the wrong key.
        let parsed: Reason = serde_json::from_str(&format!("\"{reason}\"")).expect(reason);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            format!("\"{reason}\"")
        );
        assert!(
            app.contains(&format!("  {reason}:")),
            "app.js does not explain {reason}"
        );
    }
}

#[test]
fn every_verdict_has_words_on_the_page() {
    let verdicts = variants(&read("src/classify.rs"), "Verdict");
    assert_eq!(verdicts.len(), 5);
    let app = read("www/app.js");
    for verdict in &verdicts {
        let _: Verdict = serde_json::from_str(&format!("\"{verdict}\"")).expect(verdict);
        assert!(
            app.contains(&format!("  {verdict}: [\"")),
            "app.js has no words for {verdict}"
        );
    }
}
