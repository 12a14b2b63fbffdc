//! The lab's little Internet: which host name lives on which address, and the campaign the
//! page measures there. One address per host so that a censor rule can target a destination.

use netreach::{Campaign, Endpoint, Platform, ProbeKind};
use std::net::Ipv4Addr;

/// The collector (page, campaign, reports).
pub const COLLECTOR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// Port the collector listens on.
pub const COLLECTOR_PORT: u16 = 8080;
/// A TLS-intercepting middlebox: answers for every host name with a certificate of its own.
pub const INTERCEPTOR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// The lab's DNS server, the visitor's resolver (`/etc/resolv.conf` in the namespace).
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 53);
/// Addresses on the namespace's side of the veth used by `show`, host side first.
pub const VETH_HOST: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 1);
pub const VETH_LAB: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 2);
/// The prefix of every lab address, routed to the namespace from the host by `show`.
pub const LAB_NET: &str = "10.77.0.0/24";

/// One HTTPS server of the lab, under a real host name.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    pub name: &'static str,
    pub ip: Ipv4Addr,
    /// `None` for a control host.
    pub platform: Option<&'static str>,
}

const fn host(name: &'static str, last: u8, platform: Option<&'static str>) -> Host {
    Host {
        name,
        ip: Ipv4Addr::new(10, 77, 0, last),
        platform,
    }
}

/// Every host the lab serves: two controls, each platform's main site and CDN, and a website
/// under its two names (a target as the Pakistan campaign has them: no CDN of its own).
pub const HOSTS: &[Host] = &[
    host("cdnjs.cloudflare.com", 10, None),
    host("www.microsoft.com", 11, None),
    host("x.com", 20, Some("x")),
    host("abs.twimg.com", 21, Some("x")),
    host("www.youtube.com", 30, Some("youtube")),
    host("i.ytimg.com", 31, Some("youtube")),
    host("www.facebook.com", 40, Some("facebook")),
    host("static.xx.fbcdn.net", 41, Some("facebook")),
    host("web.telegram.org", 50, Some("telegram")),
    host("telegram.org", 51, Some("telegram")),
    host("insaf.pk", 60, Some("insaf-pk")),
    host("www.insaf.pk", 61, Some("insaf-pk")),
];

/// The platforms of the lab campaign, in campaign order.
pub const PLATFORMS: &[&str] = &["x", "youtube", "facebook", "telegram", "insaf-pk"];

/// The larger objects (declared `bytes`): sized so a 128 kbit/s throttle costs ~6 s a trial.
pub const LARGE_BYTES: u64 = 100_000;

/// The host of that name.
///
/// # Panics
/// On a name that is not in [`HOSTS`]: scenarios are code, a typo is a bug.
pub fn by_name(name: &str) -> Host {
    *HOSTS
        .iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("{name} is not a lab host"))
}

/// Every host of a platform.
pub fn of_platform(id: &str) -> Vec<Host> {
    HOSTS
        .iter()
        .filter(|h| h.platform == Some(id))
        .copied()
        .collect()
}

fn endpoint(url: &str, kind: ProbeKind, bytes: Option<u64>) -> Endpoint {
    Endpoint {
        url: url.into(),
        kind,
        bytes,
        bust: true,
    }
}

fn platform(id: &str, name: &str, endpoints: Vec<Endpoint>) -> Platform {
    Platform {
        id: id.into(),
        name: name.into(),
        endpoints,
    }
}

/// The campaign served as `/v1/campaigns/lab`: the same kinds of endpoints as the default
/// campaign (favicons, a CDN image, one larger object on a CDN), on the lab hosts. Without a
/// `collector` field, so the page sends to the collector it came from.
pub fn campaign() -> Campaign {
    use ProbeKind::{Fetch, Image};
    Campaign {
        id: "lab".into(),
        controls: vec![
            endpoint(
                "https://cdnjs.cloudflare.com/ajax/libs/leaflet/1.9.4/images/layers-2x.png",
                Image,
                Some(LARGE_BYTES),
            ),
            endpoint("https://www.microsoft.com/favicon.ico", Image, None),
        ],
        platforms: vec![
            platform(
                "x",
                "X (Twitter)",
                vec![
                    endpoint("https://x.com/favicon.ico", Fetch, None),
                    endpoint("https://abs.twimg.com/favicons/twitter.3.ico", Image, None),
                ],
            ),
            platform(
                "youtube",
                "YouTube",
                vec![
                    endpoint("https://www.youtube.com/iframe_api", Fetch, None),
                    endpoint("https://www.youtube.com/favicon.ico", Image, None),
                    // The CDN carries only the larger object, so throttling it shows as
                    // throughput rather than as small loads stuck behind a full queue. An
                    // image: Chromium gives no-cors fetches no Resource Timing entry, so the
                    // engine measures throughput on image loads only.
                    endpoint(
                        "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
                        Image,
                        Some(LARGE_BYTES),
                    ),
                ],
            ),
            platform(
                "facebook",
                "Facebook",
                vec![
                    endpoint("https://www.facebook.com/favicon.ico", Fetch, None),
                    endpoint(
                        "https://static.xx.fbcdn.net/rsrc.php/yD/r/d4ZIVX-5C-b.ico",
                        Image,
                        None,
                    ),
                ],
            ),
            platform(
                "telegram",
                "Telegram",
                vec![
                    endpoint("https://web.telegram.org/k/", Fetch, None),
                    endpoint("https://telegram.org/img/t_logo.png", Image, None),
                ],
            ),
            // A website, with the endpoints www/campaigns/pk.json gives websites: its favicon
            // as an image on one name, its front page fetched on the other.
            platform(
                "insaf-pk",
                "PTI (insaf.pk)",
                vec![
                    endpoint("https://insaf.pk/favicon.ico", Image, None),
                    endpoint("https://www.insaf.pk/", Fetch, None),
                ],
            ),
        ],
        trials: 3,
        collector: None,
    }
}

/// The paths served as larger objects (images of exactly their sizes), from the campaign's
/// `bytes`.
pub fn large_objects(campaign: &Campaign) -> Vec<(String, u64)> {
    campaign
        .controls
        .iter()
        .chain(campaign.platforms.iter().flat_map(|p| p.endpoints.iter()))
        .filter_map(|e| {
            let bytes = e.bytes?;
            let path = e.url.splitn(4, '/').nth(3)?;
            Some((format!("/{path}"), bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_campaign_is_valid_and_every_url_has_a_lab_host() {
        let c = campaign();
        c.validate().expect("lab campaign must validate");
        for e in c
            .controls
            .iter()
            .chain(c.platforms.iter().flat_map(|p| p.endpoints.iter()))
        {
            let name = e.url.split('/').nth(2).unwrap();
            by_name(name);
        }
        let ids: Vec<&str> = c.platforms.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, PLATFORMS);
    }

    #[test]
    fn large_objects_are_found_by_path() {
        let large = large_objects(&campaign());
        assert!(large.contains(&("/vi/dQw4w9WgXcQ/maxresdefault.jpg".into(), LARGE_BYTES)));
        assert_eq!(large.len(), 2);
    }

    #[test]
    fn addresses_are_unique() {
        let mut ips: Vec<Ipv4Addr> = HOSTS.iter().map(|h| h.ip).collect();
        ips.extend([COLLECTOR, INTERCEPTOR, RESOLVER]);
        let n = ips.len();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), n);
    }
}
