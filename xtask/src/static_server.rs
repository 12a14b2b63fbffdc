//! A small static file server for www/, used by `cargo xtask serve --static` (the page without
//! the collector: it runs, but there is nowhere to submit). GET and HEAD only, one thread per
//! connection, nothing outside the root is served.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread;

/// Serves `root` on `address` until the process is stopped.
///
/// # Errors
/// The address cannot be bound.
pub fn serve(address: &str, root: &Path) -> Result<(), String> {
    let listener = TcpListener::bind(address)
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    println!(
        "serving {} on http://{address}/ (static files; Ctrl-C stops)",
        root.display()
    );
    let root = Arc::new(root.to_path_buf());
    for stream in listener.incoming().flatten() {
        let root = Arc::clone(&root);
        thread::spawn(move || {
            // A client that hangs up mid-answer is not our problem.
            let _ = answer(stream, &root);
        });
    }
    Ok(())
}

fn answer(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; the body of a GET/HEAD is not used.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut stream = stream;
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET or HEAD only\n",
            true,
        );
    }
    let body_wanted = method == "GET";
    match resolve(root, target) {
        Some(path) => match fs::read(&path) {
            Ok(body) => respond(
                &mut stream,
                "200 OK",
                content_type(&path),
                &body,
                body_wanted,
            ),
            Err(_) => respond(
                &mut stream,
                "404 Not Found",
                "text/plain",
                b"not found\n",
                body_wanted,
            ),
        },
        None => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            body_wanted,
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    body_wanted: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if body_wanted {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Maps a request target to a file under `root`: query dropped, percent-decoded, `..` refused,
/// a directory answered by its index.html.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = percent_decode(path.strip_prefix('/')?)?;
    let mut file = root.to_path_buf();
    for component in Path::new(&path).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded)
        .ok()
        .filter(|text| !text.contains('\0'))
}

/// The Content-Type for a file; `application/wasm` matters: streaming instantiation needs it.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "woff2" => "font/woff2",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn fetch(address: &str, request: &str) -> String {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn serves_files_with_their_mime_type_and_refuses_escapes() {
        let root = std::env::temp_dir().join(format!("xtask-www-{}", std::process::id()));
        fs::create_dir_all(root.join("pkg")).unwrap();
        fs::write(root.join("index.html"), "<p>hi</p>").unwrap();
        fs::write(root.join("pkg/netreach_bg.wasm"), b"\0asm").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        let served = root.clone();
        let bind = address.clone();
        thread::spawn(move || serve(&bind, &served));
        // The server binds on its own thread: retry until it answers.
        let index = (0..100)
            .find_map(|_| {
                thread::sleep(std::time::Duration::from_millis(20));
                TcpStream::connect(&address).ok()
            })
            .map(|_| fetch(&address, "GET /?campaign=x HTTP/1.1\r\nHost: a\r\n\r\n"))
            .unwrap();
        assert!(index.starts_with("HTTP/1.1 200 OK"), "{index}");
        assert!(
            index.contains("text/html") && index.ends_with("<p>hi</p>"),
            "{index}"
        );

        let wasm = fetch(&address, "GET /pkg/netreach%5Fbg.wasm HTTP/1.1\r\n\r\n");
        assert!(wasm.contains("Content-Type: application/wasm"), "{wasm}");

        let head = fetch(&address, "HEAD /index.html HTTP/1.1\r\n\r\n");
        assert!(
            head.contains("Content-Length: 9") && head.ends_with("\r\n\r\n"),
            "{head}"
        );

        for escape in [
            "/../Cargo.toml",
            "/pkg/%2e%2e/%2e%2e/etc/passwd",
            "/missing.js",
        ] {
            let answer = fetch(&address, &format!("GET {escape} HTTP/1.1\r\n\r\n"));
            assert!(answer.starts_with("HTTP/1.1 404"), "{escape}: {answer}");
        }
        let post = fetch(&address, "POST /v1/reports HTTP/1.1\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn module_scripts_get_a_javascript_type() {
        assert_eq!(
            content_type(Path::new("a/netreach.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("campaigns/default.json")),
            "application/json"
        );
    }
}
