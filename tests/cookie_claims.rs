//! What the README and the pages say about cookies is what the probes do (issue #10: the
//! README promised that probes carry no cookies, but an `<img>` load carries the platform's
//! third-party cookies, and a page cannot make it omit them without CORS).
#![cfg(not(target_arch = "wasm32"))]

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    // Sentences are wrapped differently in each file.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The body of `fn {name}(` in the probes' source, up to the next `fn `.
fn probe_fn(name: &str) -> String {
    let probes = read("src/browser/probe.rs");
    let start = probes
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name} in probe.rs"));
    let body = &probes[start + 3..];
    body[..body.find("fn ").unwrap_or(body.len())].to_owned()
}

#[test]
fn the_cookie_promises_say_what_fetch_and_image_probes_send() {
    // What the engine does: fetch probes omit credentials; image probes cannot (crossOrigin
    // would need the platforms' CORS headers, which their images do not send).
    assert!(
        probe_fn("fetch").contains("RequestCredentials::Omit"),
        "fetch probes no longer omit credentials: update the README and the pages"
    );
    assert!(
        !probe_fn("image").contains("cross_origin"),
        "image probes now set crossOrigin: they carry no cookies, say so in the README and the pages"
    );

    let readme = read("README.md");
    assert!(
        !readme.contains("they carry no cookies"),
        "README promises cookie-free probes, untrue for image probes"
    );
    for claim in [
        "Fetch probes carry no cookies (`credentials: \"omit\"`)",
        "Image probes (`<img>` loads) carry whatever cookies the browser sends with a third-party image",
        "netreach reads none of them",
    ] {
        assert!(readme.contains(claim), "README does not say: {claim}");
    }
    for page in ["www/index.html", "www/embed.html"] {
        let text = read(page);
        for claim in [
            "the cookies your browser keeps for them",
            "third-party cookies",
        ] {
            assert!(text.contains(claim), "{page} does not say: {claim}");
        }
    }
}
