//! The campaigns folder: `GET /v1/campaigns` lists the active ones, `GET /v1/campaigns/{id}`
//! serves `{id}.json` from it, and a report is accepted only for a campaign found there (so
//! aggregates count only measurements of known endpoints, and free-form ids or URLs cannot
//! smuggle identifiers into storage).
//!
//! - [`descriptor`]: a campaign file, the engine's campaign plus what people see of it.
//! - [`admin`]: the operator's `netreach-collector campaign` command (validate, add, revise,
//!   expire, list), which writes this folder; a revised campaign's earlier revisions stay in
//!   it as `{id}.r{revision}.json`, so reports of an earlier revision are still checked.
//! - [`citizenlab`]: campaign entries from a Citizen Lab test-list CSV.

pub mod admin;
pub mod citizenlab;
pub mod descriptor;

pub use descriptor::Descriptor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Longest campaign id accepted in a path or a report.
pub const MAX_ID_LEN: usize = 64;
/// How long a loaded campaign is trusted before its file is read again.
const FRESH_FOR: Duration = Duration::from_secs(10);

/// Why a campaign cannot be served.
#[derive(Debug)]
pub enum CampaignLookupError {
    /// The id has characters other than ASCII letters, digits, `-` and `_` (or is too long).
    BadId,
    /// No `{id}.json` in the folder.
    NotFound { id: String },
    /// The file exists but is not a valid campaign: a deployment mistake, reported as such.
    Invalid { id: String, problem: String },
    /// Its `expiration_date` has passed: not run, and its reports refused (410).
    Ended { id: String, at: String },
}

/// Whether `id` is safe to use as a file name: no path separators, dots or other surprises.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a visitor or sender is told of a campaign that has ended.
pub fn ended_message(id: &str, at: &str) -> String {
    format!(
        "campaign {id:?} ended at {at}: it is no longer run and its reports are no longer accepted"
    )
}

/// The file name of revision `revision` of campaign `id` once a later one replaced it.
pub fn archived_name(id: &str, revision: u32) -> String {
    format!("{id}.r{revision}.json")
}

/// Campaign files, read on demand and kept for a few seconds.
pub struct Campaigns {
    dir: PathBuf,
    /// By file stem: `{id}` for the current revision, `{id}.r{n}` for archived ones.
    cache: RwLock<HashMap<String, (Instant, Arc<Descriptor>)>>,
}

impl Campaigns {
    /// Campaigns from `dir` (`{id}.json` files).
    pub fn new(dir: PathBuf) -> Self {
        Campaigns {
            dir,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current revision of the campaign with this id, validated with
    /// [`Descriptor::validate`], whether or not it has ended.
    ///
    /// # Errors
    /// [`CampaignLookupError`]: a bad id, a missing file, or a file that is not a valid campaign.
    pub fn get(&self, id: &str) -> Result<Arc<Descriptor>, CampaignLookupError> {
        if !valid_id(id) {
            return Err(CampaignLookupError::BadId);
        }
        self.read(id, id)
    }

    /// [`Campaigns::get`], refused once the campaign has ended at `now` (Unix seconds).
    ///
    /// # Errors
    /// As `get`, or [`CampaignLookupError::Ended`].
    pub fn active(&self, id: &str, now: i64) -> Result<Arc<Descriptor>, CampaignLookupError> {
        let descriptor = self.get(id)?;
        if descriptor.expired(now) {
            return Err(CampaignLookupError::Ended {
                id: id.to_owned(),
                at: descriptor.about.expiration_date.clone().unwrap_or_default(),
            });
        }
        Ok(descriptor)
    }

    /// An earlier revision of a campaign, kept as `{id}.r{revision}.json` when it was revised.
    ///
    /// # Errors
    /// As `get`, for that file.
    pub fn archived(
        &self,
        id: &str,
        revision: u32,
    ) -> Result<Arc<Descriptor>, CampaignLookupError> {
        if !valid_id(id) {
            return Err(CampaignLookupError::BadId);
        }
        let found = self.read(id, &format!("{id}.r{revision}"))?;
        if found.revision() != revision {
            return Err(CampaignLookupError::Invalid {
                id: id.to_owned(),
                problem: format!(
                    "{}: its revision is {}",
                    archived_name(id, revision),
                    found.revision()
                ),
            });
        }
        Ok(found)
    }

    /// The campaigns not ended at `now`, by id; files that are not valid campaigns are logged
    /// and left out (one bad file must not hide the others).
    ///
    /// # Errors
    /// The folder cannot be read.
    pub fn list_active(&self, now: i64) -> std::io::Result<Vec<Arc<Descriptor>>> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?;
                valid_id(id).then(|| id.to_owned())
            })
            .collect();
        ids.sort();
        Ok(ids
            .iter()
            .filter_map(|id| match self.get(id) {
                Ok(descriptor) => (!descriptor.expired(now)).then_some(descriptor),
                Err(CampaignLookupError::Invalid { problem, .. }) => {
                    eprintln!("netreach-collector: campaign file is invalid: {problem}");
                    None
                }
                Err(_) => None,
            })
            .collect())
    }

    /// `{stem}.json`, parsed, validated and checked to be campaign `id`, through the cache.
    fn read(&self, id: &str, stem: &str) -> Result<Arc<Descriptor>, CampaignLookupError> {
        if let Some((at, found)) = self.cache.read().ok().and_then(|c| c.get(stem).cloned()) {
            if at.elapsed() < FRESH_FOR {
                return Ok(found);
            }
        }
        let path = self.dir.join(format!("{stem}.json"));
        let invalid = |e: &dyn std::fmt::Display| CampaignLookupError::Invalid {
            id: id.to_owned(),
            problem: format!("{}: {e}", path.display()),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CampaignLookupError::NotFound { id: id.to_owned() })
            }
            Err(e) => return Err(invalid(&e)),
        };
        let descriptor = Descriptor::parse(&text).map_err(|e| invalid(&e))?;
        descriptor.validate().map_err(|e| invalid(&e))?;
        if descriptor.campaign.id != id {
            return Err(invalid(&format!(
                "its id is {:?}, not {id:?}",
                descriptor.campaign.id
            )));
        }
        let descriptor = Arc::new(descriptor);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(stem.to_owned(), (Instant::now(), descriptor.clone()));
        }
        Ok(descriptor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_leave_the_folder_are_refused() {
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "a/b",
            "a.json",
            "a\\b",
            "%2e%2e",
            "a b",
        ] {
            assert!(!valid_id(bad), "{bad:?} accepted");
        }
        assert!(valid_id("default"));
        assert!(valid_id("lab-2_x"));
        assert!(!valid_id(&"a".repeat(MAX_ID_LEN + 1)));
    }
}
