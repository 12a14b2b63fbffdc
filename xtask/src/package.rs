//! `cargo xtask build`: the Wasm package in www/pkg, with its size checked against the budget.

use crate::settings::PackageSettings;
use crate::size::PackageSize;
use crate::workspace::{run, Workspace};

/// Builds the package with the settings in wasm-pack.toml, prints its sizes and checks the budget.
///
/// # Errors
/// wasm-pack fails, or the package is over its gzip budget.
pub fn build(workspace: &Workspace) -> Result<PackageSize, String> {
    let settings = make(workspace)?;
    check_starts(workspace, &settings)?;
    check_size(workspace, &settings)
}

/// The JS API of the contract: the glue's exports that pages and embeds import.
const EXPORTS: [&str; 5] = ["run", "submit", "validate", "initSync", "default"];

/// The package's .wasm and its JS glue.
fn module_and_glue(
    workspace: &Workspace,
    settings: &PackageSettings,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = workspace.path(&settings.out_dir);
    (
        dir.join(format!("{}_bg.wasm", settings.out_name)),
        dir.join(format!("{}.js", settings.out_name)),
    )
}

/// Checks in Node.js that the glue exports the contract's API and that the module instantiates
/// and answers a call: a post-processing step that corrupts the module (as Debian's wasm-opt 108
/// did) or mismatches it with its glue fails here rather than in a visitor's browser.
///
/// # Errors
/// An export is missing, or the module does not start.
pub fn check_starts(workspace: &Workspace, settings: &PackageSettings) -> Result<(), String> {
    let (wasm, glue) = module_and_glue(workspace, settings);
    let script = format!(
        "import * as glue from {glue:?};\n\
         import {{ readFileSync }} from 'node:fs';\n\
         const missing = {exports:?}.filter((name) => typeof glue[name] !== 'function');\n\
         if (missing.length) throw new Error(`the glue does not export ${{missing}}`);\n\
         glue.initSync({{ module: readFileSync({wasm:?}) }});\n\
         try {{ glue.validate({{}}); process.exit(3); }}\n\
         catch (e) {{ if (!String(e.message).startsWith('invalid campaign')) throw e; }}\n\
         console.log('package starts: exports {exports:?}; init() and validate() work');",
        glue = glue.display().to_string(),
        wasm = wasm.display().to_string(),
        exports = EXPORTS,
    );
    run(std::process::Command::new("node").args(["--input-type=module", "-e", &script]))
}

/// Builds the package as wasm-pack.toml says: `wasm-pack build`, then (with `minify`) short
/// shared names and a minified glue, then a gzipped copy of each file. Returns the settings.
///
/// # Errors
/// wasm-pack.toml is invalid, wasm-pack fails, or the package cannot be shrunk.
pub fn make(workspace: &Workspace) -> Result<PackageSettings, String> {
    let settings = PackageSettings::load(&workspace.path("wasm-pack.toml"))?;
    let args = settings.wasm_pack_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = workspace.command("wasm-pack", &args);
    command.envs(settings.wasm_pack_env());
    run(&mut command)?;
    if settings.minify {
        minify(workspace, &settings)?;
    }
    precompress(workspace, &settings)?;
    Ok(settings)
}

/// Writes `<file>.gz` (gzip -9 -n) beside each file of the package: the collector sends it to
/// browsers that accept gzip (as nginx's `gzip_static` does), so a visitor downloads the
/// budgeted gzip size, and no CPU is spent compressing per request. Rewritten on every build,
/// so never older than the file beside it.
fn precompress(workspace: &Workspace, settings: &PackageSettings) -> Result<(), String> {
    let dir = workspace.path(&settings.out_dir);
    for (_, path) in crate::size::package_files(&dir, &settings.out_name) {
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut gz = path.clone().into_os_string();
        gz.push(".gz");
        std::fs::write(&gz, crate::size::gzip(&bytes)?)
            .map_err(|e| format!("cannot write {}.gz: {e}", path.display()))?;
    }
    Ok(())
}

/// Where `cargo xtask setup` installs terser (xtask/js/package-lock.json pins it).
const TERSER: &str = "xtask/js/node_modules/terser/bin/terser";

fn minify(workspace: &Workspace, settings: &PackageSettings) -> Result<(), String> {
    let (wasm_path, glue_path) = module_and_glue(workspace, settings);
    let read_error =
        |path: &std::path::Path, e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let wasm = std::fs::read(&wasm_path).map_err(|e| read_error(&wasm_path, e))?;
    let glue = std::fs::read_to_string(&glue_path).map_err(|e| read_error(&glue_path, e))?;
    let (wasm, glue) = crate::shrink::shorten_names(&wasm, &glue)
        .map_err(|e| format!("{}: {e}", wasm_path.display()))?;
    let write_error =
        |path: &std::path::Path, e: std::io::Error| format!("cannot write {}: {e}", path.display());
    std::fs::write(&wasm_path, wasm).map_err(|e| write_error(&wasm_path, e))?;
    std::fs::write(&glue_path, glue).map_err(|e| write_error(&glue_path, e))?;
    let terser = workspace.path(TERSER);
    if !terser.exists() {
        return Err(format!(
            "{} is missing: run `cargo xtask setup` (installs it with npm ci)",
            terser.display()
        ));
    }
    let glue = glue_path.display().to_string();
    let terser = terser.display().to_string();
    // An ES module: top-level names may be mangled, exports keep theirs.
    run(&mut workspace.command(
        "node",
        &[
            &terser,
            &glue,
            "--module",
            "--compress",
            "--mangle",
            "--output",
            &glue,
        ],
    ))
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
