//! `netreach-collector`: see `--help`.

use clap::Parser;
use netreach_collector::cli::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    match netreach_collector::server::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netreach-collector: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
