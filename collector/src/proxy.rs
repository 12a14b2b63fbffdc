//! Which address a request comes from: the peer, or, when the peer is a trusted proxy (its
//! address is in a `--trusted-proxy` range), the address its `X-Forwarded-For` names, read
//! right to left over at most `--trusted-hops` entries and past every trusted one.
//!
//! Only the entries that trusted proxies appended can be believed: the client may put
//! anything it likes at the left of the header. A peer outside every trusted range is the
//! client, whatever header it sends.

use axum::http::HeaderMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// An address range, `ADDR/PREFIX` (a bare address is a range of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?}: must be an address range like 10.0.0.0/8 or 2001:db8::/32");
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let network = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
pub struct TrustedProxies {
    ranges: Vec<Cidr>,
    hops: usize,
    /// Set once the "X-Forwarded-For but no trusted proxy" warning has been logged.
    warned: AtomicBool,
}

impl TrustedProxies {
    /// Proxies in `ranges`, at most `hops` of them in a row in front of the collector.
    pub fn new(ranges: Vec<Cidr>, hops: usize) -> Self {
        TrustedProxies {
            ranges,
            hops: hops.max(1),
            warned: AtomicBool::new(false),
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(ip))
    }

    /// The client's address. Behind trusted proxies, the rightmost `X-Forwarded-For` entry
    /// that is not itself a trusted proxy, looking at most `hops` entries from the right (if
    /// every one is trusted, the leftmost of them); an entry that is not an address ends the
    /// walk at the last address believed.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let forwarded = headers.get_all("x-forwarded-for");
        if self.ranges.is_empty() {
            if forwarded.iter().next().is_some() && !self.warned.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "netreach-collector: warning: requests carry X-Forwarded-For but no \
                     --trusted-proxy is set, so the header is ignored: behind a reverse proxy \
                     every visitor counts as the proxy (one country, one rate limit); give the \
                     proxy's address range with --trusted-proxy"
                );
            }
            return peer;
        }
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let entries = forwarded
            .iter()
            .rev()
            .flat_map(|v| v.to_str().unwrap_or("").rsplit(','))
            .take(self.hops);
        for entry in entries {
            let entry = entry.trim();
            let Some(ip) = entry
                .parse::<IpAddr>()
                .ok()
                .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
            else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// How the collector finds client addresses, for the start-up line.
    pub fn describe(&self) -> String {
        if self.ranges.is_empty() {
            return "none (X-Forwarded-For ignored)".into();
        }
        let ranges: Vec<String> = self.ranges.iter().map(Cidr::to_string).collect();
        format!("{} ({} hop(s))", ranges.join(" "), self.hops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn proxies(ranges: &[&str], hops: usize) -> TrustedProxies {
        TrustedProxies::new(ranges.iter().map(|r| r.parse().unwrap()).collect(), hops)
    }

    #[test]
    fn ranges_parse_and_match_by_prefix() {
        let r: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(r.contains(ip("10.1.255.3")));
        assert!(!r.contains(ip("10.2.0.1")));
        assert!(
            r.contains(ip("::ffff:10.1.0.9")),
            "IPv4-mapped counts as IPv4"
        );
        assert!(!r.contains(ip("2001:db8::1")));
        let one: Cidr = "127.0.0.2".parse().unwrap();
        assert!(one.contains(ip("127.0.0.2")) && !one.contains(ip("127.0.0.3")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "10.0.0/8", "proxy", "::/129", "10.0.0.0/"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_a_trusted_peer() {
        let p = proxies(&["127.0.0.2/32"], 1);
        let h = forwarded(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(p.client_ip(ip("127.0.0.2"), &h), ip("203.0.113.7"));
        assert_eq!(p.client_ip(ip("127.0.0.3"), &h), ip("127.0.0.3"));
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &forwarded(&["garbage"])),
            ip("127.0.0.2")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &forwarded(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &HeaderMap::new()),
            ip("127.0.0.2")
        );
    }

    #[test]
    fn a_cdn_then_a_proxy_gives_the_visitor_not_the_cdn() {
        // The visitor claims 6.6.6.6; the CDN (198.51.100.0/24) appends the visitor, the
        // proxy (10.0.0.5, the peer) appends the CDN node, in a second header line.
        let h = forwarded(&["6.6.6.6, 203.0.113.7", "198.51.100.20"]);
        let both = proxies(&["10.0.0.0/8", "198.51.100.0/24"], 2);
        assert_eq!(both.client_ip(ip("10.0.0.5"), &h), ip("203.0.113.7"));
        // One hop trusted: the walk stops at the CDN, which is then everyone.
        let one_hop = proxies(&["10.0.0.0/8", "198.51.100.0/24"], 1);
        assert_eq!(one_hop.client_ip(ip("10.0.0.5"), &h), ip("198.51.100.20"));
        // The CDN's range not trusted: its address is the client.
        let proxy_only = proxies(&["10.0.0.0/8"], 3);
        assert_eq!(
            proxy_only.client_ip(ip("10.0.0.5"), &h),
            ip("198.51.100.20")
        );
        // Never further left than the hops: the visitor's own claim is not reached.
        let all = proxies(&["10.0.0.0/8", "198.51.100.0/24", "203.0.113.0/24"], 2);
        assert_eq!(all.client_ip(ip("10.0.0.5"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let p = proxies(&[], 1);
        let h = forwarded(&["203.0.113.7"]);
        assert_eq!(p.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        assert!(p.warned.load(Ordering::Relaxed), "the warning was logged");
    }
}
