//! `cargo xtask serve`: the main job. Builds the Wasm package, then runs the collector on
//! http://127.0.0.1:8080 (the page, the campaigns, the report endpoint, a SQLite file in data/).
//! `--demo` serves a simulated week of SYNTHETIC reports instead, from a database of its own
//! (data/demo.db, made afresh each time so its events are recent), labelled as such.

use std::fs::{self, File};

use crate::workspace::{run, Workspace};
use crate::{package, setup, static_server};

pub const ADDRESS: &str = "127.0.0.1:8080";
pub const DATABASE: &str = "sqlite://data/netreach.db";
/// The demo's own database: never the real one.
pub const DEMO_DATABASE: &str = "sqlite://data/demo.db";

/// # Errors
/// Set-up or the build fails, the demo data cannot be made, or the server cannot start.
pub fn serve(workspace: &Workspace, args: &[String]) -> Result<(), String> {
    let mut with_setup = true;
    let mut static_only = false;
    let mut demo = false;
    for arg in args {
        match arg.as_str() {
            "--no-setup" => with_setup = false,
            "--static" => static_only = true,
            "--demo" => demo = true,
            other => {
                return Err(format!(
                    "serve: unknown option {other} (try --no-setup, --static, --demo)"
                ))
            }
        }
    }
    if static_only && demo {
        return Err("serve: --demo needs the collector, not --static".into());
    }
    if with_setup {
        setup::setup(workspace)?;
    }
    println!("== build: Wasm package");
    let settings = package::make(workspace)?;
    // Over budget fails `build` and `test`, but the page still works: serve it and say so.
    if let Err(error) = package::check_size(workspace, &settings) {
        println!("warning: {error}");
    }
    if static_only {
        println!("== serve: static files from www/ (--static: no collector, nowhere to submit)");
        return static_server::serve(ADDRESS, &workspace.path("www"));
    }
    fs::create_dir_all(workspace.path("data"))
        .map_err(|error| format!("cannot create data/: {error}"))?;
    let database = if demo {
        make_demo(workspace)?;
        DEMO_DATABASE
    } else {
        DATABASE
    };
    println!("== serve: collector on http://{ADDRESS}/ (database {database}; Ctrl-C stops)");
    let mut collector = vec![
        "run",
        "--release",
        "-p",
        "netreach-collector",
        "--",
        "--listen",
        ADDRESS,
        "--database",
        database,
        "--www",
        "www",
    ];
    if demo {
        collector.push("--demo");
    }
    run(&mut workspace.cargo(&collector))
}

/// A fresh data/demo.db holding a week ending now: `netreach-collector demo` writes it as
/// JSON lines (data/demo.jsonl), `import` checks and stores every line.
fn make_demo(workspace: &Workspace) -> Result<(), String> {
    println!("== demo: a simulated week of SYNTHETIC reports into {DEMO_DATABASE}");
    run(&mut workspace.cargo(&["build", "--release", "-p", "netreach-collector"]))?;
    let collector = workspace.binary("netreach-collector", true);
    let collector = collector.to_str().ok_or("target folder: not UTF-8")?;
    for file in ["data/demo.db", "data/demo.db-wal", "data/demo.db-shm"] {
        match fs::remove_file(workspace.path(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {file}: {e}"))
            }
            _ => {}
        }
    }
    let lines = workspace.path("data/demo.jsonl");
    let out = File::create(&lines).map_err(|e| format!("{}: {e}", lines.display()))?;
    run(workspace.command(collector, &["demo"]).stdout(out))?;
    run(&mut workspace.command(
        collector,
        &["import", "--database", DEMO_DATABASE, "data/demo.jsonl"],
    ))
}
