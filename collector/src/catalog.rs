//! `netreach-collector catalog`: which endpoints of the campaigns' catalogs have rotted.
//!
//! The engine reports an attempt whose host answered but whose object is not usable (gone,
//! not an image, refused by ORB or CORP) as `unusable`. Read back from the stored reports, per
//! campaign and endpoint, a report in which every attempt was unusable points at an entry to
//! fix: endpoints with the most such reports come first, then those with the most unusable
//! attempts. Read only; no network.

use crate::cli::CatalogArgs;
use crate::storage::{self, ReportQuery, StoredReports};
use crate::time::{self, DAY};
use netreach::{EndpointResult, Outcome, ProbeKind, Report};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::cmp::Reverse;
use std::collections::HashMap;
use std::io::Write;

/// Days read when `--from` is not given, `--to` included.
const DEFAULT_DAYS: i64 = 30;

/// Where an endpoint sits in its campaign.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Control,
    /// An endpoint of the platform with this id.
    Platform(String),
}

/// What the stored reports say about one endpoint of one campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointHealth {
    pub campaign: String,
    pub role: Role,
    pub url: String,
    pub kind: ProbeKind,
    /// Reports that measured it.
    pub reports: u64,
    /// Its attempts by outcome, in the order of [`Outcome::ALL`].
    pub attempts: [u64; Outcome::ALL.len()],
    /// Reports in which every attempt was `unusable`.
    pub all_unusable: u64,
}

impl EndpointHealth {
    /// Attempts that ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        outcome_index(outcome).map_or(0, |i| self.attempts[i])
    }

    /// Most suspicious first: most reports unusable in every attempt, then most unusable
    /// attempts; ties in campaign, role (controls first) and URL order.
    fn suspicion_order(&self) -> impl Ord + '_ {
        (
            Reverse(self.all_unusable),
            Reverse(self.count(Outcome::Unusable)),
            (&self.campaign, &self.role, &self.url, self.kind.as_str()),
        )
    }
}

fn outcome_index(outcome: Outcome) -> Option<usize> {
    Outcome::ALL.iter().position(|o| *o == outcome)
}

/// One JSON line: campaign, platform (`null` for a control), url, kind, reports, one count per
/// outcome, all_unusable.
impl Serialize for EndpointHealth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6 + Outcome::ALL.len()))?;
        map.serialize_entry("campaign", &self.campaign)?;
        let platform = match &self.role {
            Role::Control => None,
            Role::Platform(id) => Some(id),
        };
        map.serialize_entry("platform", &platform)?;
        map.serialize_entry("url", &self.url)?;
        map.serialize_entry("kind", self.kind.as_str())?;
        map.serialize_entry("reports", &self.reports)?;
        for (outcome, count) in Outcome::ALL.iter().zip(self.attempts) {
            map.serialize_entry(outcome.as_str(), &count)?;
        }
        map.serialize_entry("all_unusable", &self.all_unusable)?;
        map.end()
    }
}

/// The endpoints of the reports read so far. Its size is bounded by the campaigns' endpoints
/// (stored reports name only those), not by the number of reports.
#[derive(Debug, Default)]
pub struct Catalog {
    endpoints: HashMap<(String, Role, String, ProbeKind), EndpointHealth>,
    /// Reports added.
    pub reports: u64,
}

impl Catalog {
    /// Counts the attempts of every control and platform endpoint of `report`.
    pub fn add(&mut self, report: &Report) {
        self.reports += 1;
        for control in &report.controls {
            self.add_endpoint(&report.campaign, Role::Control, control);
        }
        for platform in &report.platforms {
            for endpoint in &platform.endpoints {
                self.add_endpoint(
                    &report.campaign,
                    Role::Platform(platform.id.clone()),
                    endpoint,
                );
            }
        }
    }

    fn add_endpoint(&mut self, campaign: &str, role: Role, result: &EndpointResult) {
        let key = (campaign.to_owned(), role, result.url.clone(), result.kind);
        let health = self
            .endpoints
            .entry(key)
            .or_insert_with_key(|(campaign, role, url, kind)| EndpointHealth {
                campaign: campaign.clone(),
                role: role.clone(),
                url: url.clone(),
                kind: *kind,
                reports: 0,
                attempts: [0; Outcome::ALL.len()],
                all_unusable: 0,
            });
        health.reports += 1;
        for attempt in &result.attempts {
            if let Some(i) = outcome_index(attempt.outcome) {
                health.attempts[i] += 1;
            }
        }
        let unusable = |a: &netreach::Attempt| a.outcome == Outcome::Unusable;
        if !result.attempts.is_empty() && result.attempts.iter().all(unusable) {
            health.all_unusable += 1;
        }
    }

    /// Every endpoint, the most suspicious first.
    pub fn into_rows(self) -> Vec<EndpointHealth> {
        let mut rows: Vec<EndpointHealth> = self.endpoints.into_values().collect();
        rows.sort_by(|a, b| a.suspicion_order().cmp(&b.suspicion_order()));
        rows
    }
}

/// The range of `started_at` to read, from the command's days (both included).
fn range(args: &CatalogArgs, now: i64) -> Result<(i64, i64), String> {
    let to = args.to.unwrap_or(now.div_euclid(DAY) * DAY);
    let from = args.from.unwrap_or(to - (DEFAULT_DAYS - 1) * DAY);
    if from > to {
        return Err(format!("--from {} is after --to {}", day(from), day(to)));
    }
    Ok((from, to + DAY))
}

/// `YYYY-MM-DD` of a Unix time.
fn day(secs: i64) -> String {
    let mut s = time::format_utc(secs);
    s.truncate(10);
    s
}

/// The plain-text table: counts right-aligned, the URL last.
fn write_table(out: &mut impl Write, rows: &[EndpointHealth]) -> std::io::Result<()> {
    let mut header = vec!["all_unusable", "reports"];
    header.extend(Outcome::ALL.iter().map(|o| o.as_str()));
    let numbers = header.len();
    header.extend(["campaign", "platform", "kind", "url"]);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.all_unusable.to_string(), row.reports.to_string()];
            cells.extend(row.attempts.iter().map(u64::to_string));
            cells.push(row.campaign.clone());
            cells.push(match &row.role {
                Role::Control => "(control)".into(),
                Role::Platform(id) => id.clone(),
            });
            cells.push(row.kind.as_str().into());
            cells.push(row.url.clone());
            cells
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for line in std::iter::once(&header).chain(&cells) {
        let mut text = String::new();
        for (i, (cell, width)) in line.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            if i < numbers {
                text.push_str(&format!("{cell:>width$}"));
            } else if i + 1 < line.len() {
                text.push_str(&format!("{cell:<width$}"));
            } else {
                text.push_str(cell);
            }
        }
        writeln!(out, "{text}")?;
    }
    Ok(())
}

fn write_json_lines(out: &mut impl Write, rows: &[EndpointHealth]) -> std::io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, row)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Runs `netreach-collector catalog`: prints the table (or JSON lines) on stdout and a
/// one-line summary on stderr.
///
/// # Errors
/// Days out of order, a database that cannot be opened or read, a stored report that cannot
/// be parsed, or stdout closed with an error other than a broken pipe.
pub async fn run(args: CatalogArgs) -> Result<(), String> {
    let (from, to) = range(&args, time::now())?;
    let storage = storage::open_to_read(&args.database, args.db_ca.as_deref())
        .await
        .map_err(|e| format!("database: {e}"))?;
    let query = ReportQuery {
        campaign: args.campaign.clone(),
        from,
        to,
    };
    let mut catalog = Catalog::default();
    let mut stored = StoredReports::new(&*storage, query);
    while let Some(report) = stored.next().await.map_err(|e| format!("database: {e}"))? {
        let parsed: Report = serde_json::from_str(&report.json)
            .map_err(|e| format!("database: stored report {} cannot be read: {e}", report.id))?;
        catalog.add(&parsed);
    }
    storage.close().await;
    let reports = catalog.reports;
    let rows = catalog.into_rows();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if args.json {
        write_json_lines(&mut out, &rows)
    } else {
        write_table(&mut out, &rows)
    }
    .and_then(|()| out.flush());
    match written {
        // `| head` closing the pipe is not a failure of the command.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("stdout: {e}")),
        _ => {}
    }
    let of = match &args.campaign {
        Some(id) => format!(" of campaign {id}"),
        None => String::new(),
    };
    eprintln!(
        "netreach-collector: {reports} reports{of} from {} to {} (both included), {} endpoints",
        day(from),
        day(to - DAY),
        rows.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netreach::{Attempt, Client, PlatformResult, Reason, Verdict};

    fn endpoint(url: &str, outcomes: &[Outcome]) -> EndpointResult {
        EndpointResult {
            url: url.into(),
            kind: ProbeKind::Image,
            attempts: outcomes
                .iter()
                .map(|&outcome| Attempt {
                    outcome,
                    ms: 30,
                    duration_ms: None,
                    bytes: None,
                    hidden: false,
                })
                .collect(),
        }
    }

    fn report(endpoints: Vec<EndpointResult>) -> Report {
        Report {
            schema: netreach::SCHEMA.into(),
            campaign: "c".into(),
            campaign_revision: None,
            started_at: "2026-11-22T21:00:00.000Z".into(),
            runtime_ms: 1,
            client: Client {
                browser: netreach::Browser::Chrome,
                version: 1,
                os: netreach::Os::Linux,
            },
            conditions: vec![],
            controls: vec![endpoint("https://control/", &[Outcome::Ok])],
            platforms: vec![PlatformResult {
                id: "p".into(),
                verdict: Verdict::Reachable,
                reason: Reason::EndpointsLoaded,
                median_ms: None,
                kbps: None,
                endpoints,
            }],
        }
    }

    #[test]
    fn rotten_endpoints_come_first_with_their_counts() {
        use Outcome::{Error, Ok, Unusable};
        let mut catalog = Catalog::default();
        catalog.add(&report(vec![
            endpoint("https://some/", &[Unusable, Ok, Unusable]),
            endpoint("https://rotten/", &[Unusable, Unusable]),
        ]));
        catalog.add(&report(vec![
            endpoint("https://some/", &[Unusable, Unusable, Unusable]),
            endpoint("https://rotten/", &[Unusable, Error]),
        ]));
        catalog.add(&report(vec![endpoint("https://rotten/", &[])]));
        assert_eq!(catalog.reports, 3);
        let rows = catalog.into_rows();
        let summary: Vec<_> = rows
            .iter()
            .map(|r| (r.url.as_str(), r.reports, r.attempts, r.all_unusable))
            .collect();
        // Same number of fully unusable reports: more unusable attempts first. A report
        // without attempts is not "unusable in every attempt".
        assert_eq!(
            summary,
            [
                ("https://some/", 2, [1, 0, 0, 5], 1),
                ("https://rotten/", 3, [0, 0, 1, 3], 1),
                ("https://control/", 3, [3, 0, 0, 0], 0),
            ]
        );
        assert_eq!(rows[2].role, Role::Control);
    }

    #[test]
    fn days_are_both_included_and_must_be_in_order() {
        let args = |from: Option<&str>, to: Option<&str>| CatalogArgs {
            db_ca: None,
            database: String::new(),
            campaign: None,
            from: from.and_then(time::parse_date),
            to: to.and_then(time::parse_date),
            json: false,
        };
        let now = time::parse_utc("2026-11-22T21:30:00Z").unwrap();
        let (from, to) = range(&args(None, None), now).unwrap();
        assert_eq!(
            (day(from), day(to)),
            ("2026-10-24".into(), "2026-11-23".into())
        );
        let (from, to) = range(&args(Some("2026-11-01"), Some("2026-11-01")), now).unwrap();
        assert_eq!(to - from, DAY);
        assert_eq!(
            range(&args(Some("2026-11-02"), Some("2026-11-01")), now),
            Err("--from 2026-11-02 is after --to 2026-11-01".into())
        );
    }
}
