//! `netreach-collector campaign`: the operator's command over the campaigns folder. Every
//! file is written whole to a temporary file in the folder and renamed into place, so a
//! collector reading the folder meanwhile sees the old file or the new one, never a part.

use super::citizenlab;
use super::{archived_name, valid_id, Descriptor};
use crate::cli::{CampaignAction, CampaignArgs};
use crate::time;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs one action, printing what it did.
///
/// # Errors
/// A message naming the file and what is wrong (invalid campaign, unknown id, a file in the
/// way, the folder not writable).
pub fn run(args: CampaignArgs) -> Result<(), String> {
    let folder = Folder {
        dir: args.campaigns,
    };
    let now = time::now();
    match args.action {
        CampaignAction::Validate { file } => {
            let descriptor = read_new(&file)?;
            println!("{}: {}", file.display(), summary(&descriptor, now));
            Ok(())
        }
        CampaignAction::Add { file } => folder.add(read_new(&file)?, now),
        CampaignAction::Revise { file } => folder.revise(read_new(&file)?, now),
        CampaignAction::Expire { id, at } => folder.expire(&id, at.unwrap_or(now), now),
        CampaignAction::List => folder.list(now),
        CampaignAction::ImportCitizenlab {
            file,
            id,
            categories,
        } => {
            let controls = folder.current("default")?.campaign.controls;
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let imported = citizenlab::import(&text, &id, controls, &categories);
            for skipped in &imported.skipped {
                eprintln!("{}:{skipped}", file.display());
            }
            let descriptor = imported
                .descriptor
                .map_err(|e| format!("{}: {e}", file.display()))?;
            println!("{}", to_json(&descriptor)?.trim_end());
            eprintln!(
                "{} websites from {} ({} rows skipped); each is probed at https://HOST/favicon.ico, a guess: \
                 check them with `cargo xtask catalog check FILE`, add a second endpoint (a logo) where you can, then `campaign add FILE`",
                descriptor.campaign.platforms.len(),
                file.display(),
                imported.skipped.len(),
            );
            Ok(())
        }
    }
}

/// A campaign file given to the command, checked as a new or revised campaign must be.
fn read_new(file: &Path) -> Result<Descriptor, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let descriptor = Descriptor::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    descriptor
        .validate_new()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(descriptor)
}

fn summary(d: &Descriptor, now: i64) -> String {
    let endpoints: usize = d.campaign.platforms.iter().map(|p| p.endpoints.len()).sum();
    format!(
        "campaign {:?} revision {}: valid, {} platforms, {endpoints} endpoints, {} controls, {} trials; {}",
        d.campaign.id,
        d.revision(),
        d.campaign.platforms.len(),
        d.campaign.controls.len(),
        d.campaign.trials,
        state(d, now),
    )
}

fn state(d: &Descriptor, now: i64) -> String {
    match d.expires_at() {
        Some(at) if at <= now => format!("ended at {}", time::format_utc(at)),
        Some(at) => format!("active until {}", time::format_utc(at)),
        None => "active".into(),
    }
}

fn to_json(d: &Descriptor) -> Result<String, String> {
    serde_json::to_string_pretty(d)
        .map(|text| text + "\n")
        .map_err(|e| format!("cannot encode the campaign: {e}"))
}

/// An id that can name a file of the folder (the engine accepts any short name).
fn file_id(id: &str) -> Result<(), String> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(format!(
            "id {id:?}: a campaign id is letters, digits, - and _ (at most 64): it names the file and the link"
        ))
    }
}

/// The campaigns folder, as the command changes it.
struct Folder {
    dir: PathBuf,
}

impl Folder {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The current file of campaign `id`, parsed and validated as the server does.
    fn current(&self, id: &str) -> Result<Descriptor, String> {
        file_id(id)?;
        let path = self.path(&format!("{id}.json"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "no campaign {id:?} in {} (no {})",
                    self.dir.display(),
                    path.display()
                ))
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let descriptor =
            Descriptor::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        descriptor
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(descriptor)
    }

    fn add(&self, mut new: Descriptor, now: i64) -> Result<(), String> {
        let id = new.campaign.id.clone();
        file_id(&id)?;
        let target = self.path(&format!("{id}.json"));
        if target.exists() {
            return Err(format!(
                "campaign {id:?} exists ({}): use `campaign revise` to change it",
                target.display()
            ));
        }
        if new.revision() != 1 {
            return Err(format!(
                "revision {}: a new campaign starts at revision 1",
                new.revision()
            ));
        }
        if new.expired(now) {
            return Err(format!(
                "campaign {id:?} would be added already ended ({})",
                state(&new, now)
            ));
        }
        new.about
            .date_created
            .get_or_insert_with(|| time::format_utc(now));
        new.validate_new().map_err(|e| e.to_string())?;
        self.write(&format!("{id}.json"), &new)?;
        println!("added {}: {}", target.display(), summary(&new, now));
        Ok(())
    }

    fn revise(&self, mut new: Descriptor, now: i64) -> Result<(), String> {
        let id = new.campaign.id.clone();
        let current = self.current(&id)?;
        let measured_changed = current.campaign != new.campaign;
        new.about.revision = current.revision() + u32::from(measured_changed);
        new.about.date_created = current.about.date_created.clone();
        new.about.date_updated = Some(time::format_utc(now));
        new.validate_new().map_err(|e| e.to_string())?;
        if measured_changed {
            let archive = archived_name(&id, current.revision());
            if self.path(&archive).exists() {
                return Err(format!(
                    "{} exists already: revision {} of {id:?} was archived before; the folder needs a look",
                    self.path(&archive).display(),
                    current.revision()
                ));
            }
            self.write(&archive, &current)?;
            println!(
                "kept revision {} as {}",
                current.revision(),
                self.path(&archive).display()
            );
        }
        self.write(&format!("{id}.json"), &new)?;
        let what = if measured_changed {
            "what is measured changed"
        } else {
            "only the descriptor changed, the revision stays"
        };
        println!("revised {id:?} ({what}): {}", summary(&new, now));
        Ok(())
    }

    fn expire(&self, id: &str, at: i64, now: i64) -> Result<(), String> {
        let mut descriptor = self.current(id)?;
        descriptor.about.expiration_date = Some(time::format_utc(at));
        descriptor.about.date_updated = Some(time::format_utc(now));
        descriptor.validate().map_err(|e| e.to_string())?;
        self.write(&format!("{id}.json"), &descriptor)?;
        println!("campaign {id:?}: {}", state(&descriptor, now));
        Ok(())
    }

    fn list(&self, now: i64) -> Result<(), String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        println!(
            "{:<24} {:>8}  {:<36} {:>9}  name",
            "id", "revision", "state", "platforms"
        );
        for name in &names {
            let Some(id) = name.strip_suffix(".json").filter(|id| valid_id(id)) else {
                continue;
            };
            match self.current(id) {
                Ok(d) => {
                    let kept = (1..d.revision())
                        .filter(|r| names.contains(&archived_name(id, *r)))
                        .count();
                    let name = d.about.name.as_deref().unwrap_or("");
                    let kept = if kept > 0 {
                        format!(" ({kept} earlier revisions kept)")
                    } else {
                        String::new()
                    };
                    println!(
                        "{id:<24} {:>8}  {:<36} {:>9}  {name}{kept}",
                        d.revision(),
                        state(&d, now),
                        d.campaign.platforms.len(),
                    );
                }
                Err(e) => println!("{id:<24} {:>8}  invalid: {e}", "-"),
            }
        }
        Ok(())
    }

    /// Writes `name` in the folder through a temporary file renamed into place.
    fn write(&self, name: &str, descriptor: &Descriptor) -> Result<(), String> {
        let target = self.path(name);
        let temporary = self.path(&format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(
                to_json(descriptor)
                    .map_err(std::io::Error::other)?
                    .as_bytes(),
            )?;
            file.sync_all()?;
            std::fs::rename(&temporary, &target)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write {}: {e}", target.display())
        })
    }
}
