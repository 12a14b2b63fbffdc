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
    check_starts(workspace, &settings)?;
    check_size(workspace, &settings)
}

/// The JS API of the contract, as wasm-bindgen writes it into the glue.
const EXPORTS: [&str; 4] = [
    "export function run(",
    "export function submit(",
    "export function validate(",
    "export { initSync, __wbg_init as default };",
];

/// Checks that the package exports the contract's API and, where Node.js is installed, that
/// it instantiates and answers a call: a post-processing step that corrupts the module (as
/// Debian's wasm-opt 108 did) fails here rather than in a visitor's browser.
///
/// # Errors
/// An export is missing, or the module does not start.
pub fn check_starts(workspace: &Workspace, settings: &PackageSettings) -> Result<(), String> {
    let dir = workspace.path(&settings.out_dir);
    let glue = dir.join(format!("{}.js", settings.out_name));
    let text = std::fs::read_to_string(&glue)
        .map_err(|e| format!("cannot read {}: {e}", glue.display()))?;
    if let Some(missing) = EXPORTS.iter().find(|e| !text.contains(*e)) {
        return Err(format!("{} lacks `{missing}`", glue.display()));
    }
    if !crate::workspace::on_path("node") {
        println!("skip: start check of the package (no Node.js on PATH)");
        return Ok(());
    }
    let wasm = dir.join(format!("{}_bg.wasm", settings.out_name));
    let script = format!(
        "import {{ initSync, validate }} from {glue:?};\n\
         import {{ readFileSync }} from 'node:fs';\n\
         initSync({{ module: readFileSync({wasm:?}) }});\n\
         try {{ validate({{}}); process.exit(3); }}\n\
         catch (e) {{ if (!String(e.message).startsWith('invalid campaign')) throw e; }}\n\
         console.log('package starts: init() and validate() work');",
        glue = glue.display().to_string(),
        wasm = wasm.display().to_string(),
    );
    run(std::process::Command::new("node").args(["--input-type=module", "-e", &script]))
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
