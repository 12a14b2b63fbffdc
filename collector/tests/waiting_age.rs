//! The page drops a waiting report the collector would refuse as too old, without sending it
//! (www/waiting.js, issue #12): its bound must be the one intake enforces.

use netreach_collector::intake::MAX_AGE_SECS;

#[test]
fn the_page_drops_waiting_reports_at_the_age_intake_refuses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/waiting.js");
    let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_, rest) = source
        .split_once("export const MAX_AGE_MS = ")
        .expect("www/waiting.js declares MAX_AGE_MS");
    let expression = &rest[..rest.find(';').expect("MAX_AGE_MS ends with ;")];
    // A product of integer literals (`30 * 86_400 * 1000`), as the page writes it.
    let ms: i64 = expression
        .split('*')
        .map(|factor| {
            factor
                .trim()
                .replace('_', "")
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("MAX_AGE_MS = {expression}: not a product of integers"))
        })
        .product();
    assert_eq!(
        ms,
        MAX_AGE_SECS * 1000,
        "www/waiting.js MAX_AGE_MS ({ms} ms) and intake::MAX_AGE_SECS ({MAX_AGE_SECS} s) differ"
    );
}
