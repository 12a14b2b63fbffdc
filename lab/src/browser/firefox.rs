//! Headless Firefox ESR through geckodriver: a fresh profile that trusts the lab CA (Firefox
//! trusts no self-signed server certificate, and no SPKI list), quiet preferences, and the
//! content blocker installed as a temporary add-on.

use super::{session, start_driver, BrowserKind, Launch};
use crate::error::{bail, Context, Result};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use std::path::{Path, PathBuf};
use tokio::process::{Child, Command};

const FIREFOX: &str = "/usr/bin/firefox-esr";
const GECKODRIVER_PORT: u16 = 4444;

/// Preferences that keep Firefox from talking to anything but the page and what it probes,
/// and make it resolve names like every program in the namespace. Tracking protection keeps
/// its default: it is part of what a visitor's Firefox does.
const PREFS: &[(&str, PrefValue)] = &[
    // Names through the system resolver (the lab's DNS server), never DNS over HTTPS.
    ("network.trr.mode", PrefValue::Int(5)),
    // No speculative or background connections that would count as probes before Start.
    ("network.dns.disablePrefetch", PrefValue::Bool(true)),
    ("network.prefetch-next", PrefValue::Bool(false)),
    ("network.predictor.enabled", PrefValue::Bool(false)),
    ("network.http.speculative-parallel-limit", PrefValue::Int(0)),
    (
        "network.captive-portal-service.enabled",
        PrefValue::Bool(false),
    ),
    (
        "network.connectivity-service.enabled",
        PrefValue::Bool(false),
    ),
    // Like Chromium's --disable-quic: the lab's servers speak HTTP/1.1 over TLS.
    ("network.http.http3.enable", PrefValue::Bool(false)),
    ("app.update.disabledForTesting", PrefValue::Bool(true)),
    ("toolkit.telemetry.enabled", PrefValue::Bool(false)),
    ("toolkit.telemetry.unified", PrefValue::Bool(false)),
    (
        "datareporting.healthreport.uploadEnabled",
        PrefValue::Bool(false),
    ),
    (
        "datareporting.policy.dataSubmissionEnabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.malware.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.phishing.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.downloads.enabled",
        PrefValue::Bool(false),
    ),
    ("extensions.update.enabled", PrefValue::Bool(false)),
    ("extensions.getAddons.cache.enabled", PrefValue::Bool(false)),
    (
        "extensions.systemAddon.update.enabled",
        PrefValue::Bool(false),
    ),
    ("browser.region.update.enabled", PrefValue::Bool(false)),
    ("browser.region.network.url", PrefValue::Str("")),
    ("browser.shell.checkDefaultBrowser", PrefValue::Bool(false)),
    ("browser.startup.page", PrefValue::Int(0)),
    ("browser.newtabpage.enabled", PrefValue::Bool(false)),
    // The content blocker is a Manifest V3 extension, as in Chromium.
    ("extensions.manifestV3.enabled", PrefValue::Bool(true)),
];

enum PrefValue {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// `user.js`: one `user_pref(name, value);` a line.
fn user_js() -> String {
    PREFS
        .iter()
        .map(|(name, value)| {
            let value = match value {
                PrefValue::Bool(b) => b.to_string(),
                PrefValue::Int(i) => i.to_string(),
                PrefValue::Str(s) => serde_json::Value::from(*s).to_string(),
            };
            format!("user_pref(\"{name}\", {value});\n")
        })
        .collect()
}

/// geckodriver: on PATH, or where `cargo xtask setup` installs it (`$CARGO_HOME/bin`, by
/// default `~/.cargo/bin`).
///
/// # Errors
/// If it is in neither place.
pub fn geckodriver() -> Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    on_path
        .chain(cargo_home.map(|home| home.join("bin")))
        .map(|dir| dir.join("geckodriver"))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            crate::error::Error::new(
                "geckodriver not found on PATH or in ~/.cargo/bin: run `cargo xtask setup`",
            )
        })
}

/// A fresh profile in `dir`: the lab CA in its certificate database, the lab's preferences,
/// and `tracking_list` on tracking protection's list.
///
/// # Errors
/// If certutil (Debian package libnss3-tools) fails or the files cannot be written.
fn profile(dir: &Path, ca: &[u8], tracking_list: &[&str]) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).context(format_args!("creating {}", dir.display()))?;
    let ca_file = dir.join("netreach-lab-ca.der");
    std::fs::write(&ca_file, ca).context("writing the lab CA")?;
    let db = format!("sql:{}", dir.display());
    certutil(&["-N", "--empty-password", "-d", &db])?;
    let ca_path = ca_file.display().to_string();
    certutil(&[
        "-A",
        "-t",
        "C,,",
        "-n",
        "netreach-lab",
        "-i",
        &ca_path,
        "-d",
        &db,
    ])?;
    let mut prefs = user_js();
    prefs.push_str(&tracking_prefs(tracking_list));
    std::fs::write(dir.join("user.js"), prefs).context("writing user.js")
}

/// Tracking protection on in every window, as in Enhanced Tracking Protection's strict mode,
/// with `hosts` on its list through Firefox's test-entry preference (its real lists come from
/// Mozilla's servers, out of reach here). Tried and not enough: the social-tracking list's
/// test hosts with social tracking protection on (X stayed reachable). Empty without hosts:
/// the default settings stay.
fn tracking_prefs(hosts: &[&str]) -> String {
    if hosts.is_empty() {
        return String::new();
    }
    let hosts = serde_json::Value::from(hosts.join(",")).to_string();
    [
        "user_pref(\"privacy.trackingprotection.enabled\", true);\n".to_owned(),
        format!("user_pref(\"urlclassifier.trackingTable.testEntries\", {hosts});\n"),
    ]
    .concat()
}

fn certutil(args: &[&str]) -> Result<()> {
    crate::namespace::run("certutil", args)
        .map(drop)
        .context("certutil (Debian package libnss3-tools)")
}

/// geckodriver and Firefox with a lab profile, the extension installed if there is one.
///
/// # Errors
/// If geckodriver, certutil or Firefox fail, or the add-on is refused.
pub async fn start(launch: &Launch<'_>) -> Result<(Child, Client)> {
    let dir = launch.workdir.join("firefox-profile");
    profile(&dir, launch.trust.ca, launch.tracking_list)?;
    let mut command = Command::new(geckodriver()?);
    command.args(["--port", &GECKODRIVER_PORT.to_string(), "--log", "info"]);
    let (driver, addr) = start_driver(
        command,
        GECKODRIVER_PORT,
        &launch.workdir.join("geckodriver.log"),
    )
    .await?;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "moz:firefoxOptions".into(),
        serde_json::json!({
            "binary": FIREFOX,
            "args": ["-headless", "-profile", dir],
        }),
    );
    let client = session(addr, capabilities, BrowserKind::Firefox).await?;
    // The size Chromium gets from --window-size (Firefox ignores that flag).
    client
        .set_window_size(900, 1300)
        .await
        .context("sizing the window")?;
    if let Some(extension) = launch.extension {
        let installed = client
            .issue_cmd(InstallTemporaryAddon {
                path: extension.display().to_string(),
            })
            .await
            .context("installing the extension as a temporary add-on")?;
        if !installed.is_string() {
            bail!("geckodriver did not return the add-on's id: {installed}");
        }
    }
    Ok((driver, client))
}

/// geckodriver's `POST /session/{id}/moz/addon/install`: an unpacked extension as a temporary
/// add-on (unsigned add-ons install only so).
#[derive(Debug)]
struct InstallTemporaryAddon {
    path: String,
}

impl WebDriverCompatibleCommand for InstallTemporaryAddon {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/moz/addon/install",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "path": self.path, "temporary": true });
        (http::Method::POST, Some(body.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_js_turns_doh_off_and_quotes_strings() {
        let js = user_js();
        assert!(js.contains("user_pref(\"network.trr.mode\", 5);\n"));
        assert!(js.contains("user_pref(\"browser.region.network.url\", \"\");\n"));
        assert!(!js.contains("trackingprotection"), "left at its default");
    }

    #[test]
    fn tracking_protection_is_changed_only_for_a_scenario_with_a_list() {
        assert_eq!(tracking_prefs(&[]), "");
        let js = tracking_prefs(&["x.com", "abs.twimg.com"]);
        assert!(js.contains("user_pref(\"privacy.trackingprotection.enabled\", true);\n"));
        assert!(js.contains(
            "user_pref(\"urlclassifier.trackingTable.testEntries\", \"x.com,abs.twimg.com\");\n"
        ));
    }
}
