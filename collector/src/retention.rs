//! `--retain-days`: raw reports are deleted once they are older than the retention, by the
//! hour they arrived; at start, then every hour. Only reports already in the hourly rollups
//! go (see `storage::rollup`), and the rollups keep counting them: aggregates over an older
//! range are unchanged, `catalog` and `export` find fewer (or no) reports.

use crate::storage::Storage;
use crate::time::{self, DAY, HOUR};
use std::sync::Arc;
use std::time::Duration;

/// The first hour still kept: reports received before it are deleted.
pub fn cutoff(now: i64, retain_days: u32) -> i64 {
    time::floor_hour(now) - i64::from(retain_days) * DAY
}

/// Deletes expired reports now and then every hour, for as long as the collector runs;
/// returns at once when `retain_days` is 0 (keep forever). A failure is logged and tried
/// again at the next hour.
pub async fn run(storage: Arc<dyn Storage>, retain_days: u32) {
    if retain_days == 0 {
        return;
    }
    let mut every_hour = tokio::time::interval(Duration::from_secs(HOUR as u64));
    loop {
        every_hour.tick().await;
        let cutoff = cutoff(time::now(), retain_days);
        match storage.delete_received_before(cutoff).await {
            Ok(0) => {}
            Ok(deleted) => eprintln!(
                "netreach-collector: retention: {deleted} reports received before {} deleted",
                time::format_utc(cutoff)
            ),
            Err(e) => {
                eprintln!("netreach-collector: retention: deleting expired reports failed: {e}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_this_hour_retain_days_ago() {
        // 59:59 into the hour that starts at 1_795_003_200.
        assert_eq!(cutoff(1_795_003_599, 90), 1_795_003_200 - 90 * DAY);
        assert_eq!(cutoff(1_795_003_200, 1), 1_795_003_200 - DAY);
    }
}
