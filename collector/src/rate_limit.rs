//! Reports per minute per client, keyed by a hash of the address with a secret that is held
//! only in memory and replaced every hour (with all buckets), so no table links an address to
//! anything for longer than that, and a memory dump cannot be matched against a list of IPs
//! once the secret has rotated.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the hashing secret (and with it every bucket) is replaced.
pub const ROTATE_EVERY: Duration = Duration::from_secs(3600);

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct State {
    /// std's SipHash-1-3 with fresh random keys: a keyed hash, the key never leaves memory.
    secret: RandomState,
    since: Instant,
    buckets: HashMap<u64, Bucket>,
}

/// A request refused by the limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The sender's network has used its allowance (429).
    OverAllowance {
        /// Seconds until the next request would be taken (`Retry-After`).
        retry_after: u64,
    },
    /// The table of clients is full of clients still using their allowance, so a new one
    /// cannot be tracked (503): the table never grows past its cap.
    TooManyClients,
}

impl Refused {
    /// Seconds to wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> u64 {
        match self {
            Refused::OverAllowance { retry_after } => *retry_after,
            Refused::TooManyClients => 60,
        }
    }
}

/// A token bucket per client: `per_minute` tokens, refilled continuously, for at most
/// `max_clients` clients at once.
pub struct RateLimiter {
    per_minute: u32,
    max_clients: usize,
    state: Mutex<State>,
}

/// The key of an address: IPv4 as is, IPv6 by its /64 (one subscriber holds a whole /64).
pub(crate) fn client_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !((1u128 << 64) - 1),
        },
    }
}

impl RateLimiter {
    /// `per_minute` requests per client per minute (0 turns limiting off), for at most
    /// `max_clients` clients whose buckets have not refilled.
    pub fn new(per_minute: u32, max_clients: usize) -> Self {
        RateLimiter {
            per_minute,
            max_clients: max_clients.max(1),
            state: Mutex::new(State {
                secret: RandomState::new(),
                since: Instant::now(),
                buckets: HashMap::new(),
            }),
        }
    }

    /// Takes one token for `ip`.
    ///
    /// # Errors
    /// [`Refused::OverAllowance`], with the seconds until a token is available, when there
    /// is none; [`Refused::TooManyClients`] for a new client when the table is full even
    /// after forgetting every client whose bucket has refilled.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Refused> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(state.since) >= ROTATE_EVERY {
            state.secret = RandomState::new();
            state.since = now;
            state.buckets.clear();
        }
        let key = state.secret.hash_one(client_bits(ip));
        if state.buckets.len() >= self.max_clients && !state.buckets.contains_key(&key) {
            state.buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * per_second < capacity
            });
            if state.buckets.len() >= self.max_clients {
                return Err(Refused::TooManyClients);
            }
        }
        let bucket = state.buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Refused::OverAllowance {
                retry_after: ((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64,
            })
        }
    }

    /// Clients with a bucket right now (for `/metrics`).
    pub fn clients(&self) -> usize {
        self.state.lock().map(|s| s.buckets.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_allowance_waits_and_others_do_not() {
        let limiter = RateLimiter::new(2, 100);
        let t = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.check(a, t).is_ok());
        assert!(limiter.check(a, t).is_ok());
        let refused = limiter.check(a, t).unwrap_err();
        assert_eq!(
            refused,
            Refused::OverAllowance { retry_after: 30 },
            "one token per 30 s at 2/min"
        );
        assert!(limiter.check(b, t).is_ok());
        assert!(limiter.check(a, t + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn ipv6_clients_are_limited_per_slash_64() {
        let limiter = RateLimiter::new(1, 100);
        let t = Instant::now();
        assert!(limiter.check("2001:db8::1".parse().unwrap(), t).is_ok());
        assert!(limiter.check("2001:db8::2".parse().unwrap(), t).is_err());
        assert!(limiter.check("2001:db8:0:1::1".parse().unwrap(), t).is_ok());
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0, 100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..1000).all(|_| limiter.check(ip, Instant::now()).is_ok()));
    }

    #[test]
    fn rotation_forgets_every_client() {
        let limiter = RateLimiter::new(1, 100);
        let t = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.check(ip, t).is_ok());
        assert!(limiter.check(ip, t).is_err());
        assert!(limiter.check(ip, t + ROTATE_EVERY).is_ok());
        assert_eq!(limiter.clients(), 1);
    }

    #[test]
    fn a_full_table_refuses_new_clients_until_a_bucket_refills() {
        let limiter = RateLimiter::new(60, 2);
        let t = Instant::now();
        let [a, b, c]: [IpAddr; 3] =
            ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(|s| s.parse().unwrap());
        assert!(limiter.check(a, t).is_ok());
        assert!(limiter.check(b, t).is_ok());
        assert_eq!(limiter.check(c, t), Err(Refused::TooManyClients));
        assert_eq!(limiter.clients(), 2, "the table did not grow");
        assert!(limiter.check(a, t).is_ok(), "known clients go on");
        // A second later, b's bucket has refilled (one token per second): b is forgotten
        // and c takes its place; a is still using its allowance and stays.
        let later = t + Duration::from_secs(1);
        assert!(limiter.check(c, later).is_ok());
        assert_eq!(limiter.clients(), 2);
        assert_eq!(limiter.check(b, later), Err(Refused::TooManyClients));
    }
}
