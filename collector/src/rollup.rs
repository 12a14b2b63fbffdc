//! Moves the hourly rollups forward (see `storage::rollup`): every minute while serving, and
//! on demand with `netreach-collector rollup` (after a bulk load, or to time the first pass
//! over an existing database). While serving, the networks' baselines that intake judges
//! connections against ([`Baselines`]) are rebuilt from the rollups at start and after every
//! roll forward that folded something, here, off the request path.
//!
//! A received hour is folded in once it ended more than twice the storage timeout ago: an
//! insert stamped with that hour waited at most the timeout for a connection and ran at most
//! the timeout on the server, so it has committed or failed by then (SQLite's inserts go
//! through the writer ahead of the roll forward anyway).

use crate::cli::RollupArgs;
use crate::connection::Baselines;
use crate::storage::rollup::Fold;
use crate::storage::{self, Storage, StorageError, StorageOptions};
use crate::time;
use std::sync::Arc;
use std::time::Duration;

/// How often the server rolls forward.
const EVERY: Duration = Duration::from_secs(60);
/// The longest `rollup --at-once` may run.
const AT_ONCE_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// The bound a roll forward at `now` folds up to: the start of the hour in which `now` less
/// twice the storage `timeout` falls.
pub fn until(now: i64, timeout: Duration) -> i64 {
    let margin = (2 * timeout.as_millis()).div_ceil(1000) as i64;
    time::floor_hour(now - margin)
}

/// Folds in every received hour before `until` that the rollups do not hold yet, an hour per
/// transaction; returns how many hours held reports.
///
/// # Errors
/// A fold failed; the hours folded before it stay folded.
pub async fn roll_forward(storage: &dyn Storage, until: i64) -> Result<u64, StorageError> {
    let mut hours = 0;
    while storage.roll_hour(until, Fold::Hour).await?.is_some() {
        hours += 1;
    }
    Ok(hours)
}

/// Folds in everything received before `until` that the rollups do not hold, in one
/// transaction (see [`Fold::All`]); returns whether there was anything.
///
/// # Errors
/// The fold failed; nothing of it stays.
pub async fn roll_all(storage: &dyn Storage, until: i64) -> Result<bool, StorageError> {
    Ok(storage.roll_hour(until, Fold::All).await?.is_some())
}

/// Rolls forward now and then every minute, for as long as the collector runs, and rebuilds
/// `baselines` at the first pass and after each one that folded an hour (or after a failed
/// rebuild). A failure is logged and tried again a minute later.
pub async fn run(storage: Arc<dyn Storage>, timeout: Duration, baselines: Arc<Baselines>) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stale = true;
    loop {
        every.tick().await;
        let until = until(time::now(), timeout);
        let started = std::time::Instant::now();
        let folded = roll_forward(&*storage, until).await;
        match &folded {
            // One line for a catch-up (the first pass over a database, or after downtime).
            Ok(hours) if *hours > 1 => eprintln!(
                "netreach-collector: rollups: {hours} received hours folded in {:.1} s, up to {}",
                started.elapsed().as_secs_f64(),
                time::format_utc(until)
            ),
            Ok(_) => {}
            Err(e) => eprintln!("netreach-collector: rollups: rolling forward failed: {e}"),
        }
        // A failed pass may have folded hours before failing: rebuilt too.
        stale |= !matches!(folded, Ok(0));
        if stale {
            match baselines.rebuild(&*storage, time::now()).await {
                Ok(()) => stale = false,
                Err(e) => eprintln!("netreach-collector: baselines: rebuilding failed: {e}"),
            }
        }
    }
}

/// `netreach-collector rollup`: rolls the database's rollups forward now and says how far.
///
/// # Errors
/// The database cannot be opened, or a fold failed.
pub async fn command(args: RollupArgs) -> Result<(), String> {
    let timeout = Duration::from_millis(args.db_timeout_ms);
    let options = StorageOptions {
        db_ca: args.db_ca,
        pool_size: 1,
        write_queue: 1,
        // The one transaction of `--at-once` takes as long as the tables take to read; what
        // is folded still ends where the server's timeout says (`until` below).
        timeout: if args.at_once { AT_ONCE_LIMIT } else { timeout },
    };
    let storage = storage::open(&args.database, options, Arc::default())
        .await
        .map_err(|e| format!("database: {e}"))?;
    let until = until(time::now(), timeout);
    let started = std::time::Instant::now();
    let folded = if args.at_once {
        roll_all(&*storage, until).await.map(|any| {
            format!(
                "{} in one transaction",
                if any { "folded" } else { "nothing to fold" }
            )
        })
    } else {
        roll_forward(&*storage, until)
            .await
            .map(|hours| format!("{hours} received hours folded"))
    };
    storage.close().await;
    let folded = folded.map_err(|e| format!("rollups: {e}"))?;
    eprintln!(
        "netreach-collector: rollups hold every report received before {} ({folded} in {:.1} s)",
        time::format_utc(until),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HOUR;

    #[test]
    fn an_hour_is_folded_once_it_ended_twice_the_timeout_ago() {
        let hour = 1_795_003_200;
        let five = Duration::from_secs(5);
        // 10 s into the next hour: the previous hour's inserts are all done.
        assert_eq!(until(hour + HOUR + 10, five), hour + HOUR);
        // 9 s into it: one stamped at its last second may still be running.
        assert_eq!(until(hour + HOUR + 9, five), hour);
        // Rounded up to whole seconds: 1.4 s is 2.
        assert_eq!(until(hour + HOUR + 1, Duration::from_millis(700)), hour);
        assert_eq!(
            until(hour + HOUR + 2, Duration::from_millis(700)),
            hour + HOUR
        );
    }
}
