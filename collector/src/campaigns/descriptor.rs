//! A campaign file as the collector reads it: the engine's [`Campaign`] (what to probe) plus
//! the descriptor people see before they start it, with OONI Run v2's field names where they
//! fit (`name`, `short_description`, `description`, their `*_intl` translations, `author`,
//! `icon`, `color`, `revision`, `date_created`, `date_updated`, `expiration_date`).
//!
//! The engine ignores the descriptor fields (serde skips unknown fields), so they cost the Wasm
//! package nothing; the collector checks them here and serves them with the campaign.

use crate::time;
use netreach::Campaign;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Longest `short_description` (a card's subtitle), in bytes.
pub const MAX_SHORT_DESCRIPTION: usize = 280;
/// Longest `description`, in bytes.
pub const MAX_DESCRIPTION: usize = 4000;
/// Most translations of one text.
pub const MAX_TRANSLATIONS: usize = 64;

/// Texts by language code (`ur`, `pt-BR`).
pub type Translations = BTreeMap<String, String>;

/// A campaign file: the campaign the engine runs and what people see of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(flatten)]
    pub campaign: Campaign,
    #[serde(flatten)]
    pub about: About,
}

/// The descriptor's own fields: what `GET /v1/campaigns` lists and the page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct About {
    /// The display name; required of campaigns added with `netreach-collector campaign`,
    /// optional in older files (the id stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub name_intl: Translations,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub short_description_intl: Translations,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description_intl: Translations,
    /// Who runs the campaign (a name or an address the organisers publish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// An icon id (letters, digits, `-`, `_`), as OONI Run names icons of its set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// 1 for a new campaign; `campaign revise` adds one at each change of what is measured.
    #[serde(default = "first_revision")]
    pub revision: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    /// From this UTC time on the campaign is not run and its reports are refused (410).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
}

fn first_revision() -> u32 {
    1
}

/// No texts, revision 1: what a file without descriptor fields reads as.
impl Default for About {
    fn default() -> Self {
        About {
            name: None,
            name_intl: Translations::new(),
            short_description: None,
            short_description_intl: Translations::new(),
            description: None,
            description_intl: Translations::new(),
            author: None,
            icon: None,
            color: None,
            revision: first_revision(),
            date_created: None,
            date_updated: None,
            expiration_date: None,
        }
    }
}

/// A descriptor field that is not acceptable, named by its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptorError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid campaign: {}: {}", self.field, self.problem)
    }
}

impl std::error::Error for DescriptorError {}

fn problem(field: impl Into<String>, problem: impl Into<String>) -> DescriptorError {
    DescriptorError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Descriptor {
    /// Parses a campaign file's text.
    ///
    /// # Errors
    /// Not JSON, or a field of the wrong type (serde's message, with line and column).
    pub fn parse(text: &str) -> Result<Descriptor, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Everything a served campaign needs: the campaign as [`Campaign::validate_served`]
    /// checks it, then the descriptor's texts, translations, icon, colour and dates.
    ///
    /// # Errors
    /// The first field at fault.
    pub fn validate(&self) -> Result<(), DescriptorError> {
        self.campaign
            .validate_served()
            .map_err(|e| problem(e.field, e.problem))?;
        self.about.validate()
    }

    /// [`Descriptor::validate`], and what the operator's command asks of a campaign people
    /// start: a name to show them.
    ///
    /// # Errors
    /// As `validate`, or `name` missing.
    pub fn validate_new(&self) -> Result<(), DescriptorError> {
        if self.about.name.is_none() {
            return Err(problem(
                "name",
                "required: the name people see before they start the campaign",
            ));
        }
        self.validate()
    }

    /// When it stops being run (Unix seconds), if it does.
    pub fn expires_at(&self) -> Option<i64> {
        (self.about.expiration_date.as_deref()).and_then(time::parse_utc)
    }

    /// Whether it has ended at `now` (Unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at().is_some_and(|at| at <= now)
    }

    /// The revision of what is measured.
    pub fn revision(&self) -> u32 {
        self.about.revision
    }
}

impl About {
    fn validate(&self) -> Result<(), DescriptorError> {
        if let Some(name) = &self.name {
            text("name", name, netreach::campaign::MAX_NAME_LEN)?;
        }
        translations(
            "name_intl",
            &self.name_intl,
            netreach::campaign::MAX_NAME_LEN,
        )?;
        if let Some(short) = &self.short_description {
            text("short_description", short, MAX_SHORT_DESCRIPTION)?;
        }
        translations(
            "short_description_intl",
            &self.short_description_intl,
            MAX_SHORT_DESCRIPTION,
        )?;
        if let Some(description) = &self.description {
            text("description", description, MAX_DESCRIPTION)?;
        }
        translations("description_intl", &self.description_intl, MAX_DESCRIPTION)?;
        if let Some(author) = &self.author {
            text("author", author, netreach::campaign::MAX_NAME_LEN)?;
        }
        if let Some(icon) = &self.icon {
            let id = !icon.is_empty()
                && icon.len() <= 64
                && (icon.bytes()).all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id {
                return Err(problem(
                    "icon",
                    "must be an icon id: letters, digits, - and _ (at most 64)",
                ));
            }
        }
        if let Some(color) = &self.color {
            let hex = color.len() == 7
                && color.starts_with('#')
                && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !hex {
                return Err(problem("color", "must be #RRGGBB, like #0a5fb4"));
            }
        }
        if self.revision == 0 {
            return Err(problem("revision", "must be 1 or more"));
        }
        let created = date("date_created", self.date_created.as_deref())?;
        date("date_updated", self.date_updated.as_deref())?;
        let expires = date("expiration_date", self.expiration_date.as_deref())?;
        if let (Some(created), Some(expires)) = (created, expires) {
            if expires < created {
                return Err(problem(
                    "expiration_date",
                    "must not be before date_created",
                ));
            }
        }
        Ok(())
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<(), DescriptorError> {
    if value.trim().is_empty() {
        return Err(problem(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(problem(field, format!("too long (at most {max} bytes)")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(problem(field, "must not contain control characters"));
    }
    Ok(())
}

fn translations(field: &str, map: &Translations, max: usize) -> Result<(), DescriptorError> {
    if map.len() > MAX_TRANSLATIONS {
        return Err(problem(
            field,
            format!("too many translations (at most {MAX_TRANSLATIONS})"),
        ));
    }
    for (language, value) in map {
        let at = format!("{field}.{language}");
        if !language_code(language) {
            return Err(problem(
                at,
                "keys must be language codes like ur, fa or pt-BR",
            ));
        }
        text(&at, value, max)?;
    }
    Ok(())
}

/// A BCP 47 tag as far as a page picks a translation by it: a 2–3 letter language, then
/// optional subtags of 2–8 letters or digits.
fn language_code(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or("");
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn date(field: &str, value: Option<&str>) -> Result<Option<i64>, DescriptorError> {
    value
        .map(|s| {
            time::parse_utc(s).ok_or_else(|| {
                problem(
                    field,
                    "must be a UTC date or date-time like 2026-12-31 or 2026-12-31T23:00:00Z",
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"{"id":"pk","name":"Pakistan","trials":3,
        "controls":[{"url":"https://www.apple.com/favicon.ico","kind":"image"}],
        "platforms":[{"id":"x","name":"X","endpoints":[{"url":"https://x.com/favicon.ico","kind":"fetch"}]}]}"#;

    fn with(field: &str, value: serde_json::Value) -> Descriptor {
        let mut json: serde_json::Value = serde_json::from_str(BASE).unwrap();
        json[field] = value;
        serde_json::from_value(json).unwrap()
    }

    fn field_of(d: &Descriptor) -> String {
        d.validate().expect_err("should be invalid").field
    }

    #[test]
    fn descriptor_fields_round_trip_beside_the_campaign() {
        let d = with("name_intl", serde_json::json!({"ur": "پاکستان"}));
        assert_eq!(d.campaign.id, "pk");
        assert_eq!(d.revision(), 1);
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.contains("\"name_intl\":{\"ur\":\"پاکستان\"}"),
            "{text}"
        );
        assert_eq!(Descriptor::parse(&text).unwrap(), d);
        assert_eq!(d.validate(), Ok(()));
    }

    #[test]
    fn each_bad_descriptor_field_is_named() {
        use serde_json::json;
        for (field, value, named) in [
            ("name", json!(" "), "name"),
            ("name_intl", json!({"Urdu": "x"}), "name_intl.Urdu"),
            ("name_intl", json!({"ur": ""}), "name_intl.ur"),
            (
                "short_description",
                json!("x".repeat(281)),
                "short_description",
            ),
            (
                "description_intl",
                json!({"fa": "a\u{0}b"}),
                "description_intl.fa",
            ),
            ("icon", json!("../x"), "icon"),
            ("color", json!("blue"), "color"),
            ("color", json!("#12345g"), "color"),
            ("revision", json!(0), "revision"),
            ("date_created", json!("yesterday"), "date_created"),
            ("expiration_date", json!("2026-13-01"), "expiration_date"),
        ] {
            assert_eq!(
                field_of(&with(field, value.clone())),
                named,
                "{field}: {value}"
            );
        }
        let mut d = with("date_created", json!("2026-12-01"));
        d.about.expiration_date = Some("2026-11-30".into());
        assert_eq!(field_of(&d), "expiration_date");
    }

    #[test]
    fn the_campaign_itself_is_checked_as_served() {
        let mut d = with("name", serde_json::json!("x"));
        d.campaign.controls[0].url = "http://127.0.0.1/a".into();
        assert_eq!(field_of(&d), "controls[0].url");
    }

    #[test]
    fn a_new_campaign_needs_a_name() {
        let mut d = with("name", serde_json::json!("x"));
        assert_eq!(d.validate_new(), Ok(()));
        d.about.name = None;
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(d.validate_new().unwrap_err().field, "name");
    }

    #[test]
    fn expiry_is_a_moment() {
        let d = with("expiration_date", serde_json::json!("2026-12-31T12:00:00Z"));
        let at = time::parse_utc("2026-12-31T12:00:00Z").unwrap();
        assert!(!d.expired(at - 1));
        assert!(d.expired(at));
    }
}
