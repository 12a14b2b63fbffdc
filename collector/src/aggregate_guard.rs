//! What keeps `GET /v1/aggregates` and `GET /v1/disruptions` cheap whoever asks and however
//! often: identical queries answered from a brief cache (one per route), a cap on the queries running at once, an allowance per
//! client (the same keyed-hash limiter as reports), and a cap on the rows one query may read
//! (counted by the database, see [`crate::storage::Storage::aggregate`]).

use crate::aggregate::Aggregate;
use crate::disruptions::Disruption;
use crate::rate_limit::RateLimiter;
use crate::storage::AggregateQuery;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Distinct queries kept in the cache at most.
const CACHE_ENTRIES: usize = 256;

/// The limits of aggregate reads, shared by every request.
pub struct AggregateGuard {
    pub cache: AggregateCache,
    /// Disruptions by query, kept as long as aggregates.
    pub disruptions: AnswerCache<Vec<Disruption>>,
    /// OONI export lines by query, kept as long as aggregates.
    pub ooni: AnswerCache<String>,
    /// Queries allowed to run against storage at once.
    slots: Arc<Semaphore>,
    /// Requests per minute per client.
    pub limiter: RateLimiter,
    /// Rows (cell and verdict) one query may read.
    pub max_rows: usize,
}

impl AggregateGuard {
    pub fn new(
        cache: AggregateCache,
        concurrent: usize,
        limiter: RateLimiter,
        max_rows: usize,
    ) -> Self {
        AggregateGuard {
            disruptions: AnswerCache::new(cache.ttl),
            ooni: AnswerCache::new(cache.ttl),
            cache,
            slots: Arc::new(Semaphore::new(concurrent)),
            limiter,
            max_rows,
        }
    }

    /// A slot to run one query, held until dropped; `None` when every slot is taken (the
    /// request is then refused at once, not queued).
    pub fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

/// Answers of the last `ttl` by query, at most [`CACHE_ENTRIES`] of them.
pub struct AnswerCache<A> {
    ttl: Duration,
    entries: Mutex<HashMap<AggregateQuery, (Instant, Arc<A>)>>,
}

/// The cache of aggregates.
pub type AggregateCache = AnswerCache<Aggregate>;

impl<A> AnswerCache<A> {
    /// A cache keeping answers for `ttl`; a zero `ttl` keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        AnswerCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer to `query` computed less than `ttl` before `now`.
    pub fn get(&self, query: &AggregateQuery, now: Instant) -> Option<Arc<A>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(query)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, aggregate)| aggregate.clone())
    }

    /// Keeps `aggregate` as the answer to `query`; when full, expired answers go first, then
    /// the oldest.
    pub fn put(&self, query: AggregateQuery, aggregate: Arc<A>, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_ENTRIES && !entries.contains_key(&query) {
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if entries.len() >= CACHE_ENTRIES {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(q, _)| q.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(query, (now, aggregate));
    }

    /// Answers held right now.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether no answer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(k: u32) -> Arc<Aggregate> {
        Arc::new(Aggregate {
            k,
            bucket: "hour",
            from: String::new(),
            to: String::new(),
            cells: Vec::new(),
            connections: Vec::new(),
        })
    }

    fn query(from: i64) -> AggregateQuery {
        AggregateQuery {
            from,
            to: from + 3600,
            bucket: 3600,
            ..AggregateQuery::default()
        }
    }

    #[test]
    fn answers_expire_after_their_ttl_and_the_cache_stays_bounded() {
        let cache = AggregateCache::new(Duration::from_secs(30));
        let t = Instant::now();
        cache.put(query(0), answer(1), t);
        assert_eq!(
            cache.get(&query(0), t + Duration::from_secs(29)).unwrap().k,
            1
        );
        assert!(cache.get(&query(0), t + Duration::from_secs(30)).is_none());
        assert!(cache.get(&query(3600), t).is_none(), "another query");
        for i in 0..(CACHE_ENTRIES as i64 * 2) {
            cache.put(
                query(i * 3600),
                answer(2),
                t + Duration::from_millis(i as u64),
            );
        }
        assert_eq!(cache.len(), CACHE_ENTRIES);
        let newest = query((CACHE_ENTRIES as i64 * 2 - 1) * 3600);
        assert!(cache.get(&newest, t).is_some(), "the oldest went first");
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = AggregateCache::new(Duration::ZERO);
        cache.put(query(0), answer(1), Instant::now());
        assert!(cache.is_empty());
    }

    #[test]
    fn slots_run_out_and_come_back() {
        let guard = AggregateGuard::new(
            AggregateCache::new(Duration::ZERO),
            1,
            RateLimiter::new(0, 1),
            10,
        );
        let held = guard.slot().expect("one slot");
        assert!(guard.slot().is_none());
        drop(held);
        assert!(guard.slot().is_some());
    }
}
