//! `netreach-collector`: see `--help`.

use clap::Parser;
use netreach_collector::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let done = match cli.command {
        None => netreach_collector::server::run(cli.serve).await,
        Some(Command::Catalog(args)) => netreach_collector::catalog::run(args).await,
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netreach-collector: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
