//! A page as headless Chromium renders it (`chromium --headless --dump-dom`): the DOM once
//! its scripts and fetches are done, and its text.

use super::TempDir;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
/// Pakistan Standard Time, UTC+5 all year: the reader's time zone.
pub const KARACHI: &str = "Asia/Karachi";

/// The page at `url` as headless Chromium has it once its scripts and fetches are done, in
/// `KARACHI` time and with British English as the browser's language (24-hour times).
pub fn rendered(url: &str) -> String {
    let profile = TempDir::new("card-chromium");
    let out = Command::new(CHROMIUM)
        .env("TZ", KARACHI)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--lang=en-GB",
            "--accept-lang=en-GB",
            &format!("--user-data-dir={}", profile.path().display()),
            // Virtual time waits for pending fetches; the card's 5-minute refresh is not reached.
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium (Debian package chromium; `cargo xtask setup` installs it)");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "no DOM from chromium for {url}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// The visible text of a DOM: tags dropped, entities of `&` and quotes decoded, spaces folded.
pub fn text(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&amp;", "&").replace("&quot;", "\"");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
