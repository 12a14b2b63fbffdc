//! `GET /v1/aggregates?cc=&asn=&platform=&from=&to=&bucket=hour|day&format=json|csv`.
//!
//! `from` is inclusive and `to` exclusive (UTC dates or date-times, on `started_at`); by
//! default the last 7 days. Both are widened to whole buckets: `from` rounded down to the
//! start of its bucket, `to` rounded up to the end of its bucket (the answer's `from` and `to`
//! say so). Only hour cells with at least k distinct senders are counted, a day being the sum
//! of its published hours; how many cells were left out is not said (see
//! [`crate::aggregate`]).
//!
//! The JSON answer also has `connections`: the published connection conditions per bucket,
//! country and network (every filter but `platform` applies; CSV carries the verdict cells
//! only), see [`crate::aggregate`].
//!
//! Each client has an allowance of queries, identical queries are answered from a brief
//! cache, and a few run against storage at once (see [`crate::aggregate_guard`]).

use super::State;
use crate::aggregate::{cells, connection_cells, Aggregate};
use crate::error::AppError;
use crate::storage::AggregateQuery;
use crate::time::{self, format_utc, DAY, HOUR};
use axum::extract::{ConnectInfo, Query, State as Extract};
use axum::http::{header, HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Header with k.
pub const K_HEADER: HeaderName = HeaderName::from_static("x-netreach-k");
/// Longest time range of one query.
const MAX_RANGE: i64 = 400 * DAY;

/// The filters and range shared by aggregates and disruptions.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    campaign: Option<String>,
    cc: Option<String>,
    asn: Option<String>,
    platform: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(flatten)]
    filters: Filters,
    bucket: Option<String>,
    format: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Turns query parameters into a storage query, or says which one is wrong.
fn query(p: &Params, now: i64) -> Result<AggregateQuery, AppError> {
    let bucket = match nonempty(&p.bucket) {
        None | Some("hour") => HOUR,
        Some("day") => DAY,
        Some(_) => return Err(AppError::BadQuery("bucket: must be hour or day".into())),
    };
    p.filters.query(bucket, now)
}

impl Filters {
    /// The storage query of these filters over whole buckets of `bucket` seconds, or which
    /// parameter is wrong.
    ///
    /// # Errors
    /// [`AppError::BadQuery`] naming the parameter.
    pub fn query(&self, bucket: i64, now: i64) -> Result<AggregateQuery, AppError> {
        let p = self;
        let cc = match nonempty(&p.cc) {
            Some(cc) if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(cc.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(AppError::BadQuery(
                    "cc: must be a two-letter country code".into(),
                ))
            }
            None => None,
        };
        let asn = match nonempty(&p.asn) {
            Some(asn) => Some(
                asn.trim_start_matches("AS")
                    .parse::<u32>()
                    .map_err(|_| AppError::BadQuery("asn: must be a number like 17557".into()))?,
            ),
            None => None,
        };
        let campaign = match nonempty(&p.campaign) {
            Some(id) if crate::campaigns::valid_id(id) => Some(id.to_owned()),
            Some(_) => {
                return Err(AppError::BadQuery(
                    "campaign: must be a campaign id (letters, digits, - and _)".into(),
                ))
            }
            None => None,
        };
        let platform = match nonempty(&p.platform) {
            Some(id) if crate::campaigns::valid_id(id) => Some(id.to_owned()),
            Some(_) => return Err(AppError::BadQuery("platform: must be a platform id".into())),
            None => None,
        };
        let parse = |name: &str, v: &Option<String>| -> Result<Option<i64>, AppError> {
            nonempty(v)
                .map(|s| {
                    time::parse_utc(s).ok_or_else(|| {
                        AppError::BadQuery(format!(
                            "{name}: must be a UTC date (2026-11-22) or date-time (2026-11-22T21:00:00Z)"
                        ))
                    })
                })
                .transpose()
        };
        let to = parse("to", &p.to)?.unwrap_or(time::floor_hour(now) + HOUR);
        let from = parse("from", &p.from)?.unwrap_or(to - 7 * DAY);
        if from >= to {
            return Err(AppError::BadQuery("from: must be before to".into()));
        }
        if to - from > MAX_RANGE {
            return Err(AppError::BadQuery(
                "from: the range is limited to 400 days".into(),
            ));
        }
        Ok(AggregateQuery {
            campaign,
            cc,
            asn,
            platform,
            // Whole buckets only, at both ends: a cell is never cut in two by the range, so moving
            // `from` or `to` inside a bucket changes nothing (no differencing of a suppressed hour
            // out of a day). `from` goes down to its bucket's start, `to` up to its bucket's end.
            from: from.div_euclid(bucket) * bucket,
            to: (to + bucket - 1).div_euclid(bucket) * bucket,
            bucket,
        })
    }
}

pub async fn get_aggregates(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, AppError> {
    state.metrics.aggregate_requested();
    allow_read(&state, peer, &headers)?;
    let csv = wants_csv(&params)?;
    let q = query(&params, time::now())?;
    let aggregate = aggregate(&state, q).await?;
    Ok(answer(&aggregate, csv, state.synthetic))
}

/// Takes one read from the client's allowance (shared by aggregates, disruptions and the
/// OONI export).
///
/// # Errors
/// [`AppError::ReadsLimited`] once the allowance is used.
pub(super) fn allow_read(
    state: &State,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    let client = state.proxies.client_ip(peer.ip(), headers);
    state
        .aggregates
        .limiter
        .check(client, Instant::now())
        .map_err(AppError::ReadsLimited)
}

/// The aggregate answering `q`: from the cache, or from storage when a slot is free.
pub(super) async fn aggregate(
    state: &State,
    q: AggregateQuery,
) -> Result<Arc<Aggregate>, AppError> {
    let guard = &state.aggregates;
    if let Some(cached) = guard.cache.get(&q, Instant::now()) {
        return Ok(cached);
    }
    let _slot = guard.slot().ok_or(AppError::Busy)?;
    let (from, to, bucket) = (q.from, q.to, q.bucket);
    let rows = state
        .storage
        .aggregate(q.clone(), state.k, guard.max_rows)
        .await?
        .ok_or(AppError::TooManyCells {
            max: guard.max_rows,
        })?;
    let connections = state
        .storage
        .connections(q.clone(), state.k, guard.max_rows)
        .await?
        .ok_or(AppError::TooManyCells {
            max: guard.max_rows,
        })?;
    let aggregate = Arc::new(Aggregate {
        k: state.k,
        bucket: if bucket == DAY { "day" } else { "hour" },
        from: format_utc(from),
        to: format_utc(to),
        cells: cells(&rows),
        connections: connection_cells(&connections),
    });
    guard.cache.put(q, aggregate.clone(), Instant::now());
    Ok(aggregate)
}

/// Whether the answer is CSV (`format=csv`) rather than JSON.
fn wants_csv(p: &Params) -> Result<bool, AppError> {
    match nonempty(&p.format) {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(AppError::BadQuery("format: must be json or csv".into())),
    }
}

/// The aggregate as JSON or CSV, with k in a header too (a CSV answer carries it only there).
fn answer(aggregate: &Aggregate, csv: bool, synthetic: bool) -> Response {
    let headers = [
        (K_HEADER, aggregate.k.to_string()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if csv {
        let csv_type = [(header::CONTENT_TYPE, "text/csv; charset=utf-8")];
        (headers, csv_type, aggregate.to_csv()).into_response()
    } else {
        let labelled = super::Labelled {
            answer: aggregate,
            synthetic,
        };
        (headers, Json(labelled)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            match *k {
                "cc" => p.filters.cc = v,
                "asn" => p.filters.asn = v,
                "platform" => p.filters.platform = v,
                "from" => p.filters.from = v,
                "to" => p.filters.to = v,
                "bucket" => p.bucket = v,
                _ => unreachable!(),
            }
        }
        p
    }

    #[test]
    fn filters_are_parsed_and_bad_ones_named() {
        let now = 1_795_384_799;
        let q = query(
            &params(&[("cc", "pk"), ("asn", "AS17557"), ("bucket", "day")]),
            now,
        )
        .unwrap();
        assert_eq!(q.cc.as_deref(), Some("PK"));
        assert_eq!(q.asn, Some(17557));
        assert_eq!(q.bucket, DAY);
        // The end of the current hour (2026-11-22T22:00Z), up to the end of its day.
        assert_eq!(q.to, 1_795_392_000);
        assert_eq!((q.from % DAY, q.to % DAY), (0, 0));
        let hourly = query(&params(&[("to", "2026-11-22T21:30:00Z")]), now).unwrap();
        assert_eq!(hourly.to, 1_795_384_800);
        let whole = query(&params(&[("to", "2026-11-22T22:00:00Z")]), now).unwrap();
        assert_eq!(whole.to, 1_795_384_800);
        for (k, v, start) in [
            ("cc", "PAK", "cc:"),
            ("asn", "x", "asn:"),
            ("bucket", "week", "bucket:"),
            ("from", "yesterday", "from:"),
            ("platform", "../x", "platform:"),
        ] {
            let e = query(&params(&[(k, v)]), now).unwrap_err();
            assert!(e.message().starts_with(start), "{k}={v}: {}", e.message());
        }
        let e = query(
            &params(&[("from", "2026-11-22"), ("to", "2026-11-21")]),
            now,
        )
        .unwrap_err();
        assert_eq!(e.message(), "from: must be before to");
    }
}

#[cfg(test)]
mod concurrency {
    use super::*;
    use crate::aggregate_guard::{AggregateCache, AggregateGuard};
    use crate::proxy::TrustedProxies;
    use crate::rate_limit::RateLimiter;
    use crate::routes::AppState;
    use crate::storage::{
        BoxFuture, ConnectionCount, CountRow, FigureRow, HourlyCounts, NewReport, ReportQuery,
        Storage, StorageError, StoredReport,
    };
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;
    use tokio::sync::Semaphore;

    /// Storage whose aggregate queries wait until the test lets them finish.
    struct Stalled {
        entered: Semaphore,
        release: Semaphore,
    }

    impl Storage for Stalled {
        fn insert(&self, _: NewReport) -> BoxFuture<'_, Result<i64, StorageError>> {
            Box::pin(async { Err(StorageError::Unavailable("read only".into())) })
        }
        fn insert_unless_present(
            &self,
            _: NewReport,
        ) -> BoxFuture<'_, Result<Option<i64>, StorageError>> {
            Box::pin(async { Err(StorageError::Unavailable("read only".into())) })
        }
        fn aggregate(
            &self,
            _: AggregateQuery,
            _: u32,
            _: usize,
        ) -> BoxFuture<'_, Result<Option<Vec<CountRow>>, StorageError>> {
            Box::pin(async {
                self.entered.add_permits(1);
                self.release.acquire().await.unwrap().forget();
                Ok(Some(Vec::new()))
            })
        }
        fn hourly_counts(
            &self,
            _: i64,
            _: i64,
            _: Option<String>,
            _: usize,
        ) -> BoxFuture<'_, Result<Option<HourlyCounts>, StorageError>> {
            Box::pin(async { Ok(Some(HourlyCounts::default())) })
        }
        fn connections(
            &self,
            _: AggregateQuery,
            _: u32,
            _: usize,
        ) -> BoxFuture<'_, Result<Option<Vec<ConnectionCount>>, StorageError>> {
            Box::pin(async { Ok(Some(Vec::new())) })
        }
        fn baseline_figures(
            &self,
            _: i64,
            _: i64,
            _: u32,
        ) -> BoxFuture<'_, Result<Vec<FigureRow>, StorageError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn reports_after(
            &self,
            _: ReportQuery,
            _: i64,
        ) -> BoxFuture<'_, Result<Vec<StoredReport>, StorageError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn roll_hour(
            &self,
            _: i64,
            _: crate::storage::rollup::Fold,
        ) -> BoxFuture<'_, Result<Option<i64>, StorageError>> {
            Box::pin(async { Ok(None) })
        }
        fn delete_received_before(&self, _: i64) -> BoxFuture<'_, Result<u64, StorageError>> {
            Box::pin(async { Ok(0) })
        }
        fn health(&self) -> BoxFuture<'_, Result<(), StorageError>> {
            Box::pin(async { Ok(()) })
        }
        fn close(&self) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
        fn kind(&self) -> &'static str {
            "stalled"
        }
    }

    fn get(
        state: &State,
        bucket: &str,
    ) -> impl std::future::Future<Output = Result<Response, AppError>> {
        let params = Params {
            bucket: Some(bucket.into()),
            ..Params::default()
        };
        get_aggregates(
            Extract(state.clone()),
            ConnectInfo("127.0.0.1:1".parse().unwrap()),
            HeaderMap::new(),
            Query(params),
        )
    }

    #[tokio::test]
    async fn a_query_over_the_concurrency_cap_gets_503_at_once() {
        let storage = Arc::new(Stalled {
            entered: Semaphore::new(0),
            release: Semaphore::new(0),
        });
        let state = Arc::new(AppState {
            storage: storage.clone(),
            baselines: Arc::new(crate::connection::Baselines::new(1)),
            campaigns: crate::campaigns::Campaigns::new("campaigns".into()),
            geo: crate::geo::Geo::open(None, None).unwrap(),
            limiter: RateLimiter::new(0, 10),
            senders: crate::senders::Senders::new(10),
            metrics: Arc::default(),
            k: 1,
            max_body: 1024,
            proxies: TrustedProxies::new(Vec::new(), 1),
            aggregates: AggregateGuard::new(
                AggregateCache::new(Duration::ZERO),
                1,
                RateLimiter::new(0, 10),
                100,
            ),
            healthy: AtomicBool::new(true),
            submit_origins: crate::origin::SubmitOrigins {
                public: None,
                embed: Vec::new(),
            },
            synthetic: false,
        });
        let running = tokio::spawn(get(&state, "hour"));
        storage.entered.acquire().await.unwrap().forget();
        // The one slot is taken by a query still waiting for storage. (Without the cap this
        // query would wait for storage too: the bound turns that into a failure.)
        let refused = tokio::time::timeout(Duration::from_secs(30), get(&state, "day"))
            .await
            .expect("refused at once, not queued")
            .unwrap_err();
        assert_eq!(
            refused.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(refused.retry_after(), Some(1));
        assert_eq!(
            refused.message(),
            "too many aggregate queries at once; try again in a moment"
        );
        storage.release.add_permits(1);
        assert_eq!(running.await.unwrap().unwrap().status(), 200);
        storage.release.add_permits(1);
        assert_eq!(
            get(&state, "day").await.unwrap().status(),
            200,
            "the slot is back"
        );
    }
}
