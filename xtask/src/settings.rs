//! The project's build settings: wasm-pack.toml, read with a small TOML-subset parser (tables,
//! and string / integer / boolean values), and the Rust release rust-toolchain.toml pins; so
//! xtask needs no dependency.

use std::collections::BTreeMap;
use std::path::Path;

/// How `cargo xtask build` builds and checks the Wasm package.
#[derive(Debug, PartialEq)]
pub struct PackageSettings {
    pub target: String,
    pub out_dir: String,
    pub out_name: String,
    pub profile: String,
    pub typescript: bool,
    pub package_json: bool,
    /// Whether the crate's default features (`std`) are on in the package build.
    pub default_features: bool,
    /// Whether core and alloc are rebuilt for the package with `panic=immediate-abort`.
    pub immediate_abort: bool,
    /// Whether the names the module and glue share are shortened and the glue minified.
    pub minify: bool,
    /// Budget for the gzipped .wasm plus its JS glue, in bytes.
    pub budget_gzip_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Integer(u64),
    Boolean(bool),
}

impl PackageSettings {
    /// Reads wasm-pack.toml.
    ///
    /// # Errors
    /// The file is missing, not in the supported TOML subset, lacks a key, or has an unknown key.
    pub fn load(path: &Path) -> Result<PackageSettings, String> {
        read_with(path, PackageSettings::parse)
    }

    fn parse(text: &str) -> Result<PackageSettings, String> {
        let mut keys = parse_tables(text)?;
        let mut take = |key: &str| {
            keys.remove(key)
                .ok_or_else(|| format!("missing key `{key}`"))
        };
        let text_value = |key: &str, value: Value| match value {
            Value::Text(text) => Ok(text),
            _ => Err(format!("`{key}` must be a string")),
        };
        let bool_value = |key: &str, value: Value| match value {
            Value::Boolean(flag) => Ok(flag),
            _ => Err(format!("`{key}` must be true or false")),
        };
        let settings = PackageSettings {
            target: text_value("build.target", take("build.target")?)?,
            out_dir: text_value("build.out-dir", take("build.out-dir")?)?,
            out_name: text_value("build.out-name", take("build.out-name")?)?,
            profile: text_value("build.profile", take("build.profile")?)?,
            typescript: bool_value("build.typescript", take("build.typescript")?)?,
            package_json: bool_value("build.package-json", take("build.package-json")?)?,
            default_features: bool_value(
                "build.default-features",
                take("build.default-features")?,
            )?,
            immediate_abort: bool_value("build.immediate-abort", take("build.immediate-abort")?)?,
            minify: bool_value("build.minify", take("build.minify")?)?,
            budget_gzip_bytes: match take("budget.gzip-bytes")? {
                Value::Integer(bytes) => bytes,
                _ => return Err("`budget.gzip-bytes` must be an integer".into()),
            },
        };
        if let Some(unknown) = keys.keys().next() {
            return Err(format!("unknown key `{unknown}`"));
        }
        let name_ok = !settings.profile.is_empty()
            && settings
                .profile
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "`build.profile` is `{}`; expected release, profiling, dev or the name of a \
                 [profile.NAME] in Cargo.toml",
                settings.profile
            ));
        }
        Ok(settings)
    }

    /// The `wasm-pack build` arguments these settings stand for (crate path last).
    pub fn wasm_pack_args(&self) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            "--target".into(),
            self.target.clone(),
            "--out-dir".into(),
            self.out_dir.clone(),
            "--out-name".into(),
            self.out_name.clone(),
        ];
        // wasm-pack's own profiles are flags; any other is a Cargo custom profile.
        if ["release", "profiling", "dev"].contains(&self.profile.as_str()) {
            args.push(format!("--{}", self.profile));
        } else {
            args.push("--profile".into());
            args.push(self.profile.clone());
        }
        if !self.typescript {
            args.push("--no-typescript".into());
        }
        if !self.package_json {
            args.push("--no-pack".into());
        }
        args.push(".".into());
        // After the crate path, wasm-pack hands these to `cargo build`.
        let mut cargo = Vec::new();
        if !self.default_features {
            cargo.push("--no-default-features".to_string());
        }
        if self.immediate_abort {
            cargo.push("-Zbuild-std=core,alloc".into());
        }
        if !cargo.is_empty() {
            args.push("--".into());
            args.extend(cargo);
        }
        args
    }

    /// Environment for `wasm-pack build`: with `immediate-abort`, the unstable options it needs
    /// from the stable compiler, and a target directory of its own (core built with other flags
    /// would otherwise evict the browser tests' build from target/).
    pub fn wasm_pack_env(&self) -> Vec<(&'static str, &'static str)> {
        if !self.immediate_abort {
            return Vec::new();
        }
        vec![
            ("RUSTC_BOOTSTRAP", "1"),
            ("RUSTFLAGS", "-Zunstable-options -Cpanic=immediate-abort"),
            ("CARGO_TARGET_DIR", "target/package"),
        ]
    }
}

/// The Rust release that rust-toolchain.toml pins, with the components and targets it lists
/// (rustup reads the same file).
#[derive(Debug, PartialEq)]
pub struct Toolchain {
    pub channel: String,
    pub components: Vec<String>,
    pub targets: Vec<String>,
}

impl Toolchain {
    /// Reads rust-toolchain.toml.
    ///
    /// # Errors
    /// The file is missing or names no channel.
    pub fn load(path: &Path) -> Result<Toolchain, String> {
        read_with(path, Toolchain::parse)
    }

    fn parse(text: &str) -> Result<Toolchain, String> {
        // `key = "value"` or `key = ["a", "b"]`, one line each: the strings, in order.
        let strings = |key: &str| -> Vec<String> {
            text.lines()
                .filter_map(|line| strip_comment(line).split_once('='))
                .find(|(name, _)| name.trim() == key)
                .map(|(_, value)| {
                    value
                        .split('"')
                        .skip(1)
                        .step_by(2)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let channel = strings("channel")
            .pop()
            .ok_or("no `channel = \"...\"` in [toolchain]")?;
        Ok(Toolchain {
            channel,
            components: strings("components"),
            targets: strings("targets"),
        })
    }
}

/// Reads a settings file and parses it; errors name the file.
fn read_with<T>(path: &Path, parse: fn(&str) -> Result<T, String>) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    parse(&text).map_err(|error| format!("{}: {error}", path.display()))
}

/// Flattens `[table] key = value` lines into `table.key -> value`.
fn parse_tables(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut table = String::new();
    let mut keys = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("line {line_number}: unclosed table header"))?;
            table = name.trim().to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {line_number}: expected `key = value`"))?;
        let value = parse_value(value.trim())
            .map_err(|problem| format!("line {line_number}: {problem}"))?;
        let full_key = if table.is_empty() {
            key.trim().to_string()
        } else {
            format!("{table}.{}", key.trim())
        };
        if keys.insert(full_key.clone(), value).is_some() {
            return Err(format!("line {line_number}: `{full_key}` is set twice"));
        }
    }
    Ok(keys)
}

/// Drops a `#` comment that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (at, character) in line.char_indices() {
        match character {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..at],
            _ => {}
        }
    }
    line
}

fn parse_value(text: &str) -> Result<Value, String> {
    if let Some(inner) = text.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| format!("unterminated string {text}"))?;
        if inner.contains(['"', '\\']) {
            return Err(format!("escapes are not supported in {text}"));
        }
        return Ok(Value::Text(inner.to_string()));
    }
    match text {
        "true" => return Ok(Value::Boolean(true)),
        "false" => return Ok(Value::Boolean(false)),
        _ => {}
    }
    text.replace('_', "")
        .parse()
        .map(Value::Integer)
        .map_err(|_| {
            format!("unsupported value {text} (use a \"string\", an integer, true or false)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# comment
[build]
target = "web"  # trailing comment
out-dir = "www/pkg"
out-name = "netreach"
profile = "release"
typescript = false
package-json = false
default-features = true
immediate-abort = false
minify = false

[budget]
gzip-bytes = 32_768
"#;

    #[test]
    fn the_committed_toolchain_pin_has_what_the_package_build_needs() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rust-toolchain.toml");
        let pin = Toolchain::load(&path).unwrap();
        // A release, not a channel that moves: `stable` would change the compiler under the
        // package's unstable options without anyone choosing to.
        assert!(
            pin.channel.starts_with(|c: char| c.is_ascii_digit()),
            "{pin:?}"
        );
        assert!(pin.components.iter().any(|c| c == "rust-src"), "{pin:?}");
        assert!(
            pin.targets.iter().any(|t| t == "wasm32-unknown-unknown"),
            "{pin:?}"
        );
    }

    #[test]
    fn a_toolchain_pin_without_a_channel_is_refused() {
        let pin = Toolchain::parse(
            "[toolchain] # pinned\nchannel = \"1.95.0\" # why\ntargets = [\"a\", \"b\"]\n",
        );
        assert_eq!(
            pin.unwrap(),
            Toolchain {
                channel: "1.95.0".into(),
                components: Vec::new(),
                targets: vec!["a".into(), "b".into()],
            }
        );
        let error = Toolchain::parse("[toolchain]\n# channel = \"1.95.0\"\n").unwrap_err();
        assert!(error.contains("channel"), "{error}");
    }

    #[test]
    fn reads_the_settings_and_turns_them_into_wasm_pack_flags() {
        let settings = PackageSettings::parse(SAMPLE).unwrap();
        assert_eq!(settings.budget_gzip_bytes, 32768);
        assert_eq!(
            settings.wasm_pack_args().join(" "),
            "build --target web --out-dir www/pkg --out-name netreach --release \
             --no-typescript --no-pack ."
        );
    }

    #[test]
    fn immediate_abort_rebuilds_core_with_unstable_options() {
        let text = SAMPLE
            .replace("default-features = true", "default-features = false")
            .replace("immediate-abort = false", "immediate-abort = true");
        let settings = PackageSettings::parse(&text).unwrap();
        assert!(settings
            .wasm_pack_args()
            .join(" ")
            .ends_with(". -- --no-default-features -Zbuild-std=core,alloc"));
        let env = settings.wasm_pack_env();
        assert!(env.contains(&("RUSTC_BOOTSTRAP", "1")), "{env:?}");
        assert!(PackageSettings::parse(SAMPLE)
            .unwrap()
            .wasm_pack_env()
            .is_empty());
    }

    #[test]
    fn the_committed_wasm_pack_toml_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm-pack.toml");
        let settings = PackageSettings::load(&path).unwrap();
        assert_eq!(settings.target, "web");
        assert_eq!(settings.out_dir, "www/pkg");
        // A budget, not a formality: some bytes, below what a phone on 2G loads in seconds.
        assert!((1..=256 * 1024).contains(&settings.budget_gzip_bytes));
    }

    #[test]
    fn a_misspelt_key_is_refused_by_name() {
        let text = SAMPLE.replace("out-name", "outname");
        let error = PackageSettings::parse(&text).unwrap_err();
        assert_eq!(error, "missing key `build.out-name`");
        let text = format!("{SAMPLE}\nbudgett = 1\n");
        let error = PackageSettings::parse(&text).unwrap_err();
        assert!(error.contains("unknown key `budget.budgett`"), "{error}");
    }

    #[test]
    fn a_wrong_type_or_profile_is_refused() {
        let text = SAMPLE.replace("gzip-bytes = 32_768", "gzip-bytes = \"32k\"");
        assert!(PackageSettings::parse(&text)
            .unwrap_err()
            .contains("integer"));
        let text = SAMPLE.replace("\"release\"", "\"fa st\"");
        assert!(PackageSettings::parse(&text)
            .unwrap_err()
            .contains("profile"));
        let text = SAMPLE.replace("\"release\"", "\"wasm\"");
        let args = PackageSettings::parse(&text).unwrap().wasm_pack_args();
        assert!(args
            .join(" ")
            .contains("--out-name netreach --profile wasm --no-typescript"));
        let text = SAMPLE.replace("target = \"web\"", "target = \"web");
        assert!(PackageSettings::parse(&text)
            .unwrap_err()
            .contains("line 4"));
    }
}
