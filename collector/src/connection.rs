//! The connection condition of a report: how the visitor's network itself fared, judged on the
//! server from the report's controls (issue #13). Platform verdicts are judged against the
//! controls, so a network that is cut or slowed as a whole shows in the controls, not in them.

use serde::Serialize;

/// How the controls of one report fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Controls loaded, and not far slower than the network's own baseline for that hour of
    /// day (or there is no baseline to say otherwise).
    Normal,
    /// Controls loaded, but their latency or throughput was far worse than the network's own
    /// baseline for the same hour of day.
    Degraded,
    /// No control loaded (every one failed repeatedly).
    Offline,
}

impl Connection {
    /// Every condition, in wire order.
    pub const ALL: [Connection; 3] = [
        Connection::Normal,
        Connection::Degraded,
        Connection::Offline,
    ];

    /// The wire (and stored) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Normal => "normal",
            Connection::Degraded => "degraded",
            Connection::Offline => "offline",
        }
    }

    /// The condition of a wire (or stored) name.
    pub fn parse(name: &str) -> Option<Connection> {
        Connection::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for c in Connection::ALL {
            assert_eq!(Connection::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Connection::parse("Offline"), None);
        assert_eq!(Connection::parse(""), None);
    }
}
