//! netreach's build tool, run as `cargo xtask <command>` (alias in .cargo/config.toml).
//! std only, so that it compiles in seconds on a fresh machine.
//!
//! A tour: `setup` installs what is missing; `settings` reads wasm-pack.toml and
//! rust-toolchain.toml; `package` builds the Wasm package (`shrink` renames and minifies it,
//! `pinned` writes its content-addressed copies and integrity.json, `size` checks the budget); `stages` is `cargo xtask test`; `bench` the benchmarks; `serve`
//! and `static_server` run the page; `catalog` runs the catalog check (its own crate,
//! `xtask/catalog`); `workspace` finds the tree and runs commands with limits.

mod bench;
mod catalog;
mod package;
mod pinned;
mod serve;
mod settings;
mod setup;
mod shrink;
mod size;
mod stages;
mod static_server;
mod workspace;

use std::process::ExitCode;

use workspace::Workspace;

const USAGE: &str = "\
usage: cargo xtask <command>

  setup                 install what is missing (the wasm32 target and components that
                        rust-toolchain.toml lists, for the Rust it pins; wasm-bindgen-cli at
                        the Cargo.lock version, wasm-pack, Chromium, chromedriver, Firefox
                        ESR, geckodriver, Node.js and terser, PostgreSQL, lab and benchmark
                        tools); skips what is present
  build                 build the Wasm package into www/pkg (settings in wasm-pack.toml), shrink
                        it, write its pinned copies (SRI) and integrity.json, its .gz twins,
                        print raw and gzip sizes, fail when over the size budget
  serve [--no-setup] [--static] [--demo]
                        setup, build, then run the collector on http://127.0.0.1:8080
                        (--static: only www/'s files, from xtask's own server; --demo: a
                        simulated week of SYNTHETIC reports in data/demo.db, made afresh,
                        served labelled as synthetic)
  test [--no-setup] [--allow-skip] [STAGE...]
                        setup, then every check: fmt, clippy, clippy-wasm, native, package,
                        browser, browser-firefox, lab (or only the STAGEs named); prints a
                        summary and fails if any stage failed, or was skipped (the lab without
                        root) unless --allow-skip is given
  bench [--list] [NAME...]
                        run the benchmarks (all, or those named) and print their figures
  catalog check [--browser chromium|firefox] [CAMPAIGN...]
                        load every endpoint of each campaign (an id in www/campaigns or a
                        file; default: all) with the engine in headless Chromium and Firefox
                        ESR, from an unfiltered network; print ok / unusable (why) /
                        unreachable per endpoint and browser. Exit 0 all ok, 1 a problem,
                        2 bad input, 3 could not run
";

/// The entry of `entries` called `name` (a stage, a benchmark); when there is none, the error
/// is every name, comma-separated, for a message that lists them.
fn find_by_name<'a, T>(
    entries: &'a [T],
    name: &str,
    name_of: fn(&T) -> &'static str,
) -> Result<&'a T, String> {
    match entries.iter().find(|entry| name_of(entry) == name) {
        Some(entry) => Ok(entry),
        None => Err(entries.iter().map(name_of).collect::<Vec<_>>().join(", ")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workspace = Workspace::locate();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "setup" => setup::setup(&workspace),
        "build" => package::build(&workspace).map(|_| ()),
        "serve" => serve::serve(&workspace, rest),
        "test" => stages::test(&workspace, rest),
        "bench" => bench::bench(&workspace, rest),
        // Its own exit statuses (problems found, bad input) go through unchanged.
        "catalog" => return catalog::catalog(&workspace, rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("error: {error}");
            }
            ExitCode::FAILURE
        }
    }
}
