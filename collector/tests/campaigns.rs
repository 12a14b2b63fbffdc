//! Campaigns people start: `netreach-collector campaign` (validate, add, revise, expire,
//! list, import-citizenlab) on a folder, each bad input refused with a message that names it;
//! `GET /v1/campaigns` lists the active ones; an ended campaign answers 410 to the page and
//! to reports; a report of an earlier revision is still accepted and stored under it.

mod common;

use common::{report, Collector, Store, TempDir, CAMPAIGN};
use netreach::Outcome;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// Exit code, stdout and stderr of one run.
fn campaign(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .arg("campaign")
        .args(args)
        .args(["--campaigns", dir.join("campaigns").to_str().unwrap()])
        .output()
        .expect("run netreach-collector");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The test campaign `t` with a name, and `change` applied, written to `dir/name`.
fn campaign_file(dir: &Path, name: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(CAMPAIGN).unwrap();
    value["name"] = json!("Test campaign");
    value["name_intl"] = json!({ "ur": "آزمائشی مہم" });
    change(&mut value);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn read(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("campaigns").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn drop_yt(value: &mut Value) {
    value["platforms"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["id"] != "yt");
}

#[test]
fn add_revise_expire_and_list_keep_every_revision() {
    let dir = TempDir::new("campaign-cmd");
    std::fs::create_dir_all(dir.path().join("campaigns")).unwrap();
    let file = campaign_file(dir.path(), "t.json", |_| {});

    let (code, out, err) = campaign(dir.path(), &["validate", &file]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("campaign \"t\" revision 1: valid, 2 platforms, 4 endpoints, 2 controls"),
        "{out}"
    );
    assert!(
        !dir.path().join("campaigns/t.json").exists(),
        "validate writes nothing"
    );

    let (code, _, err) = campaign(dir.path(), &["add", &file]);
    assert_eq!(code, Some(0), "{err}");
    let added = read(dir.path(), "t.json");
    assert_eq!(added["revision"], 1);
    assert!(added["date_created"].is_string());
    assert_eq!(added["name_intl"]["ur"], "آزمائشی مہم");

    // Only the descriptor changes: the revision stays, nothing is archived.
    let described = campaign_file(dir.path(), "t2.json", |v| v["description"] = json!("Why"));
    let (code, out, err) = campaign(dir.path(), &["revise", &described]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("only the descriptor changed"), "{out}");
    assert_eq!(read(dir.path(), "t.json")["revision"], 1);
    assert!(!dir.path().join("campaigns/t.r1.json").exists());

    // What is measured changes: revision 2, and revision 1 is kept as it was.
    let fewer = campaign_file(dir.path(), "t3.json", drop_yt);
    let (code, _, err) = campaign(dir.path(), &["revise", &fewer]);
    assert_eq!(code, Some(0), "{err}");
    let current = read(dir.path(), "t.json");
    assert_eq!(current["revision"], 2);
    assert_eq!(current["date_created"], added["date_created"]);
    assert!(current["date_updated"].is_string());
    let kept = read(dir.path(), "t.r1.json");
    assert_eq!(kept["revision"], 1);
    assert_eq!(kept["platforms"].as_array().unwrap().len(), 2);
    assert_eq!(kept["description"], "Why");

    let (code, out, _) = campaign(dir.path(), &["list"]);
    assert_eq!(code, Some(0));
    let line = out.lines().find(|l| l.starts_with("t ")).expect(&out);
    assert!(
        line.contains(" 2 ") && line.contains("active") && line.contains("Test campaign"),
        "{line}"
    );
    assert!(line.contains("(1 earlier revisions kept)"), "{line}");
    assert!(
        !out.contains("t.r1"),
        "archived files are not campaigns: {out}"
    );

    let (code, out, err) = campaign(dir.path(), &["expire", "t"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ended at"), "{out}");
    assert!(read(dir.path(), "t.json")["expiration_date"].is_string());
    let (_, out, _) = campaign(dir.path(), &["list"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("t ") && l.contains("ended at")),
        "{out}"
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("campaigns"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn each_bad_input_is_refused_with_its_reason() {
    let dir = TempDir::new("campaign-bad");
    std::fs::create_dir_all(dir.path().join("campaigns")).unwrap();
    let d = dir.path();
    let good = campaign_file(d, "good.json", |_| {});
    let not_json = d.join("not.json");
    std::fs::write(&not_json, "{\"id\": ").unwrap();
    let not_json = not_json.to_str().unwrap().to_owned();
    let http = campaign_file(d, "http.json", |v| {
        v["platforms"][1]["endpoints"][0]["url"] = json!("http://yt.example/api")
    });
    let nameless = campaign_file(d, "nameless.json", |v| {
        v.as_object_mut().unwrap().remove("name");
    });
    let bad_color = campaign_file(d, "color.json", |v| v["color"] = json!("red"));
    let bad_language = campaign_file(d, "lang.json", |v| {
        v["description_intl"] = json!({"Urdu": "x"})
    });
    let path_id = campaign_file(d, "path.json", |v| v["id"] = json!("../escape"));
    let revision_5 = campaign_file(d, "rev.json", |v| v["revision"] = json!(5));
    let ended = campaign_file(d, "ended.json", |v| {
        v["expiration_date"] = json!("2020-01-01")
    });
    let other = campaign_file(d, "other.json", |v| v["id"] = json!("other"));
    let csv = d.join("list.csv");
    std::fs::write(&csv, "address,kind\nhttps://a.example/,NEWS\n").unwrap();

    // The importer takes its controls from the folder's default campaign.
    let (code, _, err) = campaign(
        d,
        &["import-citizenlab", csv.to_str().unwrap(), "--id", "pk"],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("no campaign \"default\""), "{err}");
    std::fs::copy(
        common::www().join("campaigns/default.json"),
        d.join("campaigns/default.json"),
    )
    .unwrap();

    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["validate", "/nonexistent/c.json"],
            1,
            "/nonexistent/c.json: No such file",
        ),
        (vec!["validate", &not_json], 1, "EOF while parsing"),
        (
            vec!["validate", &http],
            1,
            "platforms[1].endpoints[0].url: must be an https:// URL",
        ),
        (vec!["validate", &nameless], 1, "name: required"),
        (vec!["validate", &bad_color], 1, "color: must be #RRGGBB"),
        (
            vec!["validate", &bad_language],
            1,
            "description_intl.Urdu: keys must be language codes",
        ),
        (
            vec!["add", &path_id],
            1,
            "id \"../escape\": a campaign id is letters, digits",
        ),
        (
            vec!["add", &revision_5],
            1,
            "a new campaign starts at revision 1",
        ),
        (vec!["add", &ended], 1, "would be added already ended"),
        (vec!["revise", &other], 1, "no campaign \"other\""),
        (vec!["expire", "other"], 1, "no campaign \"other\""),
        (vec!["expire", "t", "--at", "soon"], 2, "must be a UTC date"),
        (vec!["expire", "a/b"], 2, "must be a campaign id"),
        (
            vec!["import-citizenlab", csv.to_str().unwrap(), "--id", "pk"],
            1,
            "line 1: not a Citizen Lab test list",
        ),
        (vec!["frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, want_code, want) in cases {
        let (code, _, err) = campaign(d, &args);
        assert_eq!(code, Some(want_code), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in {err}");
    }

    // Adding twice, and expiring before the campaign began, are refused too.
    assert_eq!(campaign(d, &["add", &good]).0, Some(0));
    let (code, _, err) = campaign(d, &["add", &good]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("exists") && err.contains("campaign revise"),
        "{err}"
    );
    let (code, _, err) = campaign(d, &["expire", "t", "--at", "2020-01-01"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("expiration_date: must not be before date_created"),
        "{err}"
    );
    assert!(
        read(d, "t.json").get("expiration_date").is_none(),
        "nothing written"
    );
}

#[test]
fn citizenlab_rows_become_a_campaign_that_add_accepts() {
    let dir = TempDir::new("campaign-csv");
    let d = dir.path();
    std::fs::create_dir_all(d.join("campaigns")).unwrap();
    std::fs::copy(
        common::www().join("campaigns/default.json"),
        d.join("campaigns/default.json"),
    )
    .unwrap();
    let csv = d.join("pk.csv");
    std::fs::write(
        &csv,
        "url,category_code,category_description,date_added,source,notes\n\
         https://www.dawn.com/,NEWS,News Media,2017-04-12,,\n\
         not a url,NEWS,News Media,2017-04-12,,\n\
         http://party.example/,POLR,Political Criticism,2020-01-01,,\"said, \"\"blocked\"\"\"\n\
         https://games.example/,GAME,Gaming,2020-01-01,,\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args([
            "campaign",
            "import-citizenlab",
            csv.to_str().unwrap(),
            "--id",
            "pk-news",
        ])
        .args(["--category", "NEWS", "--category", "POLR"])
        .args(["--campaigns", d.join("campaigns").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("pk.csv:3: url \"not a url\": not an http:// or https:// URL: skipped"),
        "{err}"
    );
    assert!(
        err.contains("2 websites") && err.contains("catalog check"),
        "{err}"
    );
    let written = d.join("pk-news.json");
    std::fs::write(&written, &out.stdout).unwrap();
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let urls: Vec<&str> = (value["platforms"].as_array().unwrap().iter())
        .map(|p| p["endpoints"][0]["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://www.dawn.com/favicon.ico",
            "https://party.example/favicon.ico"
        ]
    );
    let default: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("campaigns/default.json")).unwrap())
            .unwrap();
    assert_eq!(value["controls"], default["controls"]);
    let (code, _, err) = campaign(d, &["add", written.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn the_api_lists_active_campaigns_ends_expired_ones_and_keeps_revisions() {
    let dir = TempDir::new("campaign-api");
    let d = dir.path();
    std::fs::create_dir_all(d.join("campaigns")).unwrap();
    // `t` at revision 2 (platform yt dropped), revision 1 kept; `gone` ended in 2020.
    let first = campaign_file(d, "t1.json", |_| {});
    assert_eq!(campaign(d, &["add", &first]).0, Some(0));
    let second = campaign_file(d, "t2.json", drop_yt);
    assert_eq!(campaign(d, &["revise", &second]).0, Some(0));
    let gone = campaign_file(d, "gone.json", |v| {
        v["id"] = json!("gone");
        v["date_created"] = json!("2019-01-01");
        v["expiration_date"] = json!("2020-01-01T00:00:00Z");
    });
    std::fs::copy(&gone, d.join("campaigns/gone.json")).unwrap();

    let store = Store::sqlite(d);
    let collector = Collector::start(
        &[
            "--database",
            &store.url(),
            "--campaigns",
            d.join("campaigns").to_str().unwrap(),
            "--rate-limit",
            "0",
            "--k",
            "1",
        ],
        &d.join("log"),
    );
    let listed = collector.get("/v1/campaigns");
    assert_eq!(listed.status, 200, "{}", listed.body);
    let campaigns = listed.json()["campaigns"].as_array().unwrap().clone();
    assert_eq!(campaigns.len(), 1, "only t is active: {campaigns:?}");
    assert_eq!(campaigns[0]["id"], "t");
    assert_eq!(campaigns[0]["name"], "Test campaign");
    assert_eq!(campaigns[0]["name_intl"]["ur"], "آزمائشی مہم");
    assert_eq!(campaigns[0]["revision"], 2);
    assert_eq!(campaigns[0]["platforms"], 1);
    assert!(
        campaigns[0].get("controls").is_none(),
        "endpoints come with the campaign"
    );

    let served = collector.get("/v1/campaigns/t");
    assert_eq!(served.status, 200);
    assert_eq!(served.json()["revision"], 2);
    assert_eq!(served.json()["name"], "Test campaign");
    assert_eq!(
        collector.get("/v1/campaigns/t.r1").status,
        404,
        "archived files are not served"
    );

    let ended = collector.get("/v1/campaigns/gone");
    assert_eq!(ended.status, 410);
    assert_eq!(
        ended.error(),
        "campaign \"gone\" ended at 2020-01-01T00:00:00Z: it is no longer run and its reports are no longer accepted"
    );
    common::clear_of_the_hour_change();
    let mut late = report(1, Outcome::Ok, Outcome::Ok);
    late.campaign = "gone".into();
    let refused = collector.post_from("127.0.0.2", &serde_json::to_string(&late).unwrap());
    assert_eq!(refused.status, 410, "{}", refused.body);
    assert!(
        refused.error().contains("ended at 2020-01-01T00:00:00Z"),
        "{}",
        refused.body
    );

    // A page that loaded revision 1 (x and yt) before the revision: still accepted, under 1.
    let old = report(2, Outcome::Ok, Outcome::Ok);
    let stored = collector.post_from("127.0.0.3", &serde_json::to_string(&old).unwrap());
    assert_eq!(stored.status, 201, "{}", stored.body);
    // Revision 2's report (x only), with a revision claimed by the sender: overwritten.
    let mut new = report(3, Outcome::Ok, Outcome::Ok);
    new.platforms.retain(|p| p.id == "x");
    new.campaign_revision = Some(7);
    let stored = collector.post_from("127.0.0.4", &serde_json::to_string(&new).unwrap());
    assert_eq!(stored.status, 201, "{}", stored.body);
    // Neither revision's report: refused with the current revision's reason.
    let mut neither = report(4, Outcome::Ok, Outcome::Ok);
    neither.platforms.retain(|p| p.id == "yt");
    let refused = collector.post_from("127.0.0.5", &serde_json::to_string(&neither).unwrap());
    assert_eq!(refused.status, 422, "{}", refused.body);

    let export = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(["export", "--database", &store.url()])
        .output()
        .unwrap();
    let revisions: Vec<(u64, u64)> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let report = &serde_json::from_str::<Value>(line).unwrap()["report"];
            (
                report["runtime_ms"].as_u64().unwrap(),
                report["campaign_revision"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(revisions, [(2, 1), (3, 2)]);

    // Its organisers see its results: both revisions counted under the campaign, and a
    // campaign without reports has none (k = 1 here).
    let x_reports = |query: &str| -> u64 {
        let answer = collector.get(&format!("/v1/aggregates?platform=x&{query}"));
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        answer.json()["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|cell| cell["reports"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(x_reports("campaign=t"), 2);
    assert_eq!(x_reports("campaign=gone"), 0);
    assert_eq!(x_reports(""), 2);
    for path in ["/v1/disruptions?campaign=t", "/v1/export/ooni?campaign=t"] {
        assert_eq!(collector.get(path).status, 200, "{path}");
    }
}

#[test]
fn the_page_runs_a_campaign_by_id_in_the_visitors_language_and_says_when_it_ended() {
    use common::chromium::{rendered, text};
    let dir = TempDir::new("campaign-page");
    let d = dir.path();
    std::fs::create_dir_all(d.join("campaigns")).unwrap();
    campaign_file(&d.join("campaigns"), "t.json", |v| {
        v["short_description"] = json!("Is the news blocked?");
        v["short_description_intl"] = json!({ "ur": "کیا خبریں بند ہیں؟" });
    });
    campaign_file(&d.join("campaigns"), "gone.json", |v| {
        v["id"] = json!("gone");
        v["expiration_date"] = json!("2020-01-01");
    });
    let collector = Collector::serving(d, &common::www(), &d.join("campaigns"), &[]);
    let base = format!("http://{}", collector.addr);

    let page = rendered(&format!("{base}/?campaign=t"));
    assert!(
        page.contains(
            r#"<p id="campaign-name" class="campaign-name" translate="no">Test campaign</p>"#
        ),
        "{page}"
    );
    assert!(text(&page).contains("Is the news blocked?"), "{page}");
    let urdu = rendered(&format!("{base}/embed.html?campaign=t&lang=ur"));
    assert!(urdu.contains(">آزمائشی مہم</p>"), "{urdu}");
    assert!(text(&urdu).contains("کیا خبریں بند ہیں؟"), "{urdu}");

    let ended = rendered(&format!("{base}/?campaign=gone"));
    assert!(
        text(&ended).contains("This campaign has ended: it is no longer run."),
        "{ended}"
    );
    let ended = rendered(&format!("{base}/?campaign=gone&lang=ur"));
    assert!(text(&ended).contains("یہ مہم ختم ہو چکی ہے"), "{ended}");
}

/// The host of an https URL.
fn host(url: &str) -> &str {
    let rest = url.strip_prefix("https://").expect("https URL");
    rest.split(['/', '?', '#', ':']).next().unwrap_or("")
}

#[test]
fn every_shipped_campaign_is_valid_and_keeps_the_offline_endpoint_rules() {
    use netreach_collector::campaigns::Descriptor;
    use std::collections::HashSet;
    let folder = common::www().join("campaigns");
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let d = Descriptor::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(d.validate_new(), Ok(()), "{}", path.display());
        let c = &d.campaign;
        let platform_hosts: HashSet<&str> = (c.platforms.iter())
            .flat_map(|p| p.endpoints.iter().map(|e| host(&e.url)))
            .collect();
        for control in &c.controls {
            assert!(
                !platform_hosts.contains(host(&control.url)),
                "{}: {}",
                c.id,
                control.url
            );
        }
        for p in &c.platforms {
            let hosts: HashSet<&str> = p.endpoints.iter().map(|e| host(&e.url)).collect();
            assert!(
                hosts.len() >= 2,
                "{}: {}: endpoints on one host name",
                c.id,
                p.id
            );
        }
        ids.push(c.id.clone());
    }
    ids.sort();
    assert_eq!(ids, ["default", "pk"]);
}

#[test]
fn the_pakistan_campaign_has_the_default_platforms_ptcl_and_news_sites() {
    use netreach_collector::campaigns::Descriptor;
    let read = |name: &str| {
        let text = std::fs::read_to_string(common::www().join("campaigns").join(name)).unwrap();
        Descriptor::parse(&text).unwrap()
    };
    let (default, pk) = (read("default.json"), read("pk.json"));
    assert_eq!(pk.campaign.controls, default.campaign.controls);
    for platform in &default.campaign.platforms {
        assert!(
            pk.campaign.platforms.contains(platform),
            "{} differs or is missing",
            platform.id
        );
    }
    let ids: Vec<&str> = pk
        .campaign
        .platforms
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    for id in [
        "ptcl",
        "ufone",
        "insaf-pk",
        "voa-urdu",
        "voa-deewa",
        "balochistan-post",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    assert!(pk.about.name_intl.contains_key("ur"));
    assert!(pk.about.short_description_intl.contains_key("ur"));
}
