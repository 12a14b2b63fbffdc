//! The contract's vocabulary: every name that crosses a boundary between the engine, the
//! collector, the lab, the page and the public data, defined once.
//!
//! Each list is an enum whose wire names (the strings in reports, aggregates and the page's
//! explanation tables) are written only here, in the `vocabulary!` tables below, which give
//! the serde names, [`Verdict::ALL`]-style lists of every value, `as_str` and `from_name`.
//! Adding a value here is the whole change to the contract; the tests of the page, the
//! collector and the lab then name what is missing elsewhere. Unused lists cost the Wasm
//! package nothing: constants are only emitted where they are read.
use serde::{Deserialize, Serialize};

/// Schema name and version of reports; the collector refuses any other.
pub const SCHEMA: &str = "netreach.report/1";

/// Declares a closed list of wire names: the enum, its serde names, `ALL`, `as_str` and
/// `from_name`, all from one table.
macro_rules! vocabulary {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident = $wire:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in the order of the declaration (the order of published columns).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name, as in reports, aggregates and the page.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The value with this wire name.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

vocabulary! {
    /// The verdict for one platform (**contract**: these five names are fixed).
    pub enum Verdict {
        /// Its endpoints load with normal timing.
        Reachable = "reachable",
        /// Loads succeed, but far slower than the controls.
        Throttled = "throttled",
        /// Some endpoints fail consistently while others load.
        Partial = "partial",
        /// Every endpoint fails consistently while the controls load.
        Blocked = "blocked",
        /// No verdict is honest (offline, hidden page, local cause, too few attempts).
        Inconclusive = "inconclusive",
    }
}

vocabulary! {
    /// Why a verdict was given. Every reason has a plain-language explanation on the page
    /// (`www/app.js`, checked by `tests/page_explanations.rs`).
    pub enum Reason {
        EndpointsLoaded = "endpoints_loaded",
        LowThroughput = "low_throughput",
        HighLatency = "high_latency",
        SomeEndpointsFailed = "some_endpoints_failed",
        IntermittentFailures = "intermittent_failures",
        EndpointsTimeout = "endpoints_timeout",
        EndpointsError = "endpoints_error",
        EndpointsFailed = "endpoints_failed",
        ControlsFailed = "controls_failed",
        ControlsUnstable = "controls_unstable",
        Cancelled = "cancelled",
        PageHidden = "page_hidden",
        CrossOriginIsolated = "cross_origin_isolated",
        CspViolation = "csp_violation",
        TooFewAttempts = "too_few_attempts",
        /// Every failure came faster than any network answers, against slower controls: the
        /// browser refused the requests itself (a content blocker, tracking protection).
        RefusedByBrowser = "refused_by_browser",
    }
}

vocabulary! {
    /// How one attempt ended.
    pub enum Outcome {
        /// An answer arrived (any HTTP status for `fetch`; a decoded image for `image`).
        Ok = "ok",
        /// Nothing arrived before the timeout.
        Timeout = "timeout",
        /// The browser reported a failure (reset, DNS, TLS, refused).
        Error = "error",
        /// An image failed, but its host answered a `HEAD` of the same URL: the network path
        /// works and only the object is unusable (gone, not an image, refused by ORB or
        /// CORP). Counts as an answer, never towards `partial` or `blocked`; the collector
        /// keeps it, so rotten catalog endpoints can be found.
        Unusable = "unusable",
    }
}

impl Outcome {
    /// Whether the endpoint's host answered (`ok` or `unusable`).
    pub fn answered(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Unusable)
    }
}

vocabulary! {
    /// How an endpoint is probed.
    pub enum ProbeKind {
        /// `fetch` in `no-cors` mode: any HTTP answer proves the network path works.
        Fetch = "fetch",
        /// An `<img>` load: only a real image fires `load` (a block page fires `error`).
        Image = "image",
    }
}

vocabulary! {
    /// Circumstances of a run under which a failed probe says nothing about censorship.
    pub enum Condition {
        /// The run was cancelled before it finished.
        Cancelled = "cancelled",
        /// The page was hidden during some attempts (timers are throttled there).
        PageHidden = "page_hidden",
        /// The host page is cross-origin isolated: no-cors loads without CORP headers fail.
        CrossOriginIsolated = "cross_origin_isolated",
        /// The host page's Content-Security-Policy refused a probe.
        CspViolation = "csp_violation",
    }
}

vocabulary! {
    /// The browser family a report names (never the full user-agent string).
    pub enum Browser {
        Chrome = "chrome",
        Firefox = "firefox",
        Safari = "safari",
        Edge = "edge",
        Opera = "opera",
        Samsung = "samsung",
        Other = "other",
    }
}

vocabulary! {
    /// The operating-system family a report names.
    pub enum Os {
        Windows = "windows",
        Macos = "macos",
        Ios = "ios",
        Android = "android",
        Linux = "linux",
        Chromeos = "chromeos",
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde's name, `as_str` and `from_name` agree for every value of a list.
    fn agree<T>(all: &[T], as_str: fn(T) -> &'static str, from_name: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + core::fmt::Debug + Serialize + serde::de::DeserializeOwned,
    {
        for &value in all {
            let wire = as_str(value);
            assert_eq!(serde_json::to_value(value).unwrap(), wire);
            assert_eq!(serde_json::from_value::<T>(wire.into()).unwrap(), value);
            assert_eq!(from_name(wire), Some(value));
        }
        let names: std::collections::HashSet<_> = all.iter().map(|&v| as_str(v)).collect();
        assert_eq!(names.len(), all.len(), "wire names are distinct");
        assert_eq!(from_name("no such name"), None);
    }

    #[test]
    fn every_list_has_one_wire_name_per_value() {
        agree(Verdict::ALL, Verdict::as_str, Verdict::from_name);
        agree(Reason::ALL, Reason::as_str, Reason::from_name);
        agree(Outcome::ALL, Outcome::as_str, Outcome::from_name);
        agree(ProbeKind::ALL, ProbeKind::as_str, ProbeKind::from_name);
        agree(Condition::ALL, Condition::as_str, Condition::from_name);
        agree(Browser::ALL, Browser::as_str, Browser::from_name);
        agree(Os::ALL, Os::as_str, Os::from_name);
    }

    #[test]
    fn the_verdicts_are_the_five_of_the_contract_in_column_order() {
        let names: Vec<_> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(
            names,
            [
                "reachable",
                "throttled",
                "partial",
                "blocked",
                "inconclusive"
            ]
        );
    }

    #[test]
    fn every_condition_is_also_a_reason_of_the_same_name() {
        // A condition that makes failures unreliable is what the verdict then names.
        for c in Condition::ALL {
            assert!(Reason::from_name(c.as_str()).is_some(), "{c:?}");
        }
    }
}
