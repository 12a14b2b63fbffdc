//! Distinct senders, for k: whether a report is the first of its sender in its cell's hour.
//!
//! k counts senders, not reports, so that one visitor pressing "test again" cannot fill a
//! cell alone. Who sent what is never stored: at intake, a keyed hash of the client address
//! (IPv4 address, IPv6 /64, as the rate limiter keys it) with its country and network goes
//! into a set held in memory for the current UTC hour only; at every full hour the set is
//! emptied and its key replaced. A report is stored with one flag, `new_sender`: 1 when its
//! sender enters the set now, 0 otherwise. A cell's distinct senders are the sum of that flag
//! over its reports.
//!
//! A report counts as a sender only while its run's hour (`started_at`) or the next one lasts
//! (a run straddling the full hour still counts): a report of any other hour (a page left open
//! for hours, a claim of an old hour, or of the next hour, which intake tolerates for clocks
//! a little ahead) adds to the verdict counts but never to the senders, so nobody can open a
//! cell by posting once an hour for k hours. A sender therefore counts at most twice in one
//! cell: once in the hour its run started, once more if it reports that same hour again in the
//! next hour, after the set was emptied.

use crate::rate_limit::client_bits;
use crate::time::{floor_hour, HOUR};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;

/// What the set says of one report's sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// Its first report in this cell this hour: it counts as one more sender.
    New,
    /// Already counted this hour (in this country and network).
    Known,
    /// The run did not start in this hour or the previous one: a report, not a sender.
    OtherHour,
    /// The hour's set is full: a report, not a sender (never counted twice for lack of room).
    Uncounted,
}

impl Sender {
    /// The `new_sender` flag stored with the report.
    pub fn counts(self) -> bool {
        self == Sender::New
    }
}

struct Hour {
    /// Start of the UTC hour this set is for (Unix seconds).
    start: i64,
    /// std's SipHash-1-3 with fresh random keys, replaced with the set.
    secret: RandomState,
    seen: HashSet<u64>,
}

/// The senders seen this UTC hour, at most `max` of them.
pub struct Senders {
    max: usize,
    hour: Mutex<Hour>,
}

impl Senders {
    /// A set remembering at most `max` senders per hour.
    pub fn new(max: usize) -> Self {
        Senders {
            max: max.max(1),
            hour: Mutex::new(Hour {
                start: i64::MIN,
                secret: RandomState::new(),
                seen: HashSet::new(),
            }),
        }
    }

    /// Whether the report of a run started at `started_at` (a whole hour), sent from `ip` in
    /// `cc`/`asn` and arriving at `now` (Unix seconds), counts as a new sender of its cell.
    pub fn admit(&self, ip: IpAddr, cc: &str, asn: u32, started_at: i64, now: i64) -> Sender {
        let current = floor_hour(now);
        if started_at != current && started_at != current - HOUR {
            return Sender::OtherHour;
        }
        let mut hour = self.hour.lock().unwrap_or_else(|e| e.into_inner());
        if hour.start != current {
            *hour = Hour {
                start: current,
                secret: RandomState::new(),
                seen: HashSet::new(),
            };
        }
        let key = hour.secret.hash_one((client_bits(ip), cc, asn, started_at));
        if hour.seen.contains(&key) {
            Sender::Known
        } else if hour.seen.len() >= self.max {
            Sender::Uncounted
        } else {
            hour.seen.insert(key);
            Sender::New
        }
    }

    /// Takes back a [`Sender::New`] whose report was not stored, so that its retry counts
    /// (a no-op once the hour has changed).
    pub fn forget(&self, ip: IpAddr, cc: &str, asn: u32, started_at: i64, now: i64) {
        let mut hour = self.hour.lock().unwrap_or_else(|e| e.into_inner());
        if hour.start == floor_hour(now) {
            let key = hour.secret.hash_one((client_bits(ip), cc, asn, started_at));
            hour.seen.remove(&key);
        }
    }

    /// Senders remembered this hour (for `/metrics`).
    pub fn len(&self) -> usize {
        self.hour.lock().map(|h| h.seen.len()).unwrap_or(0)
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 1_795_381_200; // 2026-11-22T20:00:00Z

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_sender_counts_once_per_cell_hour_and_others_count_too() {
        let s = Senders::new(100);
        let now = H + 600;
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, now), Sender::New);
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, now), Sender::Known);
        assert_eq!(s.admit(ip("192.0.2.2"), "PK", 1, H, now), Sender::New);
        // Another cell hour (the previous one, a run straddling the hour): counts there.
        assert_eq!(
            s.admit(ip("192.0.2.1"), "PK", 1, H - HOUR, now),
            Sender::New
        );
        // IPv6 per /64.
        assert_eq!(s.admit(ip("2001:db8::1"), "PK", 1, H, now), Sender::New);
        assert_eq!(s.admit(ip("2001:db8::2"), "PK", 1, H, now), Sender::Known);
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn reports_of_older_or_later_hours_never_count() {
        let s = Senders::new(100);
        let now = H + 600;
        for started_at in [H - 2 * HOUR, H + HOUR] {
            assert_eq!(
                s.admit(ip("192.0.2.1"), "PK", 1, started_at, now),
                Sender::OtherHour
            );
        }
        assert!(s.is_empty());
    }

    #[test]
    fn the_set_is_emptied_at_the_full_hour() {
        let s = Senders::new(100);
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, H + 3599), Sender::New);
        // The next hour: the same cell hour counts once more (the residual: at most twice),
        // and an hour later not at all.
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, H + HOUR), Sender::New);
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.admit(ip("192.0.2.1"), "PK", 1, H, H + 2 * HOUR),
            Sender::OtherHour
        );
    }

    #[test]
    fn a_full_set_counts_no_new_sender_and_still_knows_the_old_ones() {
        let s = Senders::new(1);
        let now = H + 1;
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, now), Sender::New);
        assert_eq!(s.admit(ip("192.0.2.2"), "PK", 1, H, now), Sender::Uncounted);
        assert_eq!(s.admit(ip("192.0.2.1"), "PK", 1, H, now), Sender::Known);
        s.forget(ip("192.0.2.1"), "PK", 1, H, now);
        assert_eq!(s.admit(ip("192.0.2.2"), "PK", 1, H, now), Sender::New);
    }
}
