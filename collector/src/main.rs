//! `netreach-collector`: see `--help`.

use clap::Parser;
use netreach_collector::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let done = match cli.command {
        None => netreach_collector::server::run(cli.serve).await,
        Some(Command::Catalog(args)) => netreach_collector::catalog::run(args).await,
        Some(Command::Export(args)) => netreach_collector::jsonl::export(args).await,
        Some(Command::Demo(args)) => netreach_collector::demo::run(args),
        Some(Command::Rollup(args)) => netreach_collector::rollup::command(args).await,
        // Its exit code tells bad lines (1) from bad usage (2).
        Some(Command::Import(args)) => return netreach_collector::jsonl::import(args).await,
        Some(Command::Campaign(args)) => netreach_collector::campaigns::admin::run(args),
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netreach-collector: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
