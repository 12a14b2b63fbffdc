//! The files other sites load: `embed.js` and everything under `/pkg/` (the engine, its glue,
//! their pinned copies, `integrity.json`). They may be read from any origin, so that a news
//! site can pin them with Subresource Integrity (`<script integrity crossorigin>`, or a
//! `fetch` with `integrity` of the .wasm) and import the engine from its own pages. A pinned
//! copy (`name.<16 hex digits>.ext`, written by `cargo xtask build`, see xtask/src/pinned.rs)
//! never changes under its name, so caches may keep it for a year without asking again.
//!
//! Nothing here is credentialed (the collector sets no cookies), so a wildcard origin gives a
//! site nothing its visitors' browsers could not fetch anyway. The pages (`/`, the dashboard,
//! the embed frame) get no CORS: they are opened or framed, never read by another site.

use axum::extract::Request;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The embed script, at the root; its pinned copies are under [`PACKAGE_DIR`].
const EMBED_SCRIPT: &str = "/embed.js";
/// The Wasm package's folder: the engine, its glue, their pinned copies and `integrity.json`.
const PACKAGE_DIR: &str = "/pkg/";
/// Hex digits of the SHA-384 in a pinned file's name (xtask/src/pinned.rs).
const NAME_HASH_DIGITS: usize = 16;
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether another site may load the file at this path.
pub fn loaded_by_other_sites(path: &str) -> bool {
    path == EMBED_SCRIPT || path.starts_with(PACKAGE_DIR)
}

/// Whether the path names a pinned copy under `/pkg/`: `name.<16 lowercase hex>.ext`.
pub fn is_pinned(path: &str) -> bool {
    let Some(name) = path.strip_prefix(PACKAGE_DIR) else {
        return false;
    };
    let mut parts = name.rsplit('.');
    let (Some(extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !extension.is_empty()
        && !stem.is_empty()
        && !name.contains('/')
        && hash.len() == NAME_HASH_DIGITS
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The middleware on static files: CORS and `Cross-Origin-Resource-Policy: cross-origin` on
/// what other sites load, and the immutable cache header on a pinned copy that was found.
pub async fn add(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if loaded_by_other_sites(&path) {
        let found = response.status().is_success() || response.status().as_u16() == 304;
        apply(response.headers_mut(), found && is_pinned(&path));
    }
    response
}

fn apply(headers: &mut HeaderMap, pinned: bool) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    if pinned {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_copies_are_told_from_the_package_s_own_files() {
        for path in [
            "/pkg/embed.0123456789abcdef.js",
            "/pkg/netreach.0123456789abcdef.js",
            "/pkg/netreach_bg.0123456789abcdef.wasm",
        ] {
            assert!(is_pinned(path), "{path}");
        }
        for path in [
            "/pkg/netreach.js",
            "/pkg/integrity.json",
            "/embed.js",
            "/embed.0123456789abcdef.js",
            "/pkg/netreach.0123456789ABCDEF.js",
            "/pkg/netreach.0123456789abcde.js",
            "/pkg/a/netreach.0123456789abcdef.js",
            "/pkg/.0123456789abcdef.js",
            "/pkg/netreach.0123456789abcdef.",
        ] {
            assert!(!is_pinned(path), "{path}");
        }
    }
}
