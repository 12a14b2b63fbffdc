//! `cargo xtask serve`: the main job. Builds the Wasm package, then runs the collector on
//! http://127.0.0.1:8080 (the page, the campaigns, the report endpoint, a SQLite file in data/).

use std::fs;

use crate::workspace::{run, Workspace};
use crate::{package, setup, static_server};

pub const ADDRESS: &str = "127.0.0.1:8080";
pub const DATABASE: &str = "sqlite://data/netreach.db";

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
    if static_only {
        println!("== serve: static files from www/ (--static: no collector, nowhere to submit)");
        return static_server::serve(ADDRESS, &workspace.path("www"));
    }
    fs::create_dir_all(workspace.path("data"))
        .map_err(|error| format!("cannot create data/: {error}"))?;
    println!("== serve: collector on http://{ADDRESS}/ (database {DATABASE}; Ctrl-C stops)");
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
