//! Content-addressed copies of the files other sites load, so that an embedder can pin them
//! with Subresource Integrity: `embed.<h>.js` (a byte copy of www/embed.js),
//! `netreach_bg.<h>.wasm` and `netreach.<h>.js` (the glue, its one reference to the .wasm
//! pointing at the pinned .wasm, so the pinned glue loads exactly the pinned module), written
//! beside the package, and `integrity.json` naming each one's URL path and SRI hash.
//!
//! `<h>` is the first 16 hex digits of the file's SHA-384. The collector recognises a name of
//! that form under `/pkg/` and serves it as immutable (collector/src/routes/cross_origin.rs):
//! keep the two in step. The package's budget measures the unversioned files, which stay as
//! they are: a pinned copy is the same bytes (the glue differs by its .wasm name only).

use std::fs;
use std::path::{Path, PathBuf};

/// The list an embedder reads the current pins from, in the package's folder.
pub const INTEGRITY_FILE: &str = "integrity.json";

/// Hex digits of the SHA-384 in a pinned file's name: 64 bits, so two builds never collide.
const NAME_HASH_DIGITS: usize = 16;

/// One pinned file.
#[derive(Debug, PartialEq)]
pub struct Pinned {
    /// The unversioned file it is a copy of, as integrity.json keys it (`embed.js`).
    pub file: String,
    /// Its URL path on the collector (`/pkg/embed.0123456789abcdef.js`).
    pub path: String,
    /// Its SRI hash, `sha384-` and the base64 of its SHA-384.
    pub integrity: String,
}

/// Writes the pinned copies of `www/embed.js`, the package's .wasm and its glue into `pkg`
/// (a folder under `www`, the collector's root), then `pkg/integrity.json`. Pinned files of
/// earlier builds are removed first: the folder holds one build, as the list says.
///
/// # Errors
/// A file is missing or cannot be written, `pkg` is not under `www`, the glue does not name
/// the .wasm exactly once, wasm-bindgen wrote JS snippets (their imports are not pinned), or
/// `sha384sum` cannot run.
pub fn write(www: &Path, pkg: &Path, out_name: &str) -> Result<Vec<Pinned>, String> {
    let url_dir = pkg
        .strip_prefix(www)
        .map_err(|_| format!("{} is not under {}", pkg.display(), www.display()))?;
    let url_dir = format!("/{}", url_dir.display());
    if pkg.join("snippets").exists() {
        return Err(format!(
            "{}/snippets: the glue imports JS snippets, which pinning does not cover \
             (xtask/src/pinned.rs would have to pin them and rewrite their imports)",
            pkg.display()
        ));
    }
    remove_earlier_pins(pkg)?;

    let wasm_file = format!("{out_name}_bg.wasm");
    let wasm = read(&pkg.join(&wasm_file))?;
    let (wasm_name, wasm_pin) = pin(pkg, &url_dir, &wasm_file, &wasm)?;

    let glue_file = format!("{out_name}.js");
    let glue = String::from_utf8(read(&pkg.join(&glue_file))?)
        .map_err(|_| format!("{glue_file} is not UTF-8"))?;
    let references = glue.matches(wasm_file.as_str()).count();
    if references != 1 {
        return Err(format!(
            "{glue_file} names {wasm_file} {references} times, not once: cannot point it at \
             the pinned {wasm_name}"
        ));
    }
    let glue = glue.replacen(&wasm_file, &wasm_name, 1);
    let (_, glue_pin) = pin(pkg, &url_dir, &glue_file, glue.as_bytes())?;

    let embed = read(&www.join("embed.js"))?;
    let (_, embed_pin) = pin(pkg, &url_dir, "embed.js", &embed)?;

    let pins = vec![embed_pin, glue_pin, wasm_pin];
    let list = pkg.join(INTEGRITY_FILE);
    fs::write(&list, integrity_json(&pins))
        .map_err(|e| format!("cannot write {}: {e}", list.display()))?;
    Ok(pins)
}

/// The pinned files in `pkg` (their names), to be gzipped beside the package's own.
pub fn files(pkg: &Path, pins: &[Pinned]) -> Vec<PathBuf> {
    pins.iter()
        .filter_map(|pin| pin.path.rsplit('/').next())
        .map(|name| pkg.join(name))
        .collect()
}

/// `{"embed.js": {"path": "/pkg/embed.<h>.js", "integrity": "sha384-…"}, …}`; every string
/// is a file name, a path of such names or base64, so nothing needs escaping.
fn integrity_json(pins: &[Pinned]) -> String {
    let entries: Vec<String> = pins
        .iter()
        .map(|pin| {
            format!(
                "  \"{}\": {{ \"path\": \"{}\", \"integrity\": \"{}\" }}",
                pin.file, pin.path, pin.integrity
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

/// Writes `bytes` as the pinned copy of `file` (`netreach.js` → `netreach.<h>.js`); returns
/// its name and entry.
fn pin(pkg: &Path, url_dir: &str, file: &str, bytes: &[u8]) -> Result<(String, Pinned), String> {
    let digest = sha384(bytes)?;
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let (stem, extension) = file
        .rsplit_once('.')
        .ok_or_else(|| format!("{file} has no extension"))?;
    let name = format!("{stem}.{}.{extension}", &hex[..NAME_HASH_DIGITS]);
    let path = pkg.join(&name);
    fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let pinned = Pinned {
        file: file.to_string(),
        path: format!("{url_dir}/{name}"),
        integrity: format!("sha384-{}", base64(&digest)),
    };
    Ok((name, pinned))
}

/// Whether a file name is a pinned copy or its gzipped twin: `name.<16 hex>.ext[.gz]`.
fn is_pinned(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let mut parts = name.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == NAME_HASH_DIGITS
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn remove_earlier_pins(pkg: &Path) -> Result<(), String> {
    let entries = fs::read_dir(pkg).map_err(|e| format!("cannot list {}: {e}", pkg.display()))?;
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(is_pinned) {
            fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// SHA-384 of the bytes, from coreutils' `sha384sum` (Debian: essential, as gzip is), so
/// xtask stays std only. The package stage checks the result again with Node.js's own
/// implementation (`package::check_pinned`).
///
/// # Errors
/// sha384sum is missing, fails, or prints something that is not a digest.
fn sha384(bytes: &[u8]) -> Result<[u8; 48], String> {
    let output = crate::workspace::filter("sha384sum", &[], bytes)?;
    let output = String::from_utf8_lossy(&output);
    let hex = output.split_whitespace().next().unwrap_or("");
    let mut digest = [0u8; 48];
    if hex.len() != 2 * digest.len() {
        return Err(format!("sha384sum printed {output:?}"));
    }
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = std::str::from_utf8(pair)
            .ok()
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .ok_or_else(|| format!("sha384sum printed {output:?}"))?;
    }
    Ok(digest)
}

/// Standard base64 with padding (RFC 4648), as SRI hashes are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648_with_padding() {
        // RFC 4648, section 10.
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn the_digest_is_sha384() {
        // FIPS 180-2's "abc", as `openssl dgst -sha384 -binary | base64` writes it.
        assert_eq!(
            base64(&sha384(b"abc").unwrap()),
            "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn pinned_names_are_recognised_and_nothing_else() {
        for name in [
            "embed.0123456789abcdef.js",
            "netreach_bg.0123456789abcdef.wasm",
            "netreach.0123456789abcdef.js.gz",
        ] {
            assert!(is_pinned(name), "{name}");
        }
        for name in [
            "embed.js",
            "netreach_bg.wasm.gz",
            "integrity.json",
            "netreach.0123456789ABCDEF.js",
            "netreach.0123456789abcde.js",
            ".0123456789abcdef.js",
        ] {
            assert!(!is_pinned(name), "{name}");
        }
    }

    fn package(tag: &str, glue: &str) -> (PathBuf, PathBuf) {
        let www = std::env::temp_dir().join(format!("xtask-pinned-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&www);
        let pkg = www.join("pkg");
        fs::create_dir_all(&pkg).unwrap();
        fs::write(www.join("embed.js"), "abc").unwrap();
        fs::write(pkg.join("demo_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        fs::write(pkg.join("demo.js"), glue).unwrap();
        (www, pkg)
    }

    #[test]
    fn each_file_is_pinned_under_its_hash_and_the_pinned_glue_loads_the_pinned_wasm() {
        let glue = "t=new URL(\"demo_bg.wasm\",import.meta.url)";
        let (www, pkg) = package("ok", glue);
        // A pin of an earlier build goes; the package's own files stay.
        fs::write(pkg.join("demo.00000000000000ff.js"), "old").unwrap();
        fs::write(pkg.join("demo.00000000000000ff.js.gz"), "old").unwrap();
        let pins = write(&www, &pkg, "demo").unwrap();

        let embed = &pins[0];
        assert_eq!(
            (embed.file.as_str(), embed.path.as_str()),
            ("embed.js", "/pkg/embed.cb00753f45a35e8b.js")
        );
        assert_eq!(
            embed.integrity,
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
        assert_eq!(fs::read(www.join(&embed.path[1..])).unwrap(), b"abc");
        let wasm = &pins[2];
        assert_eq!(wasm.file, "demo_bg.wasm");
        let wasm_name = wasm.path.strip_prefix("/pkg/").unwrap();
        assert!(is_pinned(wasm_name), "{wasm_name}");
        let glue_pin = &pins[1];
        assert_eq!(glue_pin.file, "demo.js");
        assert_eq!(
            fs::read_to_string(www.join(&glue_pin.path[1..])).unwrap(),
            format!("t=new URL(\"{wasm_name}\",import.meta.url)")
        );
        // The unversioned files are untouched (the budget measures them).
        assert_eq!(fs::read_to_string(pkg.join("demo.js")).unwrap(), glue);

        let list = fs::read_to_string(pkg.join(INTEGRITY_FILE)).unwrap();
        for pin in &pins {
            let entry = format!(
                "\"{}\": {{ \"path\": \"{}\", \"integrity\": \"{}\" }}",
                pin.file, pin.path, pin.integrity
            );
            assert!(list.contains(&entry), "{list}");
        }
        let mut names: Vec<String> = fs::read_dir(&pkg)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut want = vec![
            "demo.js".to_string(),
            "demo_bg.wasm".to_string(),
            INTEGRITY_FILE.to_string(),
        ];
        want.extend(pins.iter().map(|p| p.path["/pkg/".len()..].to_string()));
        want.sort();
        assert_eq!(names, want);
        fs::remove_dir_all(&www).unwrap();
    }

    #[test]
    fn a_glue_that_does_not_name_the_wasm_once_is_refused() {
        for (tag, glue) in [
            ("none", "init()"),
            ("twice", "\"demo_bg.wasm\" \"demo_bg.wasm\""),
        ] {
            let (www, pkg) = package(tag, glue);
            let error = write(&www, &pkg, "demo").unwrap_err();
            assert!(error.contains("not once"), "{error}");
            fs::remove_dir_all(&www).unwrap();
        }
    }
}
