//! `cargo xtask bench [NAME...]`: the benchmarks behind BENCHMARKS.md, one named entry each.
//! To add one, write a `fn(&Workspace) -> Result<(), String>` that prints its figures and list it
//! in `BENCHES`.

use std::fs;

use crate::package;
use crate::size::{gzip_size, PackageSize};
use crate::workspace::{output, run, Workspace};

pub struct Bench {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&Workspace) -> Result<(), String>,
}

pub const BENCHES: &[Bench] = &[
    Bench {
        name: "size",
        about: "Wasm package size (raw, gzip -9) vs budget, @cloudflare/speedtest, @m-lab/ndt7",
        run: size,
    },
    Bench {
        name: "timing",
        about: "engine vs plain-JS performance.now() against 100 and 300 ms server delays",
        run: timing,
    },
    Bench {
        name: "verdicts",
        about: "time to all verdicts, 10 platforms on local servers, vs a sequential baseline",
        run: verdicts,
    },
    Bench {
        name: "worst-case",
        about: "time to verdicts of the default campaign's shape when no large object gets a \
                timing entry, and when every body stalls",
        run: worst_case,
    },
    Bench {
        name: "ingest",
        about: "collector ingest (SQLite, PostgreSQL) beside nginx: collector/benches/ingest.sh",
        run: ingest,
    },
    Bench {
        name: "soak",
        about: "collector under mixed load for SOAK_MINUTES (30) at SOAK_RATE reports/s (40), \
                SIGKILL halfway: reports lost, memory over time, p99 (collector/examples/soak.rs)",
        run: soak,
    },
    Bench {
        name: "detection",
        about: "disruption detection on generated data with known events (delay, missed, false \
                alarms; DETECTION_SEEDS, 40), then GET /v1/disruptions and /v1/aggregates on \
                PostgreSQL with DETECTION_REPORTS stored reports (1M 3M 10M)",
        run: detection,
    },
];

/// The browser benchmarks are ignored tests in tests/bench.rs, run in headless Chromium against
/// the fixture server; they print their figures (lines starting `bench:`).
fn timing(workspace: &Workspace) -> Result<(), String> {
    browser_bench(workspace, "timing_accuracy")
}

fn verdicts(workspace: &Workspace) -> Result<(), String> {
    browser_bench(workspace, "time_to_verdicts")
}

fn worst_case(workspace: &Workspace) -> Result<(), String> {
    browser_bench(workspace, "worst_case_time_to_verdicts")
}

fn browser_bench(workspace: &Workspace, test: &str) -> Result<(), String> {
    let args = [
        "--test",
        "bench",
        "--",
        "--include-ignored",
        "--nocapture",
        test,
    ];
    crate::stages::in_browser(workspace, crate::stages::Browser::Chromium, &args, false)
}

/// The collector's own benchmark script (it builds the collector with its own profile).
fn ingest(workspace: &Workspace) -> Result<(), String> {
    let script = "collector/benches/ingest.sh";
    if !workspace.path(script).is_file() {
        return Err(format!("{script} is missing"));
    }
    run(&mut workspace.command("bash", &[script]))
}

/// Builds the collector's example `name` (and whatever `also` names) in release and returns
/// the example's path.
fn release_example(
    workspace: &Workspace,
    name: &str,
    also: &[&str],
) -> Result<std::path::PathBuf, String> {
    let mut args = vec!["build", "--quiet", "--release", "-p", "netreach-collector"];
    args.extend(also);
    args.extend(["--example", name]);
    run(&mut workspace.command("cargo", &args))?;
    Ok(workspace.target_dir().join("release/examples").join(name))
}

/// The collector's soak test, on a release build; `SOAK_MINUTES` sets its length.
fn soak(workspace: &Workspace) -> Result<(), String> {
    let soak = release_example(workspace, "soak", &["--bin", "netreach-collector"])?;
    let minutes = std::env::var("SOAK_MINUTES").unwrap_or_else(|_| "30".into());
    let collector = workspace.binary("netreach-collector", true);
    run(std::process::Command::new(soak)
        .arg(minutes)
        .arg(collector)
        .current_dir(workspace.path(".")))
}

/// Detection quality (collector/examples/detection.rs, release), then query times on
/// PostgreSQL (collector/benches/detection.sh, which builds the collector itself).
fn detection(workspace: &Workspace) -> Result<(), String> {
    let quality = release_example(workspace, "detection", &[])?;
    let seeds = std::env::var("DETECTION_SEEDS").unwrap_or_else(|_| "40".into());
    run(std::process::Command::new(quality)
        .arg(seeds)
        .current_dir(workspace.path(".")))?;
    let script = "collector/benches/detection.sh";
    let sizes =
        std::env::var("DETECTION_REPORTS").unwrap_or_else(|_| "1000000 3000000 10000000".into());
    let mut args = vec![script];
    args.extend(sizes.split_whitespace());
    run(&mut workspace.command("bash", &args))
}

/// Runs the named benchmarks, or all of them.
///
/// # Errors
/// An unknown name, or a benchmark failed (the others still run).
pub fn bench(workspace: &Workspace, args: &[String]) -> Result<(), String> {
    if args.iter().any(|arg| arg == "--list") {
        for bench in BENCHES {
            println!("{:<10} {}", bench.name, bench.about);
        }
        return Ok(());
    }
    let mut chosen = Vec::new();
    for name in args {
        let bench = crate::find_by_name(BENCHES, name, |bench| bench.name)
            .map_err(|names| format!("bench: unknown benchmark {name} (benchmarks: {names})"))?;
        chosen.push(bench);
    }
    if chosen.is_empty() {
        chosen = BENCHES.iter().collect();
    }
    let mut failed = Vec::new();
    for bench in chosen {
        println!("== bench {}: {}", bench.name, bench.about);
        if let Err(error) = (bench.run)(workspace) {
            println!("bench {} FAILED: {error}", bench.name);
            failed.push(bench.name);
        }
        println!();
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("benchmarks failed: {}", failed.join(", ")))
    }
}

/// A published JS measurement client to compare with: its npm package and the files a page
/// loads from it (the entry module and any workers it starts).
struct Reference {
    package: &'static str,
    version: &'static str,
    files: &'static [&'static str],
    quoted_gzip: &'static str,
}

/// Pinned so that the figures in BENCHMARKS.md can be reproduced.
const REFERENCES: &[Reference] = &[
    Reference {
        package: "@cloudflare/speedtest",
        version: "1.14.1",
        files: &["dist/speedtest.js"],
        quoted_gzip: "12.8 KB",
    },
    Reference {
        package: "@m-lab/ndt7",
        version: "0.1.4",
        files: &[
            "src/ndt7.js",
            "src/ndt7-download-worker.js",
            "src/ndt7-upload-worker.js",
        ],
        quoted_gzip: "~7.6 KB",
    },
];

fn size(workspace: &Workspace) -> Result<(), String> {
    let settings = package::make(workspace)?;
    // Print the comparison even when over budget; the result still fails the benchmark.
    let measured = package::check_size(workspace, &settings);
    let own = PackageSize::measure(&workspace.path(&settings.out_dir), &settings.out_name)?;
    let gzip = own.gzip();
    println!();
    println!(
        "{:<36} {:>9} {:>9} {:>16}",
        "package (gzip -9 per file, summed)", "raw B", "gzip B", "netreach/this"
    );
    println!("{:<36} {:>9} {gzip:>9}", "netreach (this build)", own.raw());
    for reference in REFERENCES {
        let name = format!("{}@{}", reference.package, reference.version);
        match measure_npm(reference) {
            Ok((reference_raw, reference_gzip)) => println!(
                "{name:<36} {reference_raw:>9} {reference_gzip:>9} {:>15.2}x",
                gzip as f64 / reference_gzip as f64
            ),
            Err(error) => println!(
                "{name:<36} not measured ({error}); published gzip size {}",
                reference.quoted_gzip
            ),
        }
    }
    println!(
        "{:<36} {:>9} {:>9} {:>15.2}x",
        "budget (wasm-pack.toml)",
        "",
        settings.budget_gzip_bytes,
        gzip as f64 / settings.budget_gzip_bytes as f64
    );
    println!("files measured:");
    let own_files: Vec<&str> = own.files.iter().map(|file| file.label.as_str()).collect();
    println!("  netreach: {}", own_files.join(" + "));
    for reference in REFERENCES {
        println!("  {}: {}", reference.package, reference.files.join(" + "));
    }
    measured.map(|_| ())
}

/// Downloads the package tarball with `npm pack` (the npm registry answers here) and returns the
/// summed raw and gzip -9 sizes of its browser files.
fn measure_npm(reference: &Reference) -> Result<(u64, u64), String> {
    let dir = std::env::temp_dir().join("netreach-bench-npm");
    fs::create_dir_all(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let spec = format!("{}@{}", reference.package, reference.version);
    let tarball = output(
        std::process::Command::new("npm")
            .args(["pack", "--silent", &spec])
            .current_dir(&dir),
    )
    .ok_or_else(|| format!("`npm pack {spec}` failed"))?;
    let tarball = tarball.trim().lines().last().unwrap_or("").to_string();
    let unpacked = dir.join(tarball.trim_end_matches(".tgz"));
    fs::create_dir_all(&unpacked).map_err(|error| error.to_string())?;
    output(
        std::process::Command::new("tar")
            .args(["xzf", &tarball, "-C"])
            .arg(&unpacked)
            .current_dir(&dir),
    )
    .ok_or_else(|| format!("cannot unpack {tarball}"))?;
    let mut raw = 0;
    let mut gzip = 0;
    for file in reference.files {
        let path = unpacked.join("package").join(file);
        let content = fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        raw += content.len() as u64;
        gzip += gzip_size(&content)?;
    }
    Ok((raw, gzip))
}
