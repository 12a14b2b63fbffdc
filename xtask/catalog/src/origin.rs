//! The netreach origin of the check: a blank page and the built Wasm package (`www/pkg`) on
//! `http://127.0.0.1:PORT`, as the collector serves the page, so that every endpoint is
//! loaded cross-origin as it is from the real site. Standard HTTP/1.1, one answer per
//! connection.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The page the engine runs in: nothing but a document, so nothing else loads.
const PAGE: &str =
    "<!doctype html><meta charset=utf-8><title>netreach catalog check</title><body></body>";

/// A running origin; it stops when dropped.
pub struct Origin {
    pub url: String,
    server: JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves the page at `/` and the package's files at `/pkg/NAME` from `pkg`.
///
/// # Errors
/// No loopback port can be bound, or the package is not built.
pub async fn serve(pkg: &Path) -> Result<Origin, String> {
    if !pkg.join("netreach.js").is_file() {
        return Err(format!(
            "no Wasm package in {} (build it: cargo xtask build)",
            pkg.display()
        ));
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding the page's port: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("the page's port: {e}"))?;
    let pkg = pkg.to_path_buf();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, pkg.clone()));
        }
    });
    Ok(Origin {
        url: format!("http://{address}/"),
        server,
    })
}

async fn answer(mut stream: TcpStream, pkg: PathBuf) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let (status, content_type, body) = match path {
        "/" => (
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes().to_vec(),
        ),
        _ => match path.strip_prefix("/pkg/").and_then(|name| file(&pkg, name)) {
            Some((content_type, body)) => ("200 OK", content_type, body),
            None => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        },
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}

/// A file of the package by its plain name (no directories), with its content type.
fn file(pkg: &Path, name: &str) -> Option<(&'static str, Vec<u8>)> {
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return None;
    }
    let content_type = match Path::new(name).extension()?.to_str()? {
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        _ => return None,
    };
    std::fs::read(pkg.join(name))
        .ok()
        .map(|body| (content_type, body))
}
