//! `cargo xtask build`: the Wasm package in www/pkg, with its size checked against the budget.

use crate::settings::PackageSettings;
use crate::size::PackageSize;
use crate::workspace::{run, Workspace};

/// Builds the package with the settings in wasm-pack.toml, prints its sizes and checks the budget.
///
/// # Errors
/// wasm-pack fails, or the package is over its gzip budget.
pub fn build(workspace: &Workspace) -> Result<PackageSize, String> {
    let settings = wasm_pack(workspace)?;
    check_size(workspace, &settings)
}

/// Runs `wasm-pack build` with the flags wasm-pack.toml stands for; returns those settings.
///
/// # Errors
/// wasm-pack.toml is invalid or wasm-pack fails.
pub fn wasm_pack(workspace: &Workspace) -> Result<PackageSettings, String> {
    let settings = PackageSettings::load(&workspace.path("wasm-pack.toml"))?;
    let args = settings.wasm_pack_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&mut workspace.command("wasm-pack", &args))?;
    Ok(settings)
}

/// Measures the built package and prints it against the budget.
///
/// # Errors
/// The package is missing or over budget.
pub fn check_size(
    workspace: &Workspace,
    settings: &PackageSettings,
) -> Result<PackageSize, String> {
    let out_dir = workspace.path(&settings.out_dir);
    let size = PackageSize::measure(&out_dir, &settings.out_name)?;
    println!();
    println!("Wasm package {}:", settings.out_dir);
    if size.print_against(settings.budget_gzip_bytes) {
        Ok(size)
    } else {
        Err(format!(
            "the Wasm package is over its size budget ({} > {} bytes gzipped, set in wasm-pack.toml)",
            size.gzip(),
            settings.budget_gzip_bytes
        ))
    }
}
