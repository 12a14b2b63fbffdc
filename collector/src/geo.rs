//! Country and network (ASN) of a client address, from MaxMind DB files when configured.
//!
//! The address is looked up and dropped; only the two-letter country and the ASN are kept.

use maxminddb::{PathElement, Reader};
use std::net::IpAddr;
use std::path::Path;

/// Country recorded when no country database is configured or the address is not in it.
pub const UNKNOWN_COUNTRY: &str = "ZZ";

/// Whether `cc` is a country as stored: two upper-case ASCII letters (`ZZ` among them).
pub fn valid_country(cc: &str) -> bool {
    cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase())
}

/// The configured geo databases (either may be absent).
pub struct Geo {
    country: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

/// Where a report came from, as coarse as aggregates need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// ISO 3166-1 alpha-2 country code, or `ZZ`.
    pub country: String,
    /// Autonomous system number, or 0.
    pub asn: u32,
}

impl Geo {
    /// Opens the databases.
    ///
    /// # Errors
    /// A file that cannot be read or is not a MaxMind DB, with its path.
    pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<Self, String> {
        let open = |path: &Path| {
            Reader::open_readfile(path).map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(Geo {
            country: country.map(open).transpose()?,
            asn: asn.map(open).transpose()?,
        })
    }

    /// No databases: every address is `ZZ` / 0.
    pub fn none() -> Self {
        Geo {
            country: None,
            asn: None,
        }
    }

    /// A short description for the start-up line.
    pub fn describe(&self) -> &'static str {
        match (&self.country, &self.asn) {
            (Some(_), Some(_)) => "country+asn",
            (Some(_), None) => "country",
            (None, Some(_)) => "asn",
            (None, None) => "none (ZZ/0)",
        }
    }

    /// Country and ASN of `ip`; unknown parts are `ZZ` and 0.
    pub fn locate(&self, ip: IpAddr) -> Location {
        let country = self
            .country
            .as_ref()
            .and_then(|db| {
                let found = db.lookup(ip).ok()?;
                let code = |path: &[PathElement]| found.decode_path::<String>(path).ok().flatten();
                // Anycast and satellite ranges may carry only the registered country.
                code(&[PathElement::Key("country"), PathElement::Key("iso_code")]).or_else(|| {
                    code(&[
                        PathElement::Key("registered_country"),
                        PathElement::Key("iso_code"),
                    ])
                })
            })
            .map(|c| c.to_ascii_uppercase())
            .filter(|c| valid_country(c))
            .unwrap_or_else(|| UNKNOWN_COUNTRY.to_owned());
        let asn = self
            .asn
            .as_ref()
            .and_then(|db| {
                db.lookup(ip)
                    .ok()?
                    .decode_path::<u32>(&[PathElement::Key("autonomous_system_number")])
                    .ok()
                    .flatten()
            })
            .unwrap_or(0);
        Location { country, asn }
    }
}
