//! `cargo xtask catalog check [CAMPAIGN...]`: builds the Wasm package and the checker
//! (`xtask/catalog`, its own crate: it needs a WebDriver client and TLS, and xtask stays
//! std-only), then runs it with the browsers' drivers and passes its exit status on:
//! 0 every endpoint ok, 1 a problem found, 2 bad input, 3 the check could not run.

use std::process::{Command, ExitCode};

use crate::workspace::{describe, Workspace};
use crate::{package, setup, stages};

/// Exit status when the package or the checker does not build (the checker's own "could
/// not run").
const CANNOT_RUN: u8 = 3;

pub fn catalog(workspace: &Workspace, args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) != Some("check") {
        eprintln!(
            "error: usage: cargo xtask catalog check [--browser chromium|firefox] [CAMPAIGN...]"
        );
        return ExitCode::from(2);
    }
    let built = package::build(workspace)
        .map(|_| ())
        .and_then(|()| stages::build_binary(workspace, "netreach-catalog", false));
    let binary = match built {
        Ok(binary) => binary,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(CANNOT_RUN);
        }
    };
    let mut command = Command::new(binary);
    command.args(args).current_dir(&workspace.root);
    command.env("CHROMEDRIVER", stages::CHROMEDRIVER);
    if let Some(geckodriver) = setup::geckodriver_path() {
        command.env("GECKODRIVER", geckodriver);
    }
    println!("$ {}", describe(&command));
    match command.status() {
        Ok(status) => ExitCode::from(status.code().map_or(CANNOT_RUN, |c| c as u8)),
        Err(error) => {
            eprintln!("error: cannot start the catalog check: {error}");
            ExitCode::from(CANNOT_RUN)
        }
    }
}
