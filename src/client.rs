//! The browser, reduced to what helps explain odd results: family, major version, OS family.
//! The full user-agent string is never kept: with its minor versions it narrows a visitor down.

use crate::report::Client;
use crate::text::{contains, find};
use crate::vocabulary::{Browser, Os};

impl Client {
    /// Coarse client description from a user-agent string.
    pub fn from_user_agent(ua: &str) -> Client {
        // Order matters: Edge, Opera and Samsung also say "Chrome", Chrome also says "Safari".
        const BROWSERS: [(&str, Browser); 7] = [
            ("Edg/", Browser::Edge),
            ("OPR/", Browser::Opera),
            ("SamsungBrowser/", Browser::Samsung),
            ("Firefox/", Browser::Firefox),
            ("CriOS/", Browser::Chrome),
            ("Chrome/", Browser::Chrome),
            ("Version/", Browser::Safari),
        ];
        let has = |token: &str| contains(ua, token);
        let (browser, version) = BROWSERS
            .iter()
            .find_map(|(token, name)| {
                let at = find(ua, token)? + token.len();
                let major = ua.as_bytes()[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .take(6)
                    .fold(0, |n, b| n * 10 + u32::from(b - b'0'));
                let safari_ok = *name != Browser::Safari || has("Safari/");
                safari_ok.then_some((*name, major))
            })
            .unwrap_or((Browser::Other, 0));
        let os = if has("Android") {
            Os::Android
        } else if has("iPhone") || has("iPad") || has("iPod") {
            Os::Ios
        } else if has("Windows") {
            Os::Windows
        } else if has("CrOS") {
            Os::Chromeos
        } else if has("Mac OS X") || has("Macintosh") {
            Os::Macos
        } else if has("Linux") {
            Os::Linux
        } else {
            Os::Other
        };
        Client {
            browser,
            version,
            os,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::report::Client;
    use crate::vocabulary::{Browser, Os};

    fn c(ua: &str) -> (Browser, u32, Os) {
        let c = Client::from_user_agent(ua);
        (c.browser, c.version, c.os)
    }

    #[test]
    fn common_browsers_are_reduced_to_family_major_and_os() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      HeadlessChrome/156.0.8078.73 Safari/537.36";
        assert_eq!(c(chrome), (Browser::Chrome, 156, Os::Linux));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                    Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
        assert_eq!(c(edge), (Browser::Edge, 120, Os::Windows));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        assert_eq!(c(iphone), (Browser::Safari, 17, Os::Ios));
        let firefox = "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0";
        assert_eq!(c(firefox), (Browser::Firefox, 121, Os::Android));
    }

    #[test]
    fn unknown_agents_become_other() {
        assert_eq!(c("curl/8.5.0"), (Browser::Other, 0, Os::Other));
        assert_eq!(c(""), (Browser::Other, 0, Os::Other));
    }
}
