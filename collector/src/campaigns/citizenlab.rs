//! A campaign of websites from a Citizen Lab test list
//! (`url,category_code,category_description,date_added,source,notes`, CSV as in
//! citizenlab/test-lists). The lists are CC BY-NC-SA: the operator supplies the file, netreach
//! ships none.
//!
//! Each host becomes one target probed as an `image` at `https://HOST/favicon.ico`: the path
//! most sites answer with a real image, which a block page cannot fake. It is a guess, so the
//! operator checks every endpoint with `cargo xtask catalog check` before adding the campaign.

use super::descriptor::{About, Descriptor};
use netreach::campaign::MAX_PLATFORMS;
use netreach::{Campaign, Endpoint, Platform, ProbeKind};

/// The columns a test list has, in order.
pub const HEADER: [&str; 6] = [
    "url",
    "category_code",
    "category_description",
    "date_added",
    "source",
    "notes",
];

/// What came out of a CSV file.
pub struct Imported {
    /// The campaign, or why none could be made (no header, no usable row).
    pub descriptor: Result<Descriptor, String>,
    /// `LINE: why`, one per row left out.
    pub skipped: Vec<String>,
}

/// Reads a test list into campaign `id`, measured against `controls`, keeping only rows of
/// `categories` (all when empty).
pub fn import(text: &str, id: &str, controls: Vec<Endpoint>, categories: &[String]) -> Imported {
    let mut skipped = Vec::new();
    let mut records = records(text);
    let header_ok = records.next().is_some_and(|(_, fields)| {
        fields.len() >= 2 && fields[0].trim() == HEADER[0] && fields[1].trim() == HEADER[1]
    });
    if !header_ok {
        return Imported {
            descriptor: Err(format!(
                "line 1: not a Citizen Lab test list: the header must be {}",
                HEADER.join(",")
            )),
            skipped,
        };
    }
    let mut platforms: Vec<Platform> = Vec::new();
    for (line, fields) in records {
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        let mut skip = |why: String| skipped.push(format!("{line}: {why}"));
        if fields.len() != HEADER.len() {
            skip(format!(
                "{} columns, not {}: skipped",
                fields.len(),
                HEADER.len()
            ));
            continue;
        }
        let category = fields[1].trim();
        if !categories.is_empty() && !categories.iter().any(|c| c.eq_ignore_ascii_case(category)) {
            continue;
        }
        let host = match host(fields[0].trim()) {
            Ok(host) => host,
            Err(why) => {
                skip(format!("url {:?}: {why}: skipped", fields[0].trim()));
                continue;
            }
        };
        let platform = website(&host, category);
        if let Err(why) = alone(&platform, &controls) {
            skip(format!("url {:?}: {why}: skipped", fields[0].trim()));
            continue;
        }
        if platforms.iter().any(|p| p.id == platform.id) {
            skip(format!("host {host} is already in the campaign: skipped"));
            continue;
        }
        if platforms.len() == MAX_PLATFORMS {
            skip(format!(
                "the campaign is full (at most {MAX_PLATFORMS} targets; choose fewer with --category): skipped"
            ));
            continue;
        }
        platforms.push(platform);
    }
    if platforms.is_empty() {
        return Imported {
            descriptor: Err("no usable row: no campaign written".into()),
            skipped,
        };
    }
    let campaign = Campaign {
        id: id.to_owned(),
        controls,
        platforms,
        trials: 3,
        collector: None,
    };
    let about = About {
        name: Some(format!("{id} (from a Citizen Lab test list)")),
        description: Some(
            "Websites from a Citizen Lab test list (citizenlab/test-lists, CC BY-NC-SA 4.0)."
                .into(),
        ),
        ..About::default()
    };
    let descriptor = Descriptor { campaign, about };
    let checked = descriptor.validate_new().map_err(|e| e.to_string());
    Imported {
        descriptor: checked.map(|()| descriptor),
        skipped,
    }
}

/// A website as a target: its host names it, its category says why it is in the list.
fn website(host: &str, category: &str) -> Platform {
    let bare = host.strip_prefix("www.").unwrap_or(host);
    Platform {
        id: bare.replace('.', "-"),
        name: if category.is_empty() {
            bare.to_owned()
        } else {
            format!("{bare} ({category})")
        },
        endpoints: vec![Endpoint {
            url: format!("https://{host}/favicon.ico"),
            kind: ProbeKind::Image,
            bytes: None,
            bust: true,
        }],
    }
}

/// The target's endpoint checked by the campaign's own rules (https, a public host), in a
/// campaign of that target alone.
fn alone(platform: &Platform, controls: &[Endpoint]) -> Result<(), String> {
    let campaign = Campaign {
        id: "row".into(),
        controls: controls.to_vec(),
        platforms: vec![platform.clone()],
        trials: 1,
        collector: None,
    };
    campaign.validate_served().map_err(|e| {
        let field = e.field.rsplit('.').next().unwrap_or(&e.field).to_owned();
        format!("{field} {}", e.problem)
    })
}

/// The lower-cased host of an `http://` or `https://` URL of the list (both are probed over
/// https: over http a block page would pass for the site).
fn host(url: &str) -> Result<String, &'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = (lower.strip_prefix("https://"))
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("not an http:// or https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("").trim_end_matches('.');
    if host.is_empty() {
        return Err("no host");
    }
    Ok(host.to_owned())
}

/// CSV records (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks), each
/// with the line it starts on.
fn records(text: &str) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    let mut chars = text.chars().peekable();
    let mut line = 1;
    std::iter::from_fn(move || {
        chars.peek()?;
        let start = line;
        let mut fields = vec![String::new()];
        let mut quoted = false;
        while let Some(c) = chars.next() {
            let field = fields.last_mut().expect("one field at least");
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' if quoted => quoted = false,
                '"' if field.is_empty() => quoted = true,
                ',' if !quoted => fields.push(String::new()),
                '\r' if !quoted && chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    if !quoted {
                        break;
                    }
                    field.push(c);
                }
                _ => field.push(c),
            }
        }
        Some((start, fields))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controls() -> Vec<Endpoint> {
        vec![Endpoint {
            url: "https://www.apple.com/favicon.ico".into(),
            kind: ProbeKind::Image,
            bytes: None,
            bust: true,
        }]
    }

    // Written for the test (no Citizen Lab data is shipped): a header, good rows, a quoted
    // note with a comma, a quote and a line break, and bad rows.
    const LIST: &str = "url,category_code,category_description,date_added,source,notes\n\
        https://www.dawn.com/,NEWS,News Media,2017-04-12,,\n\
        http://example-party.pk/about,POLR,Political Criticism,2020-01-01,,\"a note, with \"\"quotes\"\"\nand two lines\"\n\
        ftp://files.example.org/,FILE,File-sharing,2020-01-01,,\n\
        https://10.0.0.1/,NEWS,News Media,2020-01-01,,\n\
        https://dawn.com/other,NEWS,News Media,2020-01-01,,\n\
        https://WWW.Dawn.com/again,NEWS,News Media,2020-01-01,,\n\
        https://short.example/,NEWS\n\
        https://humanrights.example.org/,HUMR,Human Rights Issues,2019-05-05,,\n";

    #[test]
    fn rows_become_website_targets_and_bad_rows_are_named_by_line() {
        let imported = import(LIST, "pk-news", controls(), &[]);
        let d = imported.descriptor.expect("a campaign");
        let ids: Vec<&str> = d.campaign.platforms.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["dawn-com", "example-party-pk", "humanrights-example-org"]
        );
        assert_eq!(
            d.campaign.platforms[0].endpoints[0].url,
            "https://www.dawn.com/favicon.ico"
        );
        assert_eq!(d.campaign.platforms[0].endpoints[0].kind, ProbeKind::Image);
        assert_eq!(d.campaign.platforms[1].name, "example-party.pk (POLR)");
        // The quoted note spans lines 3 and 4: the next rows keep their own line numbers.
        let lines: Vec<&str> = (imported.skipped.iter())
            .map(|s| s.split(':').next().unwrap())
            .collect();
        assert_eq!(lines, ["5", "6", "7", "8", "9"], "{:?}", imported.skipped);
        assert!(imported.skipped[0].contains("not an http:// or https:// URL"));
        assert!(imported.skipped[1].contains("private or local address"));
        assert!(imported.skipped[2].contains("already in the campaign"));
        assert!(imported.skipped[4].contains("2 columns, not 6"));
        assert_eq!(d.validate_new(), Ok(()));
    }

    #[test]
    fn categories_choose_rows() {
        let only = ["polr".to_owned(), "HUMR".to_owned()];
        let d = import(LIST, "pk", controls(), &only).descriptor.unwrap();
        let ids: Vec<&str> = d.campaign.platforms.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["example-party-pk", "humanrights-example-org"]);
    }

    #[test]
    fn a_file_that_is_not_a_test_list_is_refused() {
        let e = import("a,b\nhttps://x.example/,NEWS\n", "pk", controls(), &[]);
        assert!(e
            .descriptor
            .unwrap_err()
            .contains("line 1: not a Citizen Lab test list"));
        let e = import("url,category_code\n", "pk", controls(), &[]);
        assert_eq!(
            e.descriptor.unwrap_err(),
            "no usable row: no campaign written"
        );
    }

    #[test]
    fn the_campaign_is_cut_at_its_limit_and_says_so() {
        let mut list =
            String::from("url,category_code,category_description,date_added,source,notes\n");
        for i in 0..=MAX_PLATFORMS {
            list.push_str(&format!(
                "https://site{i}.example/,NEWS,News,2020-01-01,,\n"
            ));
        }
        let imported = import(&list, "big", controls(), &[]);
        assert_eq!(
            imported.descriptor.unwrap().campaign.platforms.len(),
            MAX_PLATFORMS
        );
        assert_eq!(imported.skipped.len(), 1);
        assert!(imported.skipped[0]
            .starts_with(&format!("{}: the campaign is full", MAX_PLATFORMS + 2)));
    }
}
