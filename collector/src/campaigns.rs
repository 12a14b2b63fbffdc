//! The campaigns folder: `GET /v1/campaigns/{id}` serves `{id}.json` from it, and a report is
//! accepted only for a campaign found there (so aggregates count only measurements of known
//! endpoints, and free-form ids or URLs cannot smuggle identifiers into storage).

use netreach::Campaign;
use std::collections::HashMap;
use std::path::PathBuf;
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
}

/// Whether `id` is safe to use as a file name: no path separators, dots or other surprises.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Campaign files, read on demand and kept for a few seconds.
pub struct Campaigns {
    dir: PathBuf,
    cache: RwLock<HashMap<String, (Instant, Arc<Campaign>)>>,
}

impl Campaigns {
    /// Campaigns from `dir` (`{id}.json` files).
    pub fn new(dir: PathBuf) -> Self {
        Campaigns {
            dir,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The campaign with this id, validated with [`Campaign::validate`].
    ///
    /// # Errors
    /// [`CampaignLookupError`]: a bad id, a missing file, or a file that is not a valid campaign.
    pub fn get(&self, id: &str) -> Result<Arc<Campaign>, CampaignLookupError> {
        if !valid_id(id) {
            return Err(CampaignLookupError::BadId);
        }
        if let Some((at, campaign)) = self.cache.read().ok().and_then(|c| c.get(id).cloned()) {
            if at.elapsed() < FRESH_FOR {
                return Ok(campaign);
            }
        }
        let path = self.dir.join(format!("{id}.json"));
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
        let campaign: Campaign = serde_json::from_str(&text).map_err(|e| invalid(&e))?;
        campaign.validate_served().map_err(|e| invalid(&e))?;
        if campaign.id != id {
            return Err(invalid(&format!("its id is {:?}, not {id:?}", campaign.id)));
        }
        let campaign = Arc::new(campaign);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(id.to_owned(), (Instant::now(), campaign.clone()));
        }
        Ok(campaign)
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
