//! `cargo xtask serve`: the main job. Builds the Wasm package, then runs the collector on
//! http://127.0.0.1:8080 (the page, the campaigns, the report endpoint, a SQLite file in data/).

use std::fs;
use std::process::Command;

use crate::workspace::{output, run, Workspace};
use crate::{package, setup, static_server};

pub const ADDRESS: &str = "127.0.0.1:8080";
pub const DATABASE: &str = "sqlite://data/netreach.db";

/// What `serve` runs after the build.
pub enum MainJob {
    /// The collector binary (collector/), which serves www/ itself.
    Collector,
    /// xtask's own static file server for www/, while the collector is not there yet.
    StaticFiles { why: String },
}

/// Picks the collector as soon as it is a real server: its `--help` offers `--listen`. The
/// placeholder crate (`fn main() {}`) prints nothing and is passed over.
///
/// # Errors
/// The collector does not build.
pub fn main_job(workspace: &Workspace) -> Result<MainJob, String> {
    run(&mut workspace.cargo(&["build", "--release", "-p", "netreach-collector"]))?;
    let binary = workspace.binary("netreach-collector", true);
    let help = output(Command::new(&binary).arg("--help")).unwrap_or_default();
    Ok(if help.contains("--listen") {
        MainJob::Collector
    } else {
        MainJob::StaticFiles {
            why: "the collector binary has no --listen option yet".into(),
        }
    })
}

/// # Errors
/// Set-up or the build fails, or the server cannot start.
pub fn serve(workspace: &Workspace, args: &[String]) -> Result<(), String> {
    let mut with_setup = true;
    let mut static_only = false;
    for arg in args {
        match arg.as_str() {
            "--no-setup" => with_setup = false,
            "--static" => static_only = true,
            other => {
                return Err(format!(
                    "serve: unknown option {other} (try --no-setup, --static)"
                ))
            }
        }
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
    let job = if static_only {
        MainJob::StaticFiles {
            why: "--static was given".into(),
        }
    } else {
        main_job(workspace)?
    };
    match job {
        MainJob::Collector => {
            fs::create_dir_all(workspace.path("data"))
                .map_err(|error| format!("cannot create data/: {error}"))?;
            println!(
                "== serve: collector on http://{ADDRESS}/ (database {DATABASE}; Ctrl-C stops)"
            );
            run(&mut workspace.cargo(&[
                "run",
                "--release",
                "-p",
                "netreach-collector",
                "--",
                "--listen",
                ADDRESS,
                "--database",
                DATABASE,
                "--www",
                "www",
            ]))
        }
        MainJob::StaticFiles { why } => {
            println!("== serve: static files from www/ ({why})");
            static_server::serve(ADDRESS, &workspace.path("www"))
        }
    }
}
