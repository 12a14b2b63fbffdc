//! The lab's DNS server: what the visitor's resolver asks, over UDP and TCP, answered after
//! the scenario's latency like every lab server, from a [`Zone`] the censors wrote (an
//! address, the interceptor's address, or NXDOMAIN). The namespace's `/etc/resolv.conf`
//! points here, so browsers resolve the real host names through an ordinary round trip.
//!
//! One question per message, class IN: the part of RFC 1035 a stub resolver uses. A message
//! that is not a query is ignored; a query that cannot be read gets FORMERR.

use crate::error::{Context, Result};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// Time to live of an address: long enough for one run, as a real platform's answer would be.
const TTL_SECONDS: u32 = 300;
const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;
/// Largest UDP message read; stub queries are far smaller.
const UDP_MAX: usize = 1232;

/// Response codes (RFC 1035 4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError = 0,
    FormErr = 1,
    NxDomain = 3,
    NotImp = 4,
}

/// What a name resolves to in the lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Address(Ipv4Addr),
    /// The name does not exist (a DNS block).
    NxDomain,
}

/// The names the lab's DNS server knows; every other name does not exist (the lab has no
/// Internet behind it).
#[derive(Clone, Debug, Default)]
pub struct Zone {
    names: Vec<(String, Answer)>,
}

impl Zone {
    /// Adds `name` (case does not matter, as in DNS).
    pub fn insert(&mut self, name: &str, answer: Answer) {
        self.names.push((name.to_ascii_lowercase(), answer));
    }

    /// What `name` resolves to.
    pub fn lookup(&self, name: &str) -> Answer {
        self.names
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Answer::NxDomain, |(_, a)| *a)
    }

    /// The zone as Chromium's `--host-resolver-rules`, for a person opening a `show`n scenario
    /// from the host, which does not use the lab's resolver.
    pub fn host_resolver_rules(&self) -> String {
        self.names
            .iter()
            .map(|(name, answer)| match answer {
                Answer::Address(ip) => format!("MAP {name} {ip}"),
                Answer::NxDomain => format!("MAP {name} ~NOTFOUND"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The one question of a query.
#[derive(Debug, PartialEq, Eq)]
struct Question {
    id: u16,
    /// Recursion desired, echoed in the answer.
    rd: bool,
    /// The name, dot-separated, without the final dot.
    name: String,
    qtype: u16,
    qclass: u16,
    /// The question section as sent (name, type, class), copied into the answer.
    wire: Vec<u8>,
}

/// Why a message got no answer or FORMERR.
#[derive(Debug, PartialEq, Eq)]
enum Unreadable {
    /// Not a query (too short for a header, or a response): ignored.
    Ignore,
    /// A query with this id that cannot be answered as asked.
    Answer(u16, Rcode),
}

fn parse(message: &[u8]) -> std::result::Result<Question, Unreadable> {
    if message.len() < HEADER_LEN {
        return Err(Unreadable::Ignore);
    }
    let word = |at: usize| u16::from_be_bytes([message[at], message[at + 1]]);
    let id = word(0);
    let flags = word(2);
    if flags & 0x8000 != 0 {
        return Err(Unreadable::Ignore);
    }
    if (flags >> 11) & 0xF != 0 {
        return Err(Unreadable::Answer(id, Rcode::NotImp));
    }
    if word(4) != 1 {
        return Err(Unreadable::Answer(id, Rcode::FormErr));
    }
    let formerr = Unreadable::Answer(id, Rcode::FormErr);
    let mut at = HEADER_LEN;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = usize::from(
            *message
                .get(at)
                .ok_or(Unreadable::Answer(id, Rcode::FormErr))?,
        );
        at += 1;
        if len == 0 {
            break;
        }
        // A compression pointer has no place in a question, and labels are at most 63 bytes.
        if len > 63 {
            return Err(formerr);
        }
        let label = message
            .get(at..at + len)
            .ok_or(Unreadable::Answer(id, Rcode::FormErr))?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        at += len;
        if at - HEADER_LEN > 255 {
            return Err(formerr);
        }
    }
    let Some(tail) = message.get(at..at + 4) else {
        return Err(formerr);
    };
    Ok(Question {
        id,
        rd: flags & 0x0100 != 0,
        name: labels.join("."),
        qtype: u16::from_be_bytes([tail[0], tail[1]]),
        qclass: u16::from_be_bytes([tail[2], tail[3]]),
        wire: message[HEADER_LEN..at + 4].to_vec(),
    })
}

fn header(id: u16, rd: bool, rcode: Rcode, questions: u16, answers: u16) -> Vec<u8> {
    // QR, AA, RA; the recursion flag as asked.
    let flags: u16 = 0x8000 | 0x0400 | 0x0080 | (u16::from(rd) << 8) | rcode as u16;
    let mut out = Vec::with_capacity(64);
    for word in [id, flags, questions, answers, 0, 0] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

/// The answer to one message from a client, or `None` for a message that is not a query.
pub fn respond(zone: &Zone, message: &[u8]) -> Option<Vec<u8>> {
    let q = match parse(message) {
        Ok(q) => q,
        Err(Unreadable::Ignore) => return None,
        Err(Unreadable::Answer(id, rcode)) => return Some(header(id, false, rcode, 0, 0)),
    };
    let found = zone.lookup(&q.name);
    let address = match found {
        Answer::Address(ip) if q.qtype == TYPE_A && q.qclass == CLASS_IN => Some(ip),
        _ => None,
    };
    let rcode = match found {
        Answer::NxDomain => Rcode::NxDomain,
        Answer::Address(_) => Rcode::NoError,
    };
    let mut out = header(q.id, q.rd, rcode, 1, u16::from(address.is_some()));
    out.extend_from_slice(&q.wire);
    if let Some(ip) = address {
        // The name as a pointer to the question's, at offset 12.
        out.extend_from_slice(&[0xC0, 0x0C]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL_SECONDS.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    Some(out)
}

/// Serves `zone` on `at` (port 53 in the lab), UDP and TCP, each answer sent `latency` after
/// its query.
///
/// # Errors
/// If either socket cannot be bound (the address is not configured here, or taken).
pub async fn serve(at: SocketAddr, zone: Zone, latency: Duration) -> Result<[JoinHandle<()>; 2]> {
    let udp = UdpSocket::bind(at)
        .await
        .context(format_args!("binding udp {at}"))?;
    let tcp = TcpListener::bind(at)
        .await
        .context(format_args!("binding tcp {at}"))?;
    let zone = Arc::new(zone);
    Ok([
        tokio::spawn(serve_udp(Arc::new(udp), zone.clone(), latency)),
        tokio::spawn(serve_tcp(tcp, zone, latency)),
    ])
}

async fn serve_udp(socket: Arc<UdpSocket>, zone: Arc<Zone>, latency: Duration) {
    let mut buffer = vec![0u8; UDP_MAX];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        let Some(answer) = respond(&zone, &buffer[..len]) else {
            continue;
        };
        log("udp", &buffer[..len], &answer);
        // Each answer waits on its own, so queries in flight together answer together.
        let socket = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(latency).await;
            let _ = socket.send_to(&answer, from).await;
        });
    }
}

async fn serve_tcp(listener: TcpListener, zone: Arc<Zone>, latency: Duration) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(tcp_connection(stream, zone.clone(), latency));
    }
}

/// Messages on a TCP connection, each after its two-byte length (RFC 1035 4.2.2).
async fn tcp_connection(mut stream: TcpStream, zone: Arc<Zone>, latency: Duration) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut message = vec![0u8; usize::from(len)];
        if stream.read_exact(&mut message).await.is_err() {
            return;
        }
        let Some(answer) = respond(&zone, &message) else {
            return;
        };
        log("tcp", &message, &answer);
        tokio::time::sleep(latency).await;
        let Ok(len) = u16::try_from(answer.len()) else {
            return;
        };
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&answer);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// One line per query in the scenario's log: which names and types each browser asks for.
fn log(transport: &str, query: &[u8], answer: &[u8]) {
    let rcode = answer.get(3).map_or(0, |b| b & 0x0F);
    let answers = answer.get(7).copied().unwrap_or(0);
    match parse(query) {
        Ok(q) => eprintln!(
            "dns {transport}: {} type {} -> rcode {rcode}, {answers} answer(s)",
            q.name, q.qtype
        ),
        Err(_) => eprintln!("dns {transport}: unreadable query -> rcode {rcode}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 20);

    fn zone() -> Zone {
        let mut zone = Zone::default();
        zone.insert("x.com", Answer::Address(X));
        zone.insert("abs.twimg.com", Answer::NxDomain);
        zone
    }

    /// A query as a stub resolver sends it: id 0x1234, recursion desired, one question.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    fn rcode(answer: &[u8]) -> u8 {
        answer[3] & 0x0F
    }

    fn answers(answer: &[u8]) -> u16 {
        u16::from_be_bytes([answer[6], answer[7]])
    }

    #[test]
    fn a_query_is_read_with_its_id_name_and_type() {
        let q = parse(&query("X.com", TYPE_A)).unwrap();
        assert_eq!((q.id, q.rd, q.name.as_str()), (0x1234, true, "X.com"));
        assert_eq!((q.qtype, q.qclass), (TYPE_A, CLASS_IN));
    }

    #[test]
    fn a_lab_host_gets_its_address_with_the_question_echoed() {
        let q = query("x.com", TYPE_A);
        let a = respond(&zone(), &q).unwrap();
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(a[2] & 0x80, 0x80, "QR set: a response");
        assert_eq!(rcode(&a), 0);
        assert_eq!(answers(&a), 1);
        assert_eq!(&a[12..q.len()], &q[12..], "question echoed");
        let record = &a[q.len()..];
        assert_eq!(&record[..4], &[0xC0, 0x0C, 0, 1]);
        assert_eq!(&record[10..12], &[0, 4]);
        assert_eq!(&record[12..], &X.octets());
    }

    #[test]
    fn names_match_whatever_their_case() {
        let a = respond(&zone(), &query("X.COM", TYPE_A)).unwrap();
        assert_eq!((rcode(&a), answers(&a)), (0, 1));
    }

    #[test]
    fn a_censored_or_unknown_name_gets_nxdomain() {
        for name in ["abs.twimg.com", "example.org"] {
            let a = respond(&zone(), &query(name, TYPE_A)).unwrap();
            assert_eq!(rcode(&a), Rcode::NxDomain as u8, "{name}");
            assert_eq!(answers(&a), 0);
        }
    }

    #[test]
    fn other_types_of_a_lab_host_get_no_error_and_no_record() {
        for qtype in [28, 65] {
            let a = respond(&zone(), &query("x.com", qtype)).unwrap();
            assert_eq!((rcode(&a), answers(&a)), (0, 0), "type {qtype}");
        }
    }

    #[test]
    fn bad_packets_are_ignored_or_get_formerr_never_a_panic() {
        let zone = zone();
        assert_eq!(respond(&zone, &[]), None);
        assert_eq!(respond(&zone, &[1, 2, 3]), None);
        let mut response = query("x.com", TYPE_A);
        response[2] |= 0x80;
        assert_eq!(
            respond(&zone, &response),
            None,
            "a response is not answered"
        );

        let full = query("x.com", TYPE_A);
        for cut in HEADER_LEN..full.len() {
            let a = respond(&zone, &full[..cut]).expect("a truncated query gets an answer");
            assert_eq!(rcode(&a), Rcode::FormErr as u8, "cut at {cut}");
            assert_eq!(&a[..2], &[0x12, 0x34]);
        }
        let mut pointer = full.clone();
        pointer[12] = 0xC0;
        assert_eq!(
            rcode(&respond(&zone, &pointer).unwrap()),
            Rcode::FormErr as u8
        );
        let mut two = full.clone();
        two[5] = 2;
        assert_eq!(rcode(&respond(&zone, &two).unwrap()), Rcode::FormErr as u8);
        let mut update = full;
        update[2] |= 5 << 3;
        assert_eq!(
            rcode(&respond(&zone, &update).unwrap()),
            Rcode::NotImp as u8
        );
        // Every byte string of a few lengths, none of them a panic.
        for len in 0..20 {
            for fill in [0u8, 0x3F, 0x40, 0xC0, 0xFF] {
                let _ = respond(&zone, &vec![fill; len]);
            }
        }
    }

    #[tokio::test]
    async fn answers_over_udp_and_tcp_after_the_latency() {
        let zone = zone();
        let latency = Duration::from_millis(80);
        // A free port (port 53 needs root): one TCP listener picks it, UDP takes it too.
        let at = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let [udp_task, tcp_task] = serve(at, zone, latency).await.unwrap();
        let q = query("x.com", TYPE_A);

        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let started = std::time::Instant::now();
        socket.send_to(&q, at).await.unwrap();
        let mut buffer = [0u8; 512];
        let len = socket.recv(&mut buffer).await.unwrap();
        assert!(started.elapsed() >= latency);
        assert_eq!(&buffer[len - 4..len], &X.octets());

        let mut stream = TcpStream::connect(at).await.unwrap();
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        let started = std::time::Instant::now();
        stream.write_all(&framed).await.unwrap();
        let len = stream.read_u16().await.unwrap();
        let mut answer = vec![0u8; usize::from(len)];
        stream.read_exact(&mut answer).await.unwrap();
        assert!(started.elapsed() >= latency);
        assert_eq!(&answer[answer.len() - 4..], &X.octets());
        udp_task.abort();
        tcp_task.abort();
    }
}
