//! Hourly rollups (issue #11) on SQLite and on a real PostgreSQL: aggregates and the hourly
//! counts detection reads are exactly what the raw reports give, before, during and after
//! roll forwards, with late reports of old runs and imported reports received before the
//! rollups' bound; two collectors rolling one PostgreSQL forward at once count every report
//! once; retention deletes only what the rollups hold, and they keep counting it; one
//! campaign's counts are only its reports'. The same of the reports' connection conditions
//! (hourly counts and published cells), and the rollups' control figures are the raw
//! reports' once rolled.

mod common;

use common::{Store, TempDir};
use netreach::{Browser, Client, Os, Reason, Verdict};
use netreach_collector::connection::{Connection, LOG_SCALE};
use netreach_collector::rollup::{roll_all, roll_forward};
use netreach_collector::storage::{
    self, AggregateQuery, ConnectionCount, ConnectionRow, CountRow, FigureRow, HourlyCounts,
    NewReport, SenderRow, Storage, StorageOptions, VerdictRow,
};
use netreach_collector::time::{DAY, HOUR};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// 2026-11-16T00:00Z: the first received hour.
const BASE: i64 = 1_795_305_600;
const NETWORKS: [(&str, u32); 3] = [("PK", 17557), ("PK", 38193), ("IR", 44244)];
const PLATFORMS: [&str; 3] = ["x", "yt", "wa"];
const VERDICTS: [Verdict; 4] = [
    Verdict::Reachable,
    Verdict::Blocked,
    Verdict::Partial,
    Verdict::Inconclusive,
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

async fn open(store: &Store) -> Arc<dyn Storage> {
    let options = StorageOptions {
        db_ca: None,
        pool_size: 4,
        write_queue: 1024,
        timeout: Duration::from_secs(20),
    };
    storage::open(&store.url(), options, Arc::default())
        .await
        .unwrap()
}

/// Report `n` received in hour `received`, of a run started `age` hours before it; its
/// network, verdicts and whether it is a new sender follow from `n`.
fn report(n: u32, received: i64, age: i64) -> NewReport {
    let (cc, asn) = NETWORKS[n as usize % NETWORKS.len()];
    NewReport {
        received_at: received,
        started_at: received - age * HOUR,
        // Two campaigns: the rollups keep a row per campaign, summed unless one is asked for.
        campaign: if n.is_multiple_of(4) { "pk" } else { "t" }.into(),
        cc: cc.into(),
        asn,
        client: Client {
            browser: Browser::Chrome,
            version: 156,
            os: Os::Linux,
        },
        runtime_ms: n,
        verdicts: PLATFORMS
            .iter()
            .enumerate()
            .map(|(p, platform)| VerdictRow {
                platform: (*platform).into(),
                verdict: VERDICTS[(n as usize * 7 + p * 3) % 5 % VERDICTS.len()],
                reason: Reason::EndpointsLoaded,
            })
            .collect(),
        new_sender: !n.is_multiple_of(3),
        json: format!("{{\"n\":{n}}}"),
        // Every condition, figures only where not offline, some without a throughput.
        connection: Connection::ALL[n as usize % 7 % 3],
        control_ms: (n % 7 % 3 != 2).then_some(20 + n % 97 * 13),
        control_kbps: (n % 7 % 3 != 2 && !n.is_multiple_of(5)).then_some(500 + n % 89 * 71),
    }
}

/// Reports received in each hour of `hours` (30 an hour), most of runs of that hour or the
/// one before, every fifth of a run two days older (a late report).
fn received_in(hours: std::ops::Range<i64>, first: u32) -> Vec<NewReport> {
    let mut reports = Vec::new();
    let mut n = first;
    for h in hours {
        for i in 0..30 {
            let age = match i % 5 {
                0 => 48 + i64::from(n % 3),
                1 | 2 => 1,
                _ => 0,
            };
            reports.push(report(n, BASE + h * HOUR, age));
            n += 1;
        }
    }
    reports
}

/// What the raw reports give, computed here from the reports themselves.
struct Raw<'a>(&'a [NewReport]);

/// Reports and senders per cell (hour or bucket, country, network, platform, verdict).
type Cells = BTreeMap<(i64, String, u32, String, &'static str), (u64, u64)>;

fn count_rows(cells: Cells) -> Vec<CountRow> {
    cells
        .into_iter()
        .map(
            |((bucket, cc, asn, platform, verdict), (count, senders))| CountRow {
                bucket,
                cc,
                asn,
                platform,
                verdict: Verdict::from_name(verdict).unwrap(),
                count,
                senders,
            },
        )
        .collect()
}

impl Raw<'_> {
    fn in_range<'a>(
        &'a self,
        from: i64,
        to: i64,
        campaign: Option<&'a str>,
    ) -> impl Iterator<Item = &'a NewReport> {
        self.0.iter().filter(move |r| {
            (from..to).contains(&r.started_at) && campaign.is_none_or(|c| c == r.campaign)
        })
    }

    fn hourly_counts(&self, from: i64, to: i64, campaign: Option<&str>) -> HourlyCounts {
        let mut cells = Cells::new();
        let mut senders: BTreeMap<(i64, String, u32), u64> = BTreeMap::new();
        for r in self.in_range(from, to, campaign) {
            for v in &r.verdicts {
                let cell = cells
                    .entry((
                        r.started_at,
                        r.cc.clone(),
                        r.asn,
                        v.platform.clone(),
                        v.verdict.as_str(),
                    ))
                    .or_default();
                cell.0 += 1;
                cell.1 += u64::from(r.new_sender);
            }
            *senders
                .entry((r.started_at, r.cc.clone(), r.asn))
                .or_default() += u64::from(r.new_sender);
        }
        let connections = self
            .connection_hours(from, to, campaign)
            .into_iter()
            .map(|((hour, cc, asn, connection), (count, _))| ConnectionRow {
                hour,
                cc,
                asn,
                connection,
                count,
            })
            .collect();
        HourlyCounts {
            verdicts: count_rows(cells),
            senders: senders
                .into_iter()
                .map(|((hour, cc, asn), senders)| SenderRow {
                    hour,
                    cc,
                    asn,
                    senders,
                })
                .collect(),
            connections,
        }
    }

    /// Reports and senders per hour, country, network and condition.
    fn connection_hours(
        &self,
        from: i64,
        to: i64,
        campaign: Option<&str>,
    ) -> BTreeMap<(i64, String, u32, Connection), (u64, u64)> {
        let mut hours = BTreeMap::new();
        for r in self.in_range(from, to, campaign) {
            let hour: &mut (u64, u64) = hours
                .entry((r.started_at, r.cc.clone(), r.asn, r.connection))
                .or_default();
            hour.0 += 1;
            hour.1 += u64::from(r.new_sender);
        }
        hours
    }

    /// The published condition counts of `q`: network hours with at least k senders, summed
    /// into buckets (the platform filter is not read).
    fn connections(&self, q: &AggregateQuery, k: u64) -> Vec<ConnectionCount> {
        let hours = self.connection_hours(q.from, q.to, q.campaign.as_deref());
        let mut network_senders: BTreeMap<(i64, &str, u32), u64> = BTreeMap::new();
        for ((hour, cc, asn, _), (_, senders)) in &hours {
            *network_senders.entry((*hour, cc, *asn)).or_default() += senders;
        }
        let mut buckets: BTreeMap<(i64, String, u32, Connection), (u64, u64)> = BTreeMap::new();
        for ((hour, cc, asn, connection), (count, senders)) in &hours {
            let chosen = q.cc.as_ref().is_none_or(|c| c == cc) && q.asn.is_none_or(|a| a == *asn);
            if chosen && network_senders[&(*hour, cc.as_str(), *asn)] >= k {
                let bucket = hour.div_euclid(q.bucket) * q.bucket;
                let sum = buckets
                    .entry((bucket, cc.clone(), *asn, *connection))
                    .or_default();
                sum.0 += count;
                sum.1 += senders;
            }
        }
        buckets
            .into_iter()
            .map(
                |((bucket, cc, asn, connection), (count, senders))| ConnectionCount {
                    bucket,
                    cc,
                    asn,
                    connection,
                    count,
                    senders,
                },
            )
            .collect()
    }

    /// The control figures of every hour, country and network with at least k senders, of
    /// the reports not offline, ordered by hour, country, network.
    fn figures(&self, k: u64) -> Vec<FigureRow> {
        let mut senders: BTreeMap<(i64, &str, u32), u64> = BTreeMap::new();
        let mut hours: BTreeMap<(i64, &str, u32), FigureRow> = BTreeMap::new();
        let ln = |v: u32| (f64::from(v).ln() * LOG_SCALE).round() as i64;
        for r in self.0 {
            let key = (r.started_at, r.cc.as_str(), r.asn);
            *senders.entry(key).or_default() += u64::from(r.new_sender);
            let figures = r.control_ms.is_some() || r.control_kbps.is_some();
            if r.connection == Connection::Offline || !figures {
                continue;
            }
            let row = hours.entry(key).or_insert_with(|| FigureRow {
                hour: r.started_at,
                cc: r.cc.clone(),
                asn: r.asn,
                senders: 0,
                ms_reports: 0,
                ms_log: 0,
                kbps_reports: 0,
                kbps_log: 0,
            });
            if let Some(ms) = r.control_ms {
                row.ms_reports += 1;
                row.ms_log += ln(ms);
            }
            if let Some(kbps) = r.control_kbps {
                row.kbps_reports += 1;
                row.kbps_log += ln(kbps);
            }
        }
        hours
            .into_iter()
            .filter_map(|(key, row)| {
                let senders = senders[&key];
                (senders >= k).then_some(FigureRow { senders, ..row })
            })
            .collect()
    }

    /// The published rows of `q`: hour cells with at least k senders, summed into buckets.
    fn aggregate(&self, q: &AggregateQuery, k: u64) -> Vec<CountRow> {
        let hourly = self
            .hourly_counts(q.from, q.to, q.campaign.as_deref())
            .verdicts;
        let mut cell_senders: BTreeMap<(i64, &str, u32, &str), u64> = BTreeMap::new();
        for row in &hourly {
            *cell_senders
                .entry((row.bucket, &row.cc, row.asn, &row.platform))
                .or_default() += row.senders;
        }
        let mut buckets = Cells::new();
        for row in &hourly {
            let published =
                cell_senders[&(row.bucket, row.cc.as_str(), row.asn, row.platform.as_str())] >= k;
            let chosen = q.cc.as_ref().is_none_or(|cc| *cc == row.cc)
                && q.asn.is_none_or(|asn| asn == row.asn)
                && q.platform.as_ref().is_none_or(|p| *p == row.platform);
            if published && chosen {
                let bucket = row.bucket.div_euclid(q.bucket) * q.bucket;
                let sum = buckets
                    .entry((
                        bucket,
                        row.cc.clone(),
                        row.asn,
                        row.platform.clone(),
                        row.verdict.as_str(),
                    ))
                    .or_default();
                sum.0 += row.count;
                sum.1 += row.senders;
            }
        }
        count_rows(buckets)
    }
}

/// Every read the routes make answers as the raw reports `raw` give: the hourly counts of
/// detection, and aggregates by hour and by day, with and without filters, for two k.
async fn answers_as_raw(storage: &dyn Storage, raw: &[NewReport], when: &str) {
    let raw = Raw(raw);
    let (from, to) = (BASE - 4 * DAY, BASE + 2 * DAY);
    for campaign in [None, Some("pk")] {
        let counts = storage
            .hourly_counts(from, to, campaign.map(str::to_owned), 100_000)
            .await
            .unwrap();
        assert_eq!(
            counts,
            Some(raw.hourly_counts(from, to, campaign)),
            "{}: hourly counts of {campaign:?} {when}",
            storage.kind()
        );
    }
    let queries = [
        AggregateQuery::hourly(from, to),
        AggregateQuery {
            bucket: DAY,
            ..AggregateQuery::hourly(from, to)
        },
        AggregateQuery {
            cc: Some("PK".into()),
            platform: Some("yt".into()),
            ..AggregateQuery::hourly(from, to)
        },
        AggregateQuery {
            asn: Some(38193),
            bucket: DAY,
            ..AggregateQuery::hourly(BASE - DAY, to)
        },
        AggregateQuery {
            campaign: Some("pk".into()),
            ..AggregateQuery::hourly(from, to)
        },
        AggregateQuery {
            campaign: Some("t".into()),
            cc: Some("PK".into()),
            bucket: DAY,
            ..AggregateQuery::hourly(from, to)
        },
    ];
    for q in queries {
        for k in [1, 3] {
            let rows = storage.aggregate(q.clone(), k, 100_000).await.unwrap();
            let want = raw.aggregate(&q, u64::from(k));
            assert!(!want.is_empty(), "a query with rows: {q:?} k={k}");
            assert_eq!(rows, Some(want), "{}: {q:?} k={k} {when}", storage.kind());
            let connections = storage.connections(q.clone(), k, 100_000).await.unwrap();
            let want = raw.connections(&q, u64::from(k));
            assert!(!want.is_empty(), "a query with conditions: {q:?} k={k}");
            assert_eq!(
                connections,
                Some(want),
                "{}: conditions of {q:?} k={k} {when}",
                storage.kind()
            );
        }
    }
}

/// The rollups' control figures are those of the raw reports `rolled` (every one rolled up).
async fn figures_as_raw(storage: &dyn Storage, rolled: &[NewReport], when: &str) {
    for k in [1, 3] {
        let mut figures = storage
            .baseline_figures(BASE - 4 * DAY, BASE + 2 * DAY, k)
            .await
            .unwrap();
        figures.sort_by(|a, b| (a.hour, &a.cc, a.asn).cmp(&(b.hour, &b.cc, b.asn)));
        let want = Raw(rolled).figures(u64::from(k));
        assert!(want.len() > 10, "hours with figures: {want:?}");
        assert_eq!(figures, want, "{}: figures k={k} {when}", storage.kind());
    }
}

fn the_rollups_and_the_live_reports_answer_as_the_raw_reports(store: Store) {
    runtime().block_on(async {
        let storage = open(&store).await;
        let rolled = || store.query("SELECT rolled_before FROM rollup_state");
        let mut stored = received_in(0..4, 0);
        for r in &stored {
            storage.insert(r.clone()).await.unwrap();
        }
        // Nothing rolled yet: all live.
        answers_as_raw(&*storage, &stored, "before any roll forward").await;

        // Hours 0 and 1 into the rollups; 2 and 3 live.
        assert_eq!(roll_forward(&*storage, BASE + 2 * HOUR).await.unwrap(), 2);
        assert_eq!(rolled(), [(BASE + 2 * HOUR).to_string()]);
        assert_eq!(roll_forward(&*storage, BASE + 2 * HOUR).await.unwrap(), 0);
        answers_as_raw(&*storage, &stored, "with hours 0 and 1 rolled").await;

        // Late reports received in hour 4 for runs of hours already in the rollups.
        let late: Vec<NewReport> = (0..6)
            .map(|i| report(1000 + i, BASE + 4 * HOUR, 3 + i64::from(i)))
            .collect();
        for r in &late {
            storage.insert(r.clone()).await.unwrap();
        }
        stored.extend(late);
        answers_as_raw(&*storage, &stored, "with late reports live").await;

        // An empty hour (5) and hours 6 and 7, then hours 2 to 6 rolled (5 has no reports).
        let more = received_in(6..8, 2000);
        for r in &more {
            storage.insert(r.clone()).await.unwrap();
        }
        stored.extend(more);
        assert_eq!(roll_forward(&*storage, BASE + 7 * HOUR).await.unwrap(), 4);
        assert_eq!(rolled(), [(BASE + 7 * HOUR).to_string()]);
        answers_as_raw(&*storage, &stored, "with hours 0 to 6 rolled").await;

        // An import stores reports received long ago, before the bound: counted at once, and
        // once (the same report again is not stored).
        let imported = received_in(1..2, 3000);
        for r in &imported {
            assert!(storage
                .insert_unless_present(r.clone())
                .await
                .unwrap()
                .is_some());
            assert!(storage
                .insert_unless_present(r.clone())
                .await
                .unwrap()
                .is_none());
        }
        stored.extend(imported);
        answers_as_raw(&*storage, &stored, "after an import before the bound").await;

        // Hour 7 and hours 8 to 12 at once (`rollup --at-once`): nothing is left after.
        let batch = received_in(8..13, 5000);
        for r in &batch {
            storage.insert(r.clone()).await.unwrap();
        }
        stored.extend(batch);
        assert!(roll_all(&*storage, BASE + 13 * HOUR).await.unwrap());
        assert_eq!(rolled(), [(BASE + 13 * HOUR).to_string()]);
        assert!(!roll_all(&*storage, BASE + 13 * HOUR).await.unwrap());
        answers_as_raw(&*storage, &stored, "with hours 8 to 12 rolled at once").await;

        assert_eq!(roll_forward(&*storage, BASE + 30 * HOUR).await.unwrap(), 0);
        answers_as_raw(&*storage, &stored, "with everything rolled").await;
        figures_as_raw(&*storage, &stored, "with everything rolled").await;

        // Retention deletes only what the rollups hold; they keep counting it.
        let live = report(4000, BASE + 40 * HOUR, 0);
        storage.insert(live.clone()).await.unwrap();
        stored.push(live);
        let all = stored.len() as u64;
        assert_eq!(
            storage
                .delete_received_before(BASE + 50 * HOUR)
                .await
                .unwrap(),
            all - 1
        );
        assert_eq!(store.query("SELECT runtime_ms FROM reports"), ["4000"]);
        answers_as_raw(&*storage, &stored, "after retention").await;
        figures_as_raw(&*storage, &stored[..stored.len() - 1], "after retention").await;
        storage.close().await;
    });
}

test_on_both_stores!(the_rollups_and_the_live_reports_answer_as_the_raw_reports);

#[test]
fn two_collectors_rolling_one_postgresql_forward_at_once_count_each_report_once() {
    let store = Store::postgres();
    runtime().block_on(async {
        let (one, two) = (open(&store).await, open(&store).await);
        let stored = received_in(0..40, 0);
        for (i, r) in stored.iter().enumerate() {
            let storage = if i % 2 == 0 { &one } else { &two };
            storage.insert(r.clone()).await.unwrap();
        }
        let until = BASE + 40 * HOUR;
        let (a, b) = tokio::join!(roll_forward(&*one, until), roll_forward(&*two, until));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a + b, 40, "each hour folded by one of them: {a} + {b}");
        assert!(store.query("SELECT COUNT(*) FROM rollup_verdicts")[0] != "0");
        answers_as_raw(&*one, &stored, "after two roll forwards at once").await;
        one.close().await;
        two.close().await;
    });
}

#[test]
fn the_rollup_command_folds_what_is_stored() {
    let dir = TempDir::new("rollup-command");
    let store = Store::sqlite(dir.path());
    let stored = received_in(0..3, 0);
    runtime().block_on(async {
        let storage = open(&store).await;
        for r in &stored {
            storage.insert(r.clone()).await.unwrap();
        }
        storage.close().await;
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(["rollup", "--database", &store.url()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("(3 received hours folded in"), "{said}");
    let reports: i64 = store.query("SELECT SUM(reports) FROM rollup_verdicts")[0]
        .parse()
        .unwrap();
    assert_eq!(reports, 3 * 30 * PLATFORMS.len() as i64);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(["rollup", "--database", "mysql://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must start with sqlite:// or postgres://")
    );
}
