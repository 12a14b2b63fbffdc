//! The package's TypeScript declarations (src/js/netreach.d.ts) and npm manifest
//! (src/js/package.json), which `cargo xtask build` copies into www/pkg, checked with the tsc
//! that `cargo xtask setup` installs in xtask/js: a page importing the package by name
//! type-checks under `--strict` (bundler and Node.js resolution); reports and campaigns
//! serialized by the engine's own types, and www/campaigns/default.json, fit the declared
//! types; every union holds exactly the vocabulary's wire names; and wrongly typed uses fail.
#![cfg(not(target_arch = "wasm32"))]

use netreach::classify::{classify, Baseline};
use netreach::{
    Attempt, Browser, Campaign, Client, Condition, Endpoint, EndpointResult, Os, Outcome, Platform,
    PlatformResult, ProbeKind, Reason, Report, Verdict, SCHEMA,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A folder holding the package as a bundler finds it (`node_modules/netreach`), removed on
/// drop.
struct Project(PathBuf);

impl Project {
    fn new(tag: &str) -> Project {
        let dir = std::env::temp_dir().join(format!("netreach-ts-{tag}-{}", std::process::id()));
        let package = dir.join("node_modules/netreach");
        std::fs::create_dir_all(&package).unwrap();
        for file in ["package.json", "netreach.d.ts"] {
            std::fs::copy(repo("src/js").join(file), package.join(file)).unwrap();
        }
        // The consumer's own package: an ES module, as Node.js resolution needs to know.
        std::fs::write(dir.join("package.json"), r#"{"type": "module"}"#).unwrap();
        Project(dir)
    }

    fn write(&self, name: &str, source: &str) {
        std::fs::write(self.0.join(name), source).unwrap();
    }

    /// `tsc --strict --noEmit` on `files` with `resolution` (`bundler` or `nodenext`): its
    /// diagnostics when it fails.
    fn check(&self, files: &[&str], resolution: &str) -> Result<(), String> {
        let tsc = repo("xtask/js/node_modules/typescript/bin/tsc");
        assert!(
            tsc.exists(),
            "{} is missing: run `cargo xtask setup` (installs typescript with npm ci)",
            tsc.display()
        );
        let module = if resolution == "bundler" {
            "esnext"
        } else {
            resolution
        };
        let out = Command::new("node")
            .arg(&tsc)
            .args([
                "--strict",
                "--noEmit",
                "--target",
                "es2022",
                "--lib",
                "es2022,dom",
            ])
            .args(["--module", module, "--moduleResolution", resolution])
            .args(files)
            .current_dir(&self.0)
            .output()
            .expect("node (Debian package nodejs; `cargo xtask setup` installs it)");
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr))
        }
    }

    fn passes(&self, file: &str, resolution: &str) {
        if let Err(diagnostics) = self.check(&[file], resolution) {
            panic!("{file} ({resolution}) fails tsc:\n{diagnostics}");
        }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_page_importing_the_package_by_name_type_checks() {
    let project = Project::new("consumer");
    project.write("consumer.ts", &read("tests/typescript/consumer.ts"));
    project.passes("consumer.ts", "bundler");
    project.passes("consumer.ts", "nodenext");
}

fn attempt(outcome: Outcome, ms: u32) -> Attempt {
    Attempt {
        outcome,
        ms,
        duration_ms: Some(ms + 5),
        bytes: Some(120_000),
        hidden: true,
    }
}

fn endpoint(url: &str, kind: ProbeKind, outcomes: [Outcome; 3]) -> EndpointResult {
    EndpointResult {
        url: url.into(),
        kind,
        attempts: outcomes.iter().map(|&o| attempt(o, 40)).collect(),
    }
}

/// A report with every optional field present, its verdicts given by the engine's classifier.
fn full_report() -> Report {
    let controls = vec![endpoint(
        "https://c.example/a.js",
        ProbeKind::Fetch,
        [Outcome::Ok; 3],
    )];
    let baseline = Baseline::new(&controls);
    let platform = |id: &str, outcomes| {
        let endpoints = vec![
            endpoint("https://x.example/i.png", ProbeKind::Image, outcomes),
            endpoint("https://x.example/", ProbeKind::Fetch, [Outcome::Ok; 3]),
        ];
        let (verdict, reason) = classify(&baseline, &[], &endpoints);
        PlatformResult {
            id: id.into(),
            verdict,
            reason,
            median_ms: Some(41),
            kbps: Some(9600),
            endpoints,
        }
    };
    Report {
        schema: SCHEMA.into(),
        campaign: "default".into(),
        campaign_revision: None,
        started_at: "2026-11-22T21:00:00.000Z".into(),
        runtime_ms: 11_520,
        client: Client {
            browser: Browser::Firefox,
            version: 140,
            os: Os::Android,
        },
        conditions: vec![Condition::PageHidden],
        controls,
        platforms: vec![
            platform("x", [Outcome::Timeout; 3]),
            platform("yt", [Outcome::Ok, Outcome::Unusable, Outcome::Error]),
        ],
    }
}

/// The same with every optional field absent (as a run without them serializes).
fn minimal_report() -> Report {
    let mut report = full_report();
    report.conditions.clear();
    for platform in &mut report.platforms {
        (platform.median_ms, platform.kbps) = (None, None);
    }
    let platforms = report.platforms.iter_mut().flat_map(|p| &mut p.endpoints);
    for endpoint in report.controls.iter_mut().chain(platforms) {
        for a in &mut endpoint.attempts {
            (a.duration_ms, a.bytes, a.hidden) = (None, None, false);
        }
    }
    report
}

fn full_campaign() -> Campaign {
    let endpoint = |url: &str, bytes, bust| Endpoint {
        url: url.into(),
        kind: ProbeKind::Image,
        bytes,
        bust,
    };
    Campaign {
        id: "full".into(),
        controls: vec![endpoint("https://c.example/c.png", None, true)],
        platforms: vec![Platform {
            id: "x".into(),
            name: "X".into(),
            endpoints: vec![endpoint("https://x.example/big.jpg", Some(120_000), false)],
        }],
        trials: 5,
        collector: Some("https://netreach.example/v1/reports".into()),
    }
}

/// `const NAME: Record<TYPE, true> = {…}` over `names`: tsc refuses a name missing from the
/// union and one it does not hold (an excess property).
fn every_name(ty: &str, names: &[&str]) -> String {
    let fields: Vec<String> = names.iter().map(|n| format!("{n:?}: true")).collect();
    format!(
        "export const all{ty}: Record<{ty}, true> = {{ {} }};\n",
        fields.join(", ")
    )
}

fn vocabulary_checks() -> String {
    fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|&v| as_str(v)).collect()
    }
    [
        every_name("Verdict", &names(Verdict::ALL, Verdict::as_str)),
        every_name("Reason", &names(Reason::ALL, Reason::as_str)),
        every_name("Outcome", &names(Outcome::ALL, Outcome::as_str)),
        every_name("ProbeKind", &names(ProbeKind::ALL, ProbeKind::as_str)),
        every_name("Condition", &names(Condition::ALL, Condition::as_str)),
        every_name("Browser", &names(Browser::ALL, Browser::as_str)),
        every_name("Os", &names(Os::ALL, Os::as_str)),
        every_name("Schema", &[SCHEMA]),
    ]
    .concat()
}

const IMPORTS: &str = "import type { Browser, Campaign, Condition, Os, Outcome, ProbeKind, \
                       Reason, Report, Schema, Verdict } from \"netreach\";\n";

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap()
}

/// `const NAME: TYPE = <json>;`: an object literal, so tsc refuses a missing field, a field
/// the type does not declare, and a value of the wrong type.
fn typed(name: &str, ty: &str, json: &str) -> String {
    format!("export const {name}: {ty} = {json};\n")
}

#[test]
fn reports_and_campaigns_of_the_engine_fit_the_declared_types() {
    let project = Project::new("data");
    let source = [
        IMPORTS.to_owned(),
        vocabulary_checks(),
        typed("full", "Report", &json(&full_report())),
        typed("minimal", "Report", &json(&minimal_report())),
        typed("campaign", "Campaign", &json(&full_campaign())),
        typed("shipped", "Campaign", &read("www/campaigns/default.json")),
    ]
    .concat();
    assert!(source.contains("\"duration_ms\"") && source.contains("\"hidden\":true"));
    assert!(!json(&minimal_report()).contains("\"hidden\""));
    project.write("data.ts", &source);
    project.passes("data.ts", "bundler");
}

#[test]
fn wrongly_typed_uses_fail_tsc() {
    let project = Project::new("wrong");
    let report = serde_json::to_value(full_report()).unwrap();
    let with = |path: &[&str], value: serde_json::Value| {
        let mut report = report.clone();
        let mut at = &mut report;
        for key in &path[..path.len() - 1] {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        match value {
            serde_json::Value::Null => {
                at.as_object_mut().unwrap().remove(path[path.len() - 1]);
            }
            value => at[path[path.len() - 1]] = value,
        }
        typed("report", "Report", &report.to_string())
    };
    let cases = [
        (
            "verdict.ts",
            with(&["platforms", "0", "verdict"], "down".into()),
            "Type '\"down\"' is not assignable to type 'Verdict'",
        ),
        (
            "schema.ts",
            with(&["schema"], "netreach.report/2".into()),
            "is not assignable to type '\"netreach.report/1\"'",
        ),
        (
            "missing.ts",
            with(&["client"], serde_json::Value::Null),
            "Property 'client' is missing",
        ),
        (
            "extra.ts",
            with(&["client", "user_agent"], "Mozilla/5.0".into()),
            "'\"user_agent\"' does not exist in type 'Client'",
        ),
        (
            "verdicts.ts",
            every_name("Verdict", &["reachable", "throttled", "partial", "blocked"]),
            "Property 'inconclusive' is missing",
        ),
        (
            "reasons.ts",
            every_name(
                "Reason",
                &[
                    Reason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    vec!["shrugged"],
                ]
                .concat(),
            ),
            "'\"shrugged\"' does not exist in type 'Record<Reason, true>'",
        ),
        (
            "progress.ts",
            "import { run, type Campaign } from \"netreach\";\n\
             declare const c: Campaign;\n\
             run(c, { onProgress: (event: { done: string }) => {} });\n"
                .to_owned(),
            "Type 'number' is not assignable to type 'string'",
        ),
        (
            "submit.ts",
            "import { submit, type Report } from \"netreach\";\n\
             declare const r: Report;\n\
             submit(r);\n"
                .to_owned(),
            "Expected 2 arguments, but got 1",
        ),
        (
            "campaign.ts",
            "import { run } from \"netreach\";\n\
             run({ id: \"c\", controls: [], platforms: [{ id: \"x\", name: \"X\", endpoints: \
             [{ url: \"https://x.example/\", kind: \"xhr\" }] }] });\n"
                .to_owned(),
            "Type '\"xhr\"' is not assignable to type 'ProbeKind'",
        ),
    ];
    // One tsc run for every case (each run costs seconds), then each file's own diagnostics.
    for (file, body, _) in &cases {
        let source = if body.starts_with("import") {
            body.clone()
        } else {
            IMPORTS.to_owned() + body
        };
        project.write(file, &source);
    }
    let files: Vec<&str> = cases.iter().map(|(file, ..)| *file).collect();
    let diagnostics = project
        .check(&files, "bundler")
        .expect_err("every case is wrongly typed");
    for (file, _, expected) in &cases {
        // A diagnostic starts with `file(line,col)` and may go on over indented lines.
        let mut own = String::new();
        let mut in_file = false;
        for line in diagnostics.lines() {
            if !line.starts_with(' ') {
                in_file = line.starts_with(&format!("{file}("));
            }
            if in_file {
                own += line;
                own.push('\n');
            }
        }
        assert!(
            own.contains(expected),
            "{file}: expected {expected:?} in:\n{diagnostics}"
        );
    }
}

#[test]
fn the_manifest_names_the_crate_and_the_declared_glue() {
    let manifest: serde_json::Value = serde_json::from_str(&read("src/js/package.json")).unwrap();
    assert_eq!(manifest["name"], env!("CARGO_PKG_NAME"));
    assert_eq!(
        manifest["version"],
        env!("CARGO_PKG_VERSION"),
        "src/js/package.json must carry Cargo.toml's version"
    );
    assert_eq!(manifest["license"], env!("CARGO_PKG_LICENSE"));
    assert_eq!(manifest["type"], "module");
    assert_eq!(manifest["types"], "netreach.d.ts");
    assert_eq!(manifest["exports"]["."]["types"], "./netreach.d.ts");
    assert_eq!(manifest["exports"]["."]["default"], "./netreach.js");
    let files = manifest["files"].as_array().unwrap();
    for file in ["netreach.js", "netreach_bg.wasm", "netreach.d.ts"] {
        assert!(files.iter().any(|f| f == file), "files lacks {file}");
    }
}
