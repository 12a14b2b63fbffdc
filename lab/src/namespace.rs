//! A network namespace per scenario: its own loopback with the lab addresses, its own
//! iptables and tc, nothing shared with the host or with another scenario. The guard kills
//! every process inside and deletes the namespace when dropped, and namespaces left behind by
//! a lab run that died are removed at the next start. Its `/etc/netns/NAME/resolv.conf` names
//! the lab's DNS server: `ip netns exec` shows it as `/etc/resolv.conf` to what it starts.

use crate::error::{bail, Context, Result};
use crate::topology::{self, COLLECTOR, INTERCEPTOR, LAB_NET, RESOLVER, VETH_HOST, VETH_LAB};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// Every lab namespace is named `netreach-lab-<pid of the lab run>-<n>`.
const PREFIX: &str = "netreach-lab-";
/// Host side and namespace side of the veth that `show` adds.
const VETH_HOST_DEV: &str = "nrlab-host";
const VETH_LAB_DEV: &str = "nrlab-ns";
/// Whether this run created the host side of a veth (only `show` does).
static VETH_CREATED: AtomicBool = AtomicBool::new(false);

/// Runs a command to completion; its stderr becomes the error.
///
/// # Errors
/// If it cannot start or exits non-zero.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .context(format_args!("running {program}"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A network namespace that exists as long as this value does.
pub struct Namespace {
    name: String,
    veth: bool,
}

impl Namespace {
    /// Creates the namespace `netreach-lab-<pid>-<n>` with loopback up, every lab address,
    /// and the lab's DNS server as its resolver.
    ///
    /// # Errors
    /// If `ip` fails (not root, no iproute2) or `/etc/netns` cannot be written; whatever was
    /// created is removed again.
    pub fn create(n: usize) -> Result<Self> {
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        run("ip", &["netns", "add", &name])?;
        let ns = Namespace { name, veth: false };
        let etc = etc_dir(&ns.name);
        std::fs::create_dir_all(&etc).context(format_args!("creating {}", etc.display()))?;
        // Written before anything runs in the namespace: `ip netns exec` mounts it at start.
        std::fs::write(
            etc.join("resolv.conf"),
            format!("# netreach lab: the DNS server of this scenario\nnameserver {RESOLVER}\n"),
        )
        .context(format_args!("writing {}/resolv.conf", etc.display()))?;
        ns.ip(&["link", "set", "lo", "up"])?;
        // Ethernet-sized packets let the throttle's token bucket pace smoothly.
        ns.ip(&["link", "set", "lo", "mtu", "1500"])?;
        let addresses = [COLLECTOR, INTERCEPTOR, RESOLVER]
            .into_iter()
            .chain(topology::HOSTS.iter().map(|h| h.ip));
        for ip in addresses {
            ns.ip(&["addr", "add", &format!("{ip}/32"), "dev", "lo"])?;
        }
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip` inside the namespace.
    ///
    /// # Errors
    /// If the command fails.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Any command inside the namespace.
    ///
    /// # Errors
    /// If the command fails.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String> {
        let mut all = vec!["netns", "exec", self.name.as_str(), program];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Makes the lab addresses reachable from the host (for `show`): a veth pair and a host
    /// route to the lab network through it.
    ///
    /// # Errors
    /// If a lab is already shown (the device exists) or `ip` fails.
    pub fn connect_host(&mut self) -> Result<()> {
        // A `show` that died took its pair with it when its namespace was removed as stale;
        // an existing device means another `show` is running.
        run(
            "ip",
            &[
                "link",
                "add",
                VETH_HOST_DEV,
                "type",
                "veth",
                "peer",
                "name",
                VETH_LAB_DEV,
                "netns",
                &self.name,
            ],
        )?;
        self.veth = true;
        VETH_CREATED.store(true, Ordering::SeqCst);
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{VETH_HOST}/30"),
                "dev",
                VETH_HOST_DEV,
            ],
        )?;
        run("ip", &["link", "set", VETH_HOST_DEV, "up"])?;
        self.ip(&[
            "addr",
            "add",
            &format!("{VETH_LAB}/30"),
            "dev",
            VETH_LAB_DEV,
        ])?;
        self.ip(&["link", "set", VETH_LAB_DEV, "up"])?;
        run(
            "ip",
            &["route", "replace", LAB_NET, "via", &VETH_LAB.to_string()],
        )?;
        Ok(())
    }

    /// Devices whose egress carries the lab servers' answers (for tc).
    pub fn devices(&self) -> Vec<&'static str> {
        if self.veth {
            vec!["lo", VETH_LAB_DEV]
        } else {
            vec!["lo"]
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        remove(&self.name);
        if self.veth {
            // Deleting the namespace destroys the pair; this catches a pair still held open.
            let _ = run("ip", &["link", "del", VETH_HOST_DEV]);
        }
    }
}

/// Kills every process inside a namespace (browser, chromedriver, collector, the in-lab
/// half of this program: all started by the lab) and deletes it.
fn remove(name: &str) {
    for _ in 0..3 {
        let pids = run("ip", &["netns", "pids", name]).unwrap_or_default();
        let pids: Vec<i32> = pids
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            // SAFETY: kill(2) with a pid read from the namespace; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = run("ip", &["netns", "del", name]);
    let _ = std::fs::remove_dir_all(etc_dir(name));
}

/// The namespace's files that `ip netns exec` puts over `/etc` (resolv.conf).
fn etc_dir(name: &str) -> PathBuf {
    PathBuf::from("/etc/netns").join(name)
}

/// Removes the namespaces of lab runs that are no longer running (a crash, a `kill -9`).
pub fn remove_stale() {
    for name in lab_namespaces() {
        let owner = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok());
        if !owner.is_some_and(lab_run_alive) {
            eprintln!("removing stale namespace {name}");
            remove(&name);
        }
    }
}

/// Whether `pid` is a running netreach-lab (not a zombie, not a reused pid).
fn lab_run_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state …`; comm may hold spaces, so split at the last parenthesis.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    comm == "netreach-lab" && state != Some('Z')
}

/// Removes every namespace of this lab run: the last resort of the panic and signal paths.
pub fn remove_own() {
    let own = format!("{PREFIX}{}-", std::process::id());
    for name in lab_namespaces().into_iter().filter(|n| n.starts_with(&own)) {
        remove(&name);
    }
    if VETH_CREATED.load(Ordering::SeqCst) {
        let _ = run("ip", &["link", "del", VETH_HOST_DEV]);
    }
}

fn lab_namespaces() -> Vec<String> {
    run("ip", &["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(PREFIX))
        .map(str::to_owned)
        .collect()
}
