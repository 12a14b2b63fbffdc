//! `cargo xtask build`: the Wasm package in www/pkg, with its size checked against the budget.

use crate::settings::PackageSettings;
use crate::size::PackageSize;
use crate::workspace::{run, run_keeping_stderr, Workspace};

/// Builds the package with the settings in wasm-pack.toml, prints its sizes and checks the budget.
///
/// # Errors
/// wasm-pack fails, or the package is over its gzip budget.
pub fn build(workspace: &Workspace) -> Result<PackageSize, String> {
    let settings = make(workspace)?;
    check_starts(workspace, &settings)?;
    check_pinned(workspace, &settings)?;
    check_size(workspace, &settings)
}

/// The folder the collector serves at its root; the package is under it.
const WWW: &str = "www";

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
    check_declared(&workspace.path(DECLARATIONS).join("netreach.d.ts"))?;
    let script = format!(
        "import * as glue from {glue:?};\n\
         import {{ readFileSync }} from 'node:fs';\n\
         const missing = {exports:?}.filter((name) => typeof glue[name] !== 'function');\n\
         if (missing.length) throw new Error(`the glue does not export ${{missing}}`);\n\
         const undeclared = Object.keys(glue).filter((name) => !{exports:?}.includes(name));\n\
         if (undeclared.length) throw new Error(`the glue exports ${{undeclared}}, which {DECLARATIONS}/netreach.d.ts does not declare`);\n\
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

/// Checks in Node.js, with its own SHA-384 (not the one that wrote them), that every entry of
/// integrity.json is the hash of the file it names, that the pinned embed script is
/// www/embed.js, and that the pinned glue, started as a page starts it (`init()` with no
/// module given, so it fetches its own), asks for the pinned .wasm and nothing else.
///
/// # Errors
/// An entry is missing or wrong, or the pinned glue loads another module or does not start.
pub fn check_pinned(workspace: &Workspace, settings: &PackageSettings) -> Result<(), String> {
    let www = workspace.path(WWW);
    let list = workspace
        .path(&settings.out_dir)
        .join(crate::pinned::INTEGRITY_FILE);
    let glue = format!("{}.js", settings.out_name);
    let wasm = format!("{}_bg.wasm", settings.out_name);
    let script = format!(
        "import {{ readFileSync }} from 'node:fs';\n\
         import {{ createHash }} from 'node:crypto';\n\
         import {{ pathToFileURL }} from 'node:url';\n\
         const www = {www:?};\n\
         const list = JSON.parse(readFileSync({list:?}, 'utf8'));\n\
         const files = ['embed.js', {glue:?}, {wasm:?}];\n\
         if (Object.keys(list).sort().join() !== [...files].sort().join())\n\
           throw new Error(`integrity.json lists ${{Object.keys(list)}}, not ${{files}}`);\n\
         for (const [file, {{ path, integrity }}] of Object.entries(list)) {{\n\
           const hash = 'sha384-' + createHash('sha384').update(readFileSync(www + path)).digest('base64');\n\
           if (hash !== integrity) throw new Error(`${{file}}: integrity.json says ${{integrity}}, ${{path}} is ${{hash}}`);\n\
         }}\n\
         if (!readFileSync(www + list['embed.js'].path).equals(readFileSync(www + '/embed.js')))\n\
           throw new Error(`${{list['embed.js'].path}} is not www/embed.js`);\n\
         const asked = [];\n\
         globalThis.fetch = async (url) => {{\n\
           asked.push(String(url));\n\
           return new Response(readFileSync(new URL(url)), {{ headers: {{ 'Content-Type': 'application/wasm' }} }});\n\
         }};\n\
         const glue = await import(pathToFileURL(www + list[{glue:?}].path));\n\
         await glue.default();\n\
         const pinned = pathToFileURL(www + list[{wasm:?}].path).href;\n\
         if (asked.join() !== pinned) throw new Error(`the pinned glue loads ${{asked}}, not ${{pinned}}`);\n\
         try {{ glue.validate({{}}); process.exit(3); }}\n\
         catch (e) {{ if (!String(e.message).startsWith('invalid campaign')) throw e; }}\n\
         console.log('pinned files match integrity.json; the pinned glue starts on the pinned module');",
        www = www.display().to_string(),
        list = list.display().to_string(),
    );
    run(std::process::Command::new("node").args(["--input-type=module", "-e", &script]))
}

/// Builds the package as wasm-pack.toml says: `wasm-pack build`, then (with `minify`) short
/// shared names and a minified glue, then the pinned copies for Subresource Integrity and
/// their list (`pinned`), then a gzipped copy of each file. Returns the settings
/// the package was built with: without `immediate-abort` when the compiler refused it.
///
/// # Errors
/// wasm-pack.toml is invalid, wasm-pack fails, or the package cannot be shrunk.
pub fn make(workspace: &Workspace) -> Result<PackageSettings, String> {
    let settings = PackageSettings::load(&workspace.path("wasm-pack.toml"))?;
    let (built, stderr) = wasm_pack(workspace, &settings);
    let settings = match built {
        Ok(()) => settings,
        Err(error) => {
            let cause = settings
                .immediate_abort
                .then(|| unstable_option_refused(&stderr))
                .flatten()
                .ok_or(error)?;
            println!(
                "warning: this compiler refuses the package's unstable options ({cause}); \
                 building again without `immediate-abort` (wasm-pack.toml): a larger package. \
                 See README, \"Moving the pin\"."
            );
            let fallback = PackageSettings {
                immediate_abort: false,
                ..settings
            };
            wasm_pack(workspace, &fallback).0?;
            fallback
        }
    };
    if settings.minify {
        minify(workspace, &settings)?;
    }
    let pkg = workspace.path(&settings.out_dir);
    add_declarations(workspace, &pkg, &settings.out_name)?;
    let pins = crate::pinned::write(&workspace.path(WWW), &pkg, &settings.out_name)?;
    println!(
        "pinned for Subresource Integrity ({}/{}):",
        settings.out_dir,
        crate::pinned::INTEGRITY_FILE
    );
    for pin in &pins {
        println!("  {:<18} {}  {}", pin.file, pin.path, pin.integrity);
    }
    let mut files: Vec<_> = crate::size::package_files(&pkg, &settings.out_name)
        .into_iter()
        .map(|(_, path)| path)
        .collect();
    files.extend(crate::pinned::files(&pkg, &pins));
    precompress(&files)?;
    Ok(settings)
}

/// Checks that the declarations declare each function of [`EXPORTS`] (the glue's exports
/// are checked against the same list in Node.js).
///
/// # Errors
/// The file cannot be read, or one is not declared.
fn check_declared(declarations: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(declarations)
        .map_err(|e| format!("cannot read {}: {e}", declarations.display()))?;
    let undeclared: Vec<&str> = EXPORTS
        .into_iter()
        .filter(|name| {
            let declaration = match *name {
                "default" => "export default function ".to_owned(),
                name => format!("export function {name}("),
            };
            !text.contains(&declaration)
        })
        .collect();
    if undeclared.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} does not declare {}",
            declarations.display(),
            undeclared.join(", ")
        ))
    }
}

/// The npm manifest and TypeScript declarations of the package, kept in src/js (wasm-pack's
/// own would type every argument `any`).
const DECLARATIONS: &str = "src/js";

/// Copies src/js/package.json and src/js/netreach.d.ts beside the glue, so that a bundler
/// resolves `import init, { run } from "netreach"` with the contract's types. Neither is
/// loaded by a browser: the size budget and the pinned copies leave them out.
///
/// # Errors
/// A file cannot be copied, or the manifest does not name the glue (another `out-name`).
fn add_declarations(
    workspace: &Workspace,
    pkg: &std::path::Path,
    out_name: &str,
) -> Result<(), String> {
    let from = workspace.path(DECLARATIONS);
    let manifest = std::fs::read_to_string(from.join("package.json"))
        .map_err(|e| format!("cannot read {DECLARATIONS}/package.json: {e}"))?;
    if !manifest.contains(&format!("\"main\": \"{out_name}.js\"")) {
        return Err(format!(
            "{DECLARATIONS}/package.json does not name {out_name}.js, the glue of out-name {out_name:?} (wasm-pack.toml)"
        ));
    }
    for (file, to) in [
        ("package.json", "package.json".to_owned()),
        ("netreach.d.ts", format!("{out_name}.d.ts")),
    ] {
        std::fs::copy(from.join(file), pkg.join(&to)).map_err(|e| {
            format!(
                "cannot copy {DECLARATIONS}/{file} to {}: {e}",
                pkg.display()
            )
        })?;
    }
    Ok(())
}

fn wasm_pack(workspace: &Workspace, settings: &PackageSettings) -> (Result<(), String>, String) {
    let args = settings.wasm_pack_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = workspace.command("wasm-pack", &args);
    command.envs(settings.wasm_pack_env());
    run_keeping_stderr(&mut command)
}

/// The line in a failed build's stderr saying that cargo or rustc refuses `-Zbuild-std` or
/// `-Cpanic=immediate-abort` (as a release that drops or renames them would), if any: then the
/// package can still be built without them. Any other failure is the code's, and is reported.
fn unstable_option_refused(stderr: &str) -> Option<&str> {
    const REFUSALS: [&str; 7] = [
        "unknown codegen option",                    // -C<option> gone
        "for codegen option `panic`",                // incorrect value `immediate-abort`
        "unknown unstable option",                   // -Z<option> gone
        "requires `-Zunstable-options`",             // stabilised differently
        "is only accepted on the nightly",           // RUSTC_BOOTSTRAP no longer honoured
        "unknown `-Z` flag specified",               // cargo's -Zbuild-std gone
        "unable to build with the standard library", // no rust-src for build-std
    ];
    stderr.lines().map(str::trim).find(|line| {
        REFUSALS.iter().any(|refusal| line.contains(refusal))
            || (line.starts_with("error") && line.contains("build-std"))
    })
}

/// Writes `<file>.gz` (gzip -9 -n) beside each file of the package and each pinned copy: the
/// collector sends it to browsers that accept gzip (as nginx's `gzip_static` does), so a
/// visitor downloads the budgeted gzip size, and no CPU is spent compressing per request.
/// Rewritten on every build, so never older than the file beside it.
fn precompress(files: &[std::path::PathBuf]) -> Result<(), String> {
    for path in files {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiler_that_refuses_the_unstable_options_is_recognised_by_its_message() {
        // What cargo and rustc 1.95 print when an option is unknown, not allowed or has no
        // rust-src to rebuild core from (tried with bogus options and without RUSTC_BOOTSTRAP).
        let refusals = [
            "  error: unknown codegen option: `panicky`",
            "  error: incorrect value `immediate-abort` for codegen option `panic` - either \
             `unwind` or `abort` was expected",
            "  error: unknown unstable option: `unstable-options`",
            "  error: `-Cpanic=immediate-abort` requires `-Zunstable-options` and a nightly compiler",
            "error: the `-Z` flag is only accepted on the nightly channel of Cargo, but this is \
             the `stable` channel",
            "error: unknown `-Z` flag specified: build-std",
            "error: \"/x/lib/rustlib/src/rust/library/Cargo.lock\" does not exist, unable to \
             build with the standard library, try:",
        ];
        for refusal in refusals {
            let stderr = format!("   Compiling core v0.0.0\n{refusal}\n\nCaused by:\n");
            assert_eq!(
                unstable_option_refused(&stderr),
                Some(refusal.trim()),
                "{refusal}"
            );
        }
    }

    #[test]
    fn an_error_in_the_code_is_not_taken_for_a_refused_option() {
        let stderr = "   Compiling netreach v0.1.0 (/work/main)\n\
                      error[E0425]: cannot find value `verdict` in this scope\n\
                      warning: unused import: `core::panic`\n\
                      error: could not compile `netreach` (lib) due to 1 previous error\n";
        assert_eq!(unstable_option_refused(stderr), None);
    }
}
