//! What censors do, made real inside a scenario's namespace: iptables for drops, resets and
//! loss (and for cutting the collector off at Submit), tc for throttling, and the zone of the lab's DNS server (`dns`) for NXDOMAIN and for
//! sending a host to the TLS interceptor: the browser resolves through the namespace's
//! `/etc/resolv.conf`, so a DNS block fails after a real round trip, as on a censored network.

use crate::dns::{Answer, Zone};
use crate::error::Result;
use crate::namespace::Namespace;
use crate::topology::{self, Host, COLLECTOR, COLLECTOR_PORT, HOSTS, INTERCEPTOR};
use std::fmt;

/// The hosts a censor acts on.
#[derive(Clone, Copy, Debug)]
pub enum Targets {
    /// Every host of a platform (its main site and its CDN).
    Platform(&'static str),
    /// Some hosts by name.
    Hosts(&'static [&'static str]),
    /// Every lab server, the controls included.
    Everything,
}

impl Targets {
    pub fn hosts(self) -> Vec<Host> {
        match self {
            Targets::Platform(id) => topology::of_platform(id),
            Targets::Hosts(names) => names.iter().map(|n| topology::by_name(n)).collect(),
            Targets::Everything => HOSTS.to_vec(),
        }
    }

    fn names(self) -> String {
        match self {
            Targets::Everything => "every host, controls included".into(),
            _ => self
                .hosts()
                .iter()
                .map(|h| h.name)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// One censor behaviour.
#[derive(Clone, Copy, Debug)]
pub enum Censor {
    /// Packets silently dropped (`iptables -j DROP`): the browser waits for its timeout.
    Drop(Targets),
    /// The connection reset once the handshake is done, as a DPI box does on seeing the name
    /// (`REJECT --reject-with tcp-reset`).
    Reset(Targets),
    /// The name does not resolve: the lab's DNS server answers NXDOMAIN, after the scenario's
    /// latency like any answer (a DNS block).
    Nxdomain(Targets),
    /// Bandwidth capped per connection to these hosts (tc htb classes + u32 filters on the
    /// host and the client port).
    Throttle { targets: Targets, kbit: u32 },
    /// The host answered by a middlebox with a certificate the browser does not trust: the
    /// lab's DNS server gives the interceptor's address for its name.
    Intercept(Targets),
    /// A share of packets dropped at random (`-m statistic --mode random`).
    Loss { targets: Targets, percent: u32 },
}

impl fmt::Display for Censor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Censor::Drop(t) => write!(f, "drop {}", t.names()),
            Censor::Reset(t) => write!(f, "reset {}", t.names()),
            Censor::Nxdomain(t) => write!(f, "NXDOMAIN for {}", t.names()),
            Censor::Throttle { targets, kbit } => {
                write!(
                    f,
                    "throttle each connection to {} to {kbit} kbit/s",
                    targets.names()
                )
            }
            Censor::Intercept(t) => write!(f, "TLS interception of {}", t.names()),
            Censor::Loss { targets, percent } => {
                write!(f, "{percent}% packet loss to {}", targets.names())
            }
        }
    }
}

/// Installs the packet-level censors (drop, reset, loss, throttle) in the namespace. The
/// rules sit in INPUT, which sees the browser's packets whether it runs in the namespace or
/// (for `show`) reaches it through the veth.
///
/// # Errors
/// If iptables or tc refuse a rule (missing kernel module, not root).
pub fn apply(ns: &Namespace, censors: &[Censor]) -> Result<()> {
    let mut throttles = 0;
    for censor in censors {
        match *censor {
            Censor::Drop(targets) => {
                for h in targets.hosts() {
                    iptables(ns, &[&dst(h), "-j", "DROP"])?;
                }
            }
            Censor::Reset(targets) => {
                for h in targets.hosts() {
                    iptables(
                        ns,
                        &[
                            &dst(h),
                            "-p",
                            "tcp",
                            "--dport",
                            "443",
                            "!",
                            "--syn",
                            "-j",
                            "REJECT",
                            "--reject-with",
                            "tcp-reset",
                        ],
                    )?;
                }
            }
            Censor::Loss { targets, percent } => {
                let p = format!("{:.2}", f64::from(percent) / 100.0);
                for h in targets.hosts() {
                    iptables(
                        ns,
                        &[
                            &dst(h),
                            "-m",
                            "statistic",
                            "--mode",
                            "random",
                            "--probability",
                            &p,
                            "-j",
                            "DROP",
                        ],
                    )?;
                }
            }
            Censor::Throttle { targets, kbit } => {
                throttle(ns, throttles, &targets.hosts(), kbit)?;
                throttles += 1;
            }
            // Answered by the lab's DNS server: see `zone`.
            Censor::Nxdomain(_) | Censor::Intercept(_) => {}
        }
    }
    Ok(())
}

/// Cuts the collector off (`true`) or lets it through again (`false`), from inside the
/// scenario's namespace: every packet to its port answered with a reset, as a censor that
/// blocks its address does (an open keep-alive connection fails too), so Submit fails at once.
/// The lab's own reads of the collector use its database file, not this path.
///
/// # Errors
/// If iptables refuses the rule (or, when letting through, finds none to remove).
pub fn cut_collector(cut: bool) -> Result<()> {
    let addr = format!("{COLLECTOR}/32");
    let port = COLLECTOR_PORT.to_string();
    let rule = [
        "-d",
        addr.as_str(),
        "-p",
        "tcp",
        "--dport",
        port.as_str(),
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
    ];
    let mut args = vec!["-w", if cut { "-I" } else { "-D" }, "INPUT"];
    args.extend_from_slice(&rule);
    crate::namespace::run("iptables", &args).map(drop)
}

fn dst(h: Host) -> String {
    format!("{}/32", h.ip)
}

fn iptables(ns: &Namespace, rule: &[&str]) -> Result<()> {
    let mut args = vec!["-w", "-A", "INPUT", "-d"];
    args.extend_from_slice(rule);
    ns.exec("iptables", &args).map(drop)
}

/// Connections to a throttled host are spread over this many htb classes by their client
/// port, so each connection has a queue of its own, as behind a shaper that classifies flows.
const FLOW_CLASSES: u32 = 16;

/// `kbit` per connection to these hosts, on every device that carries their traffic: one htb
/// class per bucket of client ports ([`FLOW_CLASSES`]). With one queue for every connection,
/// a small answer (the engine's `HEAD` beside a large image) waited behind seconds of the
/// large body in the device's 1000-packet queue; Firefox then timed out all three checks of
/// the large image (a `partial` instead of `throttled`), Chromium one in three.
/// Unclassified traffic bypasses htb (`default 0`), so nothing else is slowed.
fn throttle(ns: &Namespace, censor: u32, hosts: &[Host], kbit: u32) -> Result<()> {
    let rate = format!("{kbit}kbit");
    for dev in ns.devices() {
        if censor == 0 {
            ns.exec(
                "tc",
                &["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb"],
            )?;
        }
        for bucket in 0..FLOW_CLASSES {
            // Minor class numbers are hexadecimal; 0x10 upwards, one block per censor.
            let classid = format!("1:{:x}", (censor + 1) * FLOW_CLASSES + bucket);
            ns.exec(
                "tc",
                &[
                    "class", "add", "dev", dev, "parent", "1:", "classid", &classid, "htb", "rate",
                    &rate, "ceil", &rate, "quantum", "1514",
                ],
            )?;
            let bucket = bucket.to_string();
            let mask = format!("{:#x}", FLOW_CLASSES - 1);
            for h in hosts {
                // Answers come from the server's port 443 to the client's port, requests go
                // the other way. Over loopback both carry the server's address on both sides
                // (a local destination is its own source); through the veth only one.
                for (host_side, server_port, client_port) in
                    [("src", "sport", "dport"), ("dst", "dport", "sport")]
                {
                    ns.exec(
                        "tc",
                        &[
                            "filter",
                            "add",
                            "dev",
                            dev,
                            "parent",
                            "1:",
                            "protocol",
                            "ip",
                            "prio",
                            "1",
                            "u32",
                            "match",
                            "ip",
                            host_side,
                            &dst(*h),
                            "match",
                            "ip",
                            server_port,
                            "443",
                            "0xffff",
                            "match",
                            "ip",
                            client_port,
                            &bucket,
                            &mask,
                            "flowid",
                            &classid,
                        ],
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// The lab's DNS zone: every lab host at its address, at the interceptor's, or NXDOMAIN.
pub fn zone(censors: &[Censor]) -> Zone {
    let hit = |name: &str, pick: fn(&Censor) -> Option<Targets>| {
        censors
            .iter()
            .filter_map(pick)
            .any(|t| t.hosts().iter().any(|h| h.name == name))
    };
    let mut zone = Zone::default();
    for h in HOSTS {
        let answer = if hit(h.name, |c| match c {
            Censor::Nxdomain(t) => Some(*t),
            _ => None,
        }) {
            Answer::NxDomain
        } else if hit(h.name, |c| match c {
            Censor::Intercept(t) => Some(*t),
            _ => None,
        }) {
            Answer::Address(INTERCEPTOR)
        } else {
            Answer::Address(h.ip)
        };
        zone.insert(h.name, answer);
    }
    zone
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn the_zone_maps_every_host_and_applies_dns_censors() {
        let zone = zone(&[
            Censor::Nxdomain(Targets::Platform("x")),
            Censor::Intercept(Targets::Hosts(&["www.youtube.com"])),
        ]);
        assert_eq!(zone.lookup("x.com"), Answer::NxDomain);
        assert_eq!(zone.lookup("abs.twimg.com"), Answer::NxDomain);
        assert_eq!(zone.lookup("www.youtube.com"), Answer::Address(INTERCEPTOR));
        assert_eq!(
            zone.lookup("i.ytimg.com"),
            Answer::Address(Ipv4Addr::new(10, 77, 0, 31))
        );
        let rules = zone.host_resolver_rules();
        assert!(rules.contains("MAP x.com ~NOTFOUND"));
        assert_eq!(rules.matches("MAP ").count(), HOSTS.len());
    }
}
