//! What the lab servers answer: real PNG bytes for icons and images (an `<img>` probe needs a
//! decodable image), a small HTML page for everything else, and the larger objects as PNG
//! images of exactly their declared sizes (the engine measures throughput on image loads).

use bytes::Bytes;

/// One answer: status, content type and body.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// The bodies a server chooses from, built once and shared by every server.
pub struct Content {
    icon: Bytes,
    page: Bytes,
    large: Vec<(String, Bytes)>,
    /// Paths gone from the servers (a rotten catalog): 404 with the HTML page.
    gone: Vec<String>,
}

impl Content {
    /// `large`: paths served as larger objects, with their sizes in bytes; `gone`: paths
    /// answered 404 with the HTML page.
    pub fn new(large: &[(String, u64)], gone: &[&str]) -> Self {
        Content {
            icon: Bytes::from(png(16, 16, [0x1d, 0x9b, 0xf0, 0xff])),
            page: Bytes::from_static(
                b"<!doctype html><html><head><title>lab</title></head><body><p>netreach lab server</p></body></html>\n",
            ),
            large: large
                .iter()
                .map(|(path, size)| (path.clone(), Bytes::from(png_of_size(*size as usize))))
                .collect(),
            gone: gone.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// The answer for a request path (the query, e.g. the probe's cache-busting `nr=`, is
    /// ignored).
    pub fn answer(&self, path: &str) -> Answer {
        if self.gone.iter().any(|p| p == path) {
            return Answer {
                status: 404,
                content_type: "text/html; charset=utf-8",
                body: self.page.clone(),
            };
        }
        if let Some((_, body)) = self.large.iter().find(|(p, _)| p == path) {
            return Answer {
                status: 200,
                content_type: "image/png",
                body: body.clone(),
            };
        }
        let image = [".ico", ".png", ".jpg", ".jpeg", ".gif"]
            .iter()
            .any(|ext| path.ends_with(ext));
        if image {
            Answer {
                status: 200,
                content_type: "image/png",
                body: self.icon.clone(),
            }
        } else {
            Answer {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: self.page.clone(),
            }
        }
    }
}

/// Incompressible bytes (xorshift), so no layer on the way can shrink the transfer.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A solid-colour RGBA PNG.
pub fn png(width: u32, height: u32, rgba: [u8; 4]) -> Vec<u8> {
    let pixels = rgba.repeat((width * height) as usize);
    encode(width, height, &pixels, &[])
}

/// A PNG of random pixels, exactly `size` bytes long (a padding chunk makes up the rest), so
/// the size a campaign declares is the size that crosses the network.
///
/// # Panics
/// Below about 600 bytes, too small for one row of pixels.
pub fn png_of_size(size: usize) -> Vec<u8> {
    const WIDTH: u32 = 128;
    // Signature, IHDR, IDAT and IEND framing, the zlib header and checksum, and a padding
    // chunk's framing: everything but the scanlines and the deflate block headers.
    const FIXED: usize = 8 + 25 + 12 + 2 + 4 + 12 + 12;
    let row = 1 + 4 * WIDTH as usize;
    let encoded = |rows: usize| FIXED + rows * row + (rows * row).div_ceil(65_535) * 5;
    assert!(size >= encoded(1), "an image of {size} bytes is too small");
    let mut rows = 1;
    while encoded(rows + 1) <= size {
        rows += 1;
    }
    let pixels = noise(rows * 4 * WIDTH as usize);
    let pad = vec![0u8; size - encoded(rows)];
    let png = encode(WIDTH, rows as u32, &pixels, &pad);
    debug_assert_eq!(png.len(), size);
    png
}

/// PNG bytes for RGBA `pixels`, compressed with zlib "stored" blocks (no compressor needed,
/// and noise would not compress anyway), with an optional private padding chunk.
fn encode(width: u32, height: u32, pixels: &[u8], pad: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(pixels.len() + height as usize);
    for scanline in pixels.chunks(4 * width as usize) {
        raw.push(0); // filter type: none
        raw.extend_from_slice(scanline);
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    if !pad.is_empty() {
        // Lower-case first letter: ancillary, decoders skip it.
        chunk(&mut out, b"laBp", pad);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn png_has_signature_and_closing_chunk() {
        let png = png(16, 16, [1, 2, 3, 255]);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn sized_pngs_are_exactly_their_size() {
        for size in [596, 1000, 65_600, 100_000, 131_072] {
            let png = png_of_size(size);
            assert_eq!(png.len(), size);
            assert!(png.ends_with(&[b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        }
    }

    #[test]
    fn answers_by_path() {
        let content = Content::new(&[("/big.jpg".into(), 1234)], &["/gone.png"]);
        assert_eq!(content.answer("/big.jpg").body.len(), 1234);
        assert!(content.answer("/big.jpg").body.starts_with(b"\x89PNG"));
        assert_eq!(content.answer("/favicon.ico").content_type, "image/png");
        assert!(content.answer("/favicon.ico").body.len() < 1234);
        assert_eq!(
            content.answer("/k/").content_type,
            "text/html; charset=utf-8"
        );
        assert_eq!(content.answer("/favicon.ico").status, 200);
        let gone = content.answer("/gone.png");
        assert_eq!(
            (gone.status, gone.content_type),
            (404, "text/html; charset=utf-8")
        );
    }
}
