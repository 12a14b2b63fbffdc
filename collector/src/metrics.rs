//! Counters and histograms for `GET /metrics`, in the Prometheus text format.
//!
//! Hand-written with atomics: a handful of series does not need a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Answers to `POST /v1/reports` are counted under these statuses.
const STATUSES: [u16; 11] = [201, 400, 403, 404, 413, 415, 422, 429, 500, 503, 0];
/// Upper bounds (seconds) of the write latency histogram.
const LATENCY_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Upper bounds of the reports-per-write histogram.
const BATCH_BOUNDS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

struct Histogram<const N: usize> {
    bounds: [f64; N],
    buckets: [AtomicU64; N],
    count: AtomicU64,
    /// Sum in millionths, so it fits an atomic integer.
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6).round() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The collector's metrics.
pub struct Metrics {
    reports: [AtomicU64; STATUSES.len()],
    write_seconds: Histogram<12>,
    write_batch: Histogram<8>,
    stored: AtomicU64,
    aggregate_requests: AtomicU64,
    queued: AtomicU64,
    senders_uncounted: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            reports: std::array::from_fn(|_| AtomicU64::new(0)),
            write_seconds: Histogram::new(LATENCY_BOUNDS),
            write_batch: Histogram::new(BATCH_BOUNDS),
            stored: AtomicU64::new(0),
            aggregate_requests: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            senders_uncounted: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answer to `POST /v1/reports`.
    pub fn report_answered(&self, status: u16) {
        let i = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        self.reports[i].fetch_add(1, Relaxed);
    }

    /// Records one durable write (a SQLite batch, a PostgreSQL transaction).
    pub fn write_committed(&self, took: Duration, reports: usize) {
        self.write_seconds.observe(took.as_secs_f64());
        self.write_batch.observe(reports as f64);
        self.stored.fetch_add(reports as u64, Relaxed);
    }

    /// Counts one aggregates request.
    pub fn aggregate_requested(&self) {
        self.aggregate_requests.fetch_add(1, Relaxed);
    }

    /// Counts one report whose sender could not be counted: the hour's set was full.
    pub fn sender_uncounted(&self) {
        self.senders_uncounted.fetch_add(1, Relaxed);
    }

    /// Reports waiting for the writer (SQLite) or for a connection (PostgreSQL).
    pub fn queue(&self, delta: i64) {
        if delta >= 0 {
            self.queued.fetch_add(delta as u64, Relaxed);
        } else {
            self.queued.fetch_sub(delta.unsigned_abs(), Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, storage: &str, rate_limited_clients: usize, senders: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP netreach_reports_total Answers to POST /v1/reports, by status (201 = stored).\n");
        out.push_str("# TYPE netreach_reports_total counter\n");
        for (status, count) in STATUSES.iter().zip(&self.reports) {
            let label = if *status == 0 {
                "other".to_owned()
            } else {
                status.to_string()
            };
            let _ = writeln!(
                out,
                "netreach_reports_total{{status=\"{label}\"}} {}",
                count.load(Relaxed)
            );
        }
        self.write_seconds.render(
            &mut out,
            "netreach_write_seconds",
            "Time to make one write durable (a SQLite batch commit or a PostgreSQL transaction).",
        );
        self.write_batch.render(
            &mut out,
            "netreach_write_batch_reports",
            "Reports per durable write.",
        );
        let _ = writeln!(
            out,
            "# HELP netreach_reports_stored_total Reports written durably since start.\n\
             # TYPE netreach_reports_stored_total counter\n\
             netreach_reports_stored_total{{storage=\"{storage}\"}} {}",
            self.stored.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP netreach_write_queue Reports waiting to be written.\n\
             # TYPE netreach_write_queue gauge\nnetreach_write_queue {}",
            self.queued.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP netreach_aggregate_requests_total Requests to GET /v1/aggregates.\n\
             # TYPE netreach_aggregate_requests_total counter\nnetreach_aggregate_requests_total {}",
            self.aggregate_requests.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP netreach_rate_limited_clients Clients with a rate-limit bucket (keyed hashes, rotated hourly).\n\
             # TYPE netreach_rate_limited_clients gauge\nnetreach_rate_limited_clients {rate_limited_clients}"
        );
        let _ = writeln!(
            out,
            "# HELP netreach_senders Senders counted this hour for k (keyed hashes, emptied hourly).\n\
             # TYPE netreach_senders gauge\nnetreach_senders {senders}\n\
             # HELP netreach_senders_uncounted_total Reports stored without counting their sender: the hour's set of senders (--max-senders) was full.\n\
             # TYPE netreach_senders_uncounted_total counter\nnetreach_senders_uncounted_total {}",
            self.senders_uncounted.load(Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_statuses_are_counted() {
        let m = Metrics::default();
        m.write_committed(Duration::from_millis(3), 5);
        m.write_committed(Duration::from_millis(30), 1);
        m.report_answered(201);
        m.report_answered(422);
        m.report_answered(422);
        let text = m.render("sqlite", 0, 0);
        assert!(text.contains("netreach_reports_total{status=\"422\"} 2"));
        assert!(text.contains("netreach_write_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("netreach_write_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("netreach_write_seconds_count 2"));
        assert!(text.contains("netreach_reports_stored_total{storage=\"sqlite\"} 6"));
    }
}
