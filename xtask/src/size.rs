//! Raw and gzip sizes of what a visitor downloads, checked against the budget.

use std::fs;
use std::path::{Path, PathBuf};

/// One file's size as stored and as sent with `Content-Encoding: gzip` (gzip -9).
pub struct FileSize {
    pub label: String,
    pub raw: u64,
    pub gzip: u64,
}

impl FileSize {
    /// # Errors
    /// The file cannot be read or gzip cannot run.
    pub fn measure(label: &str, path: &Path) -> Result<FileSize, String> {
        let bytes =
            fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        Ok(FileSize {
            label: label.to_string(),
            raw: bytes.len() as u64,
            gzip: gzip_size(&bytes)?,
        })
    }
}

/// The Wasm package's files that count against the budget: the .wasm, the JS glue, and any
/// JS snippets wasm-bindgen copied next to them.
pub struct PackageSize {
    pub files: Vec<FileSize>,
}

impl PackageSize {
    /// # Errors
    /// A file of the package is missing (not built yet) or cannot be measured.
    pub fn measure(out_dir: &Path, out_name: &str) -> Result<PackageSize, String> {
        let files = package_files(out_dir, out_name)
            .iter()
            .map(|(label, path)| FileSize::measure(label, path))
            .collect::<Result<_, _>>()?;
        Ok(PackageSize { files })
    }

    pub fn raw(&self) -> u64 {
        self.files.iter().map(|file| file.raw).sum()
    }

    pub fn gzip(&self) -> u64 {
        self.files.iter().map(|file| file.gzip).sum()
    }

    /// Prints one line per file and the total against the budget; returns whether it fits.
    pub fn print_against(&self, budget: u64) -> bool {
        println!("{:<24} {:>22} {:>22}", "file", "raw", "gzip -9");
        for file in &self.files {
            println!(
                "{:<24} {:>22} {:>22}",
                file.label,
                bytes(file.raw),
                bytes(file.gzip)
            );
        }
        let (raw, gzip) = (self.raw(), self.gzip());
        println!(
            "{:<24} {:>22} {:>22}",
            "total (wasm + JS glue)",
            bytes(raw),
            bytes(gzip)
        );
        let fits = gzip <= budget;
        println!(
            "budget: {} gzip of {} ({:.1}%), {}",
            bytes(gzip),
            bytes(budget),
            gzip as f64 * 100.0 / budget as f64,
            if fits {
                format!("OK, {} to spare", bytes(budget - gzip))
            } else {
                format!("OVER by {}", bytes(gzip - budget))
            }
        );
        fits
    }
}

/// The package's files a page loads, as (label, path): the .wasm, the glue, any snippets.
pub fn package_files(out_dir: &Path, out_name: &str) -> Vec<(String, PathBuf)> {
    let mut files = vec![
        (
            format!("{out_name}_bg.wasm"),
            out_dir.join(format!("{out_name}_bg.wasm")),
        ),
        (
            format!("{out_name}.js"),
            out_dir.join(format!("{out_name}.js")),
        ),
    ];
    let mut snippets = Vec::new();
    collect_js(&out_dir.join("snippets"), &mut snippets);
    snippets.sort();
    for path in snippets {
        let label = path
            .strip_prefix(out_dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        files.push((label, path));
    }
    files
}

fn collect_js(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_js(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "js") {
            found.push(path);
        }
    }
}

/// "21034 B (20.5 KiB)".
pub fn bytes(count: u64) -> String {
    format!("{count} B ({:.1} KiB)", count as f64 / 1024.0)
}

/// Size of `gzip -9 -n` of the bytes, as a web server with maximum compression would send them.
///
/// # Errors
/// gzip is missing or fails.
pub fn gzip_size(bytes: &[u8]) -> Result<u64, String> {
    gzip(bytes).map(|compressed| compressed.len() as u64)
}

/// `gzip -9 -n` of the bytes (no name or time in the header: the same input gives the same file).
///
/// # Errors
/// gzip is missing or fails.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    crate::workspace::filter("gzip", &["-9", "-n", "-c"], bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_shrinks_repetitive_text_and_counts_real_bytes() {
        let text = "netreach ".repeat(1000);
        let size = gzip_size(text.as_bytes()).unwrap();
        // A gzip member has an 18-byte header and trailer; 9000 repetitive bytes compress far.
        assert!(size > 18 && size < 200, "{size}");
    }

    #[test]
    fn the_package_total_is_checked_against_the_budget() {
        let dir = std::env::temp_dir().join(format!("xtask-size-{}", std::process::id()));
        fs::create_dir_all(dir.join("snippets/netreach-abc")).unwrap();
        fs::write(dir.join("demo_bg.wasm"), vec![7u8; 4096]).unwrap();
        fs::write(
            dir.join("demo.js"),
            "export default function init() {}\n".repeat(50),
        )
        .unwrap();
        fs::write(
            dir.join("snippets/netreach-abc/inline0.js"),
            "export const a = 1;\n",
        )
        .unwrap();
        let package = PackageSize::measure(&dir, "demo").unwrap();
        let labels: Vec<&str> = package.files.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "demo_bg.wasm",
                "demo.js",
                "snippets/netreach-abc/inline0.js"
            ]
        );
        assert_eq!(package.raw(), 4096 + 34 * 50 + 20);
        assert!(package.print_against(package.gzip()));
        assert!(!package.print_against(package.gzip() - 1));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_package_that_was_not_built_is_an_error() {
        let error = PackageSize::measure(Path::new("/nonexistent"), "netreach")
            .err()
            .unwrap();
        assert!(error.contains("netreach_bg.wasm"), "{error}");
    }
}
