//! A tiny MaxMind DB (.mmdb) writer for test fixtures: IPv4 tree, 32-bit records, and the
//! data types GeoLite2-Country and GeoLite2-ASN records use (maps, strings, unsigned ints).
//! Format: https://maxmind.github.io/MaxMind-DB/

use std::net::Ipv4Addr;

/// A value in the data section.
pub enum Value {
    Str(&'static str),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'static str, Value)>),
    Array(Vec<Value>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    assert!(size < 29 + 256, "fixture values stay small");
    // Sizes of 29 and more take one extra byte after the control (and extended type) bytes.
    let (small, extra) = if size < 29 {
        (size as u8, None)
    } else {
        (29, Some((size - 29) as u8))
    };
    if kind <= 7 {
        out.push((kind << 5) | small);
    } else {
        out.push(small);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(v) => uint(out, 5, u64::from(*v)),
        Value::U32(v) => uint(out, 6, u64::from(*v)),
        Value::U64(v) => uint(out, 9, *v),
        Value::Map(entries) => {
            control(out, 7, entries.len());
            for (k, v) in entries {
                encode(out, &Value::Str(k));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode(out, v);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds a database mapping IPv4 networks to records.
pub fn build(database_type: &'static str, networks: &[(Ipv4Addr, u8, Value)]) -> Vec<u8> {
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    let mut data = Vec::new();
    for (ip, prefix, value) in networks {
        assert!(*prefix >= 1 && *prefix <= 32);
        let offset = data.len();
        encode(&mut data, value);
        let bits = u32::from(*ip);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][bit] = Record::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(n) => n,
                    Record::Empty => {
                        nodes.push([Record::Empty; 2]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Record::Node(n);
                        n
                    }
                    Record::Data(_) => panic!("overlapping fixture networks"),
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let v = match record {
                Record::Empty => count,
                Record::Node(n) => *n,
                Record::Data(offset) => count + 16 + offset,
            };
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    encode(
        &mut out,
        &Value::Map(vec![
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(1_700_000_000)),
            ("database_type", Value::Str(database_type)),
            (
                "description",
                Value::Map(vec![("en", Value::Str("netreach test fixture"))]),
            ),
            ("ip_version", Value::U16(4)),
            ("languages", Value::Array(vec![Value::Str("en")])),
            ("node_count", Value::U32(count as u32)),
            ("record_size", Value::U16(32)),
        ]),
    );
    out
}

/// A GeoLite2-Country layout database.
pub fn country(networks: &[(Ipv4Addr, u8, &'static str)]) -> Vec<u8> {
    let nets: Vec<_> = networks
        .iter()
        .map(|(ip, prefix, cc)| {
            let country = Value::Map(vec![("iso_code", Value::Str(cc))]);
            (*ip, *prefix, Value::Map(vec![("country", country)]))
        })
        .collect();
    build("GeoLite2-Country", &nets)
}

/// A GeoLite2-ASN layout database.
pub fn asn(networks: &[(Ipv4Addr, u8, u32)]) -> Vec<u8> {
    let nets: Vec<_> = networks
        .iter()
        .map(|(ip, prefix, asn)| {
            (
                *ip,
                *prefix,
                Value::Map(vec![
                    ("autonomous_system_number", Value::U32(*asn)),
                    ("autonomous_system_organization", Value::Str("Test Net")),
                ]),
            )
        })
        .collect();
    build("GeoLite2-ASN", &nets)
}
