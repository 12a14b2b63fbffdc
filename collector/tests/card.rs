//! The status card (`www/card.html`) in a real browser: headless Chromium renders it from a
//! collector holding known disruptions, and its text must say what `/v1/disruptions` and
//! `/v1/aggregates` say, in the reader's time zone and language: a one-network block with its
//! network and start, a platform outage in every country said to be one (never a country's
//! block), "no disruption" with the reports behind it, "not enough reports" without any, a bad
//! address explained, Urdu right to left; and, framed by an article of another origin through
//! `embed.js`, the card loads and tells that page its height in coarse steps.
//!
//! The lightest real-browser check this repository has: `chromium --headless --dump-dom`, the
//! DOM once the page's scripts and fetches are done (no WebDriver, no network namespace).

mod common;

use common::chromium::{rendered, text};
use common::filler::{first_n, Filler};
use common::{clear_of_the_hour_change, www, Collector, Store, TempDir};
use netreach_collector::time::{self, floor_hour, DAY, HOUR};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

/// `HH:00` in Karachi of a UTC hour.
fn karachi_hour(t: i64) -> String {
    format!("{:02}:00", ((t + 5 * HOUR).rem_euclid(DAY)) / HOUR)
}

/// A collector with k = 5 holding, over a clean week and the last 4 hours up to now: Pakistan
/// (three networks, 10 reports an hour each) with X blocked on AS17557 since 3 hours ago;
/// Iran (one network) without a disruption of its own; Telegram failing in both (a platform
/// outage: `global`). Türkiye has no reports at all.
struct World {
    _dir: TempDir,
    collector: Collector,
    /// Start of the last 4 hours.
    since: i64,
}

fn world() -> World {
    let dir = TempDir::new("card");
    let store = Store::sqlite(dir.path());
    let collector = Collector::serving(
        dir.path(),
        &www(),
        // The page's own campaigns: the card names platforms from the default one.
        &www().join("campaigns"),
        &[
            "--k",
            "5",
            "--aggregate-rate-limit",
            "0",
            "--aggregate-cache-seconds",
            "0",
        ],
    );
    // The card's window and the one computed here must be the same hours.
    clear_of_the_hour_change();
    let since = floor_hour(time::now()) - 3 * HOUR;
    let mut db = Filler::new(&store);
    let platforms = ["x", "youtube", "telegram"];
    let x_blocked = first_n(9, "blocked");
    let telegram_down = first_n(10, "blocked");
    for (cc, asn) in [("PK", 17557), ("PK", 38193), ("PK", 45595), ("IR", 197207)] {
        db.clean_week(cc, asn, &platforms, 10, since);
        let x = if asn == 17557 {
            x_blocked.as_str()
        } else {
            "'reachable'"
        };
        db.fill(
            cc,
            asn,
            since,
            4,
            10,
            &[
                ("x", x),
                ("youtube", "'reachable'"),
                ("telegram", &telegram_down),
            ],
        );
    }
    World {
        _dir: dir,
        collector,
        since,
    }
}

impl World {
    fn url(&self, query: &str) -> String {
        format!("http://{}/card.html?{query}", self.collector.addr)
    }

    /// The events `/v1/disruptions` gives the card of `cc`.
    fn events(&self, cc: &str) -> Vec<serde_json::Value> {
        let from = time::format_utc(floor_hour(time::now()) - 23 * HOUR);
        let answer = self
            .collector
            .get(&format!("/v1/disruptions?cc={cc}&from={from}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["disruptions"].as_array().unwrap().clone()
    }
}

impl World {
    /// The card of `query` as Chromium renders it (its DOM), after checking that its text
    /// holds every one of `says` and none of `never`.
    #[track_caller]
    fn card(&self, query: &str, says: &[&str], never: &[&str]) -> String {
        let dom = rendered(&self.url(query));
        let said = text(&dom);
        for words in says {
            assert!(
                said.contains(words),
                "{query}: the card does not say “{words}”:\n{said}"
            );
        }
        for words in never {
            assert!(
                !said.contains(words),
                "{query}: the card says “{words}”:\n{said}"
            );
        }
        dom
    }
}

#[test]
fn the_card_says_what_the_collector_detected_in_the_reader_s_time_and_language() {
    let w = world();
    let events = w.events("PK");
    let by_scope = |scope: &str| {
        events
            .iter()
            .find(|e| e["scope"] == scope)
            .unwrap_or_else(|| panic!("no {scope} event in {events:#?}"))
    };
    let block = by_scope("network");
    let outage = by_scope("global");
    assert_eq!(
        (
            block["asn"].as_u64(),
            block["platforms"].clone(),
            block["end"].is_null()
        ),
        (Some(17557), serde_json::json!(["x"]), true),
        "{events:#?}"
    );
    assert_eq!(outage["platforms"], serde_json::json!(["telegram"]));
    let start = karachi_hour(w.since);
    let outage_line = format!("Telegram: Blocked in most countries at once since {start} GMT+5.");

    // Pakistan: the block, with its network, its start in Karachi time and its evidence; the
    // outage said to be one.
    let dom = w.card(
        "cc=PK",
        &[
            "Is it blocked in Pakistan?",
            "Disruption detected in Pakistan in the last 24 hours:",
            &format!("X (Twitter): Blocked on network AS17557 since {start} GMT+5."),
            &format!(
                "Overwhelming evidence; reports from {} senders (counted hour by hour).",
                block["senders"]
            ),
            &outage_line,
            "A platform outage or a broken test, not a block in Pakistan.",
            // 3 networks × 10 reports × the 24 hours of the window.
            "Based on 720 reports in 24 of the last 24 hours;",
            "Test your own connection",
        ],
        &[],
    );
    assert!(dom.contains("data-state=\"disrupted\""), "{dom}");
    let said = text(&dom);
    assert!(
        said.find("X (Twitter): Blocked") < said.find("Telegram: Blocked"),
        "the country's own disruption comes before a platform outage:\n{said}"
    );
    // The call to action opens the test, on the collector's own site.
    assert!(
        dom.contains(&format!(
            "class=\"cta\" href=\"http://{}/\"",
            w.collector.addr
        )),
        "{dom}"
    );

    // Iran: the outage is not Iran's disruption.
    w.card(
        "cc=IR",
        &[
            "No disruption detected in Iran in the last 24 hours.",
            &outage_line,
            "not a block in Iran.",
            "Based on 240 reports in 24 of the last 24 hours;",
        ],
        &["Disruption detected"],
    );
    // One platform: X was never disrupted in Iran, and Telegram's outage is not X's.
    w.card(
        "cc=IR&platform=x",
        &[
            "Is X (Twitter) blocked in Iran?",
            "No disruption detected in Iran in the last 24 hours.",
        ],
        &["Telegram"],
    );
    // Türkiye: no report at all, so nothing can be said of it; the outage still is.
    w.card(
        "cc=TR",
        &[
            "in the last 24 hours to say.",
            "An hour counts only once at least 5 people on the same network have tested in it.",
            &outage_line,
        ],
        &["No disruption detected"],
    );
    // Urdu, right to left, from the card's own address.
    let dom = w.card(
        "cc=PK&lang=ur",
        &["پاکستان", "نیٹ ورک AS17557 پر", "اپنا کنکشن خود ٹیسٹ کریں"],
        &[],
    );
    assert!(dom.contains("<html lang=\"ur\" dir=\"rtl\">"), "{dom}");
    // A bad address is explained, not shown as "no disruption".
    w.card(
        "cc=P1",
        &["This card needs a country: add ?cc= and its two-letter code"],
        &["No disruption"],
    );
    w.card(
        "cc=PK&platform=myspace",
        &["“myspace” is not a platform of this test"],
        &["No disruption"],
    );
}

/// A one-page site of another origin: an article embedding the card through `embed.js`, that
/// writes down the messages the card's frame sends it.
fn article_site(collector: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let page = format!(
        "<!doctype html><html><head><title>article</title></head><body><p>News.</p>\
         <script>addEventListener('message', (e) => {{ document.body.dataset.heard = \
         (document.body.dataset.heard || '') + e.data.type + ':' + (e.data.height || '') + ' '; }});\
         </script>\
         <script src=\"http://{collector}/embed.js\" data-card=\"PK\" data-lang=\"en\" async></script>\
         </body></html>"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    addr
}

#[test]
fn an_article_of_another_origin_frames_the_card_and_hears_only_its_coarse_height() {
    let w = world();
    let article = article_site(w.collector.addr);
    let dom = rendered(&format!("http://{article}/"));
    // The frame is the card of Pakistan; it loaded (frame-ancestors allows any site), said
    // it was ready and, after embed.js's hello, posted a height in steps of 200 px.
    assert!(
        dom.contains(&format!(
            "src=\"http://{}/card.html?cc=PK&amp;lang=en\"",
            w.collector.addr
        )),
        "{dom}"
    );
    let heard = dom
        .split("data-heard=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the article heard nothing from the frame:\n{dom}"));
    let heights: Vec<u32> = heard
        .split_whitespace()
        .filter_map(|m| m.strip_prefix("netreach:height:"))
        .map(|h| h.parse().unwrap())
        .collect();
    assert!(heard.starts_with("netreach:ready:"), "{heard}");
    assert!(
        !heights.is_empty() && heights.iter().all(|h| h % 200 == 0),
        "{heard}"
    );
    let height = heights.last().unwrap();
    assert!(
        dom.contains(&format!("height: {height}px")),
        "embed.js did not size the frame to {height} px:\n{dom}"
    );
}
