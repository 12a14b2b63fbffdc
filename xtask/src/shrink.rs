//! What `cargo xtask build` does to wasm-bindgen's output before it is measured and served:
//! the names the module and its JS glue share get short, the custom sections go, and the glue is
//! minified.
//!
//! Why: wasm-bindgen names each import `__wbg_<method>_<16 hex digits>` and some exports after
//! the full Rust path of a generic closure shim (300+ bytes each). Those names appear in both
//! files and the hashes do not compress: about 3 KB of the gzipped package (measured on this
//! engine). Nothing outside the package sees them: pages use only the glue's own exports (`run`,
//! `submit`, `validate`, `initSync`, the default `init`), which keep their names.

use std::collections::BTreeMap;

/// Renames every import the glue provides and every export the glue calls to a short name, in
/// both the module and the glue, and drops the module's custom sections (names, producers,
/// target features: not read by browsers).
///
/// # Errors
/// The module is not a Wasm binary this parser understands, or a name the module shares with the
/// glue does not appear in the glue (the two would no longer match).
pub fn shorten_names(wasm: &[u8], glue: &str) -> Result<(Vec<u8>, String), String> {
    let module = Module::parse(wasm)?;
    let mut renames = Renames {
        read_by_glue: read_from_wasm(glue),
        ..Renames::default()
    };
    let mut out = wasm[..8].to_vec();
    for section in &module.sections {
        let body = match section.id {
            CUSTOM => continue,
            IMPORT => rename_imports(section.body, &mut renames)?,
            EXPORT => rename_exports(section.body, &mut renames)?,
            _ => section.body.to_vec(),
        };
        out.push(section.id);
        write_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    let glue = rename_in_glue(glue, &renames)?;
    Ok((out, glue))
}

const CUSTOM: u8 = 0;
const IMPORT: u8 = 2;
const EXPORT: u8 = 7;

/// The short name for the n-th renamed item: `$` is legal in JS identifiers and wasm-bindgen's
/// glue never starts one with it, so a new name cannot clash with the glue's own.
fn short_name(index: usize) -> String {
    format!("${index:x}")
}

struct Section<'a> {
    id: u8,
    body: &'a [u8],
}

struct Module<'a> {
    sections: Vec<Section<'a>>,
}

impl<'a> Module<'a> {
    fn parse(wasm: &'a [u8]) -> Result<Module<'a>, String> {
        if wasm.len() < 8 || wasm[..4] != *b"\0asm" || wasm[4..8] != [1, 0, 0, 0] {
            return Err("not a Wasm module (version 1)".into());
        }
        let mut reader = Reader::new(&wasm[8..]);
        let mut sections = Vec::new();
        while !reader.done() {
            let id = reader.byte()?;
            let len = reader.leb()? as usize;
            sections.push(Section {
                id,
                body: reader.bytes(len)?,
            });
        }
        Ok(Module { sections })
    }
}

/// A cursor over a section body; every read checks the bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.bytes.get(self.at).ok_or("truncated Wasm module")?;
        self.at += 1;
        Ok(byte)
    }

    fn bytes(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or("truncated Wasm module")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn leb(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("malformed LEB128 number in Wasm module".into())
    }

    fn name(&mut self) -> Result<&'a str, String> {
        let len = self.leb()? as usize;
        std::str::from_utf8(self.bytes(len)?).map_err(|_| "Wasm name is not UTF-8".to_string())
    }

    /// Copies the bytes read since `from`.
    fn since(&self, from: usize) -> &'a [u8] {
        &self.bytes[from..self.at]
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Old name -> short name, for the glue: imports are keys of the object the glue passes to
/// `WebAssembly.instantiate`, exports are read as `wasm.<name>`.
#[derive(Default)]
struct Renames<'a> {
    /// Import module names: keys of the object of modules the glue passes.
    modules: BTreeMap<&'a str, String>,
    imports: BTreeMap<&'a str, String>,
    exports: BTreeMap<&'a str, String>,
    count: usize,
    /// Exports the glue never reads (wasm-bindgen leaves some, e.g. `__abort_handler`) keep
    /// their names.
    read_by_glue: std::collections::BTreeSet<String>,
}

impl<'a> Renames<'a> {
    fn module(&mut self, name: &'a str) -> String {
        Self::rename(&mut self.modules, &mut self.count, name)
    }

    fn import(&mut self, name: &'a str) -> String {
        Self::rename(&mut self.imports, &mut self.count, name)
    }

    fn export(&mut self, name: &'a str) -> String {
        if !self.read_by_glue.contains(name) {
            return name.to_string();
        }
        Self::rename(&mut self.exports, &mut self.count, name)
    }

    fn rename(map: &mut BTreeMap<&'a str, String>, count: &mut usize, name: &'a str) -> String {
        map.entry(name)
            .or_insert_with(|| {
                *count += 1;
                short_name(*count - 1)
            })
            .clone()
    }
}

/// Rewrites a section that is a vector of entries, one `entry` call per entry.
fn rewrite_entries<'a>(
    body: &'a [u8],
    section: &str,
    mut entry: impl FnMut(&mut Reader<'a>, &mut Vec<u8>) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let mut reader = Reader::new(body);
    let count = reader.leb()?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, count);
    for _ in 0..count {
        entry(&mut reader, &mut out)?;
    }
    if !reader.done() {
        return Err(format!("trailing bytes in the Wasm {section} section"));
    }
    Ok(out)
}

fn rename_imports<'a>(body: &'a [u8], renames: &mut Renames<'a>) -> Result<Vec<u8>, String> {
    rewrite_entries(body, "import", |reader, out| {
        let module = reader.name()?;
        let field = reader.name()?;
        let start = reader.at;
        match reader.byte()? {
            0x00 => drop(reader.leb()?), // function: type index
            0x01 => {
                reader.byte()?; // table: element type, then limits
                limits(reader)?;
            }
            0x02 => limits(reader)?,        // memory
            0x03 => drop(reader.bytes(2)?), // global: value type, mutability
            0x04 => {
                reader.byte()?; // tag: attribute, type index
                reader.leb()?;
            }
            kind => return Err(format!("unknown Wasm import kind {kind:#x}")),
        }
        write_name(out, &renames.module(module));
        write_name(out, &renames.import(field));
        out.extend_from_slice(reader.since(start));
        Ok(())
    })
}

fn limits(reader: &mut Reader) -> Result<(), String> {
    let flags = reader.byte()?;
    reader.leb()?;
    if flags & 1 == 1 {
        reader.leb()?;
    }
    Ok(())
}

fn rename_exports<'a>(body: &'a [u8], renames: &mut Renames<'a>) -> Result<Vec<u8>, String> {
    rewrite_entries(body, "export", |reader, out| {
        let name = reader.name()?;
        let start = reader.at;
        reader.byte()?; // kind
        reader.leb()?; // index
        write_name(out, &renames.export(name));
        out.extend_from_slice(reader.since(start));
        Ok(())
    })
}

/// The names the glue reads as `wasm.<name>`.
fn read_from_wasm(glue: &str) -> std::collections::BTreeSet<String> {
    identifiers(glue)
        .filter(|(at, _)| reads_from_wasm(glue, *at))
        .map(|(_, word)| word.to_string())
        .collect()
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

/// The glue's runs of identifier characters, in order, with where each starts.
fn identifiers(glue: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let bytes = glue.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(|b| is_identifier_byte(*b))?;
        let end = bytes[start..]
            .iter()
            .position(|b| !is_identifier_byte(*b))
            .map_or(bytes.len(), |n| start + n);
        at = end;
        Some((start, &glue[start..end]))
    })
}

/// Whether the identifier at `at` is read from the module's exports: `wasm.<name>`, where
/// `wasm` is a whole identifier.
fn reads_from_wasm(glue: &str, at: usize) -> bool {
    glue[..at]
        .strip_suffix("wasm.")
        .is_some_and(|before| !before.bytes().last().is_some_and(is_identifier_byte))
}

/// Replaces each import name where it stands as an object key (`name:`), each export name
/// where the glue reads it (`wasm.name`) and each import module name where it stands quoted;
/// every old name must be found, and the glue must not already use an identifier of the short
/// form.
fn rename_in_glue(glue: &str, renames: &Renames) -> Result<String, String> {
    let mut out = String::with_capacity(glue.len());
    let mut seen = std::collections::BTreeSet::new();
    let mut copied = 0;
    for (at, word) in identifiers(glue) {
        out.push_str(&glue[copied..at]);
        copied = at + word.len();
        let looks_short = word
            .strip_prefix('$')
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit()));
        if looks_short {
            return Err(format!("the JS glue already uses the identifier `{word}`"));
        }
        let short = if reads_from_wasm(glue, at) {
            renames.exports.get(word)
        } else if glue[copied..].trim_start().starts_with(':') {
            renames.imports.get(word)
        } else {
            None
        };
        match short {
            Some(short) => {
                seen.insert(word);
                out.push_str(short);
            }
            None => out.push_str(word),
        }
    }
    out.push_str(&glue[copied..]);
    // Module names stand as quoted keys: `"./netreach_bg.js": import0`.
    for (module, short) in &renames.modules {
        for quote in ['"', '\''] {
            let quoted = format!("{quote}{module}{quote}");
            if out.contains(&quoted) {
                out = out.replace(&quoted, &format!("{quote}{short}{quote}"));
                seen.insert(module);
            }
        }
    }
    let all = renames.imports.keys().chain(renames.exports.keys());
    if let Some(missing) = all
        .chain(renames.modules.keys())
        .find(|name| !seen.contains(*name))
    {
        return Err(format!(
            "the Wasm module names `{missing}`, which its JS glue does not use"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one function import, one memory import, a custom section and two exports.
    fn module() -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let mut imports = vec![2];
        for (field, desc) in [
            ("__wbg_now_043d245551b22f9c", vec![0x00, 0x00]),
            ("memory", vec![0x02, 0x01, 0x01, 0x02]),
        ] {
            write_name(&mut imports, "./netreach_bg.js");
            write_name(&mut imports, field);
            imports.extend(desc);
        }
        let mut custom = Vec::new();
        write_name(&mut custom, "producers");
        custom.extend(b"rustc");
        let mut exports = vec![3];
        write_name(&mut exports, "__abort_handler");
        exports.extend([0x00, 0x07]);
        write_name(&mut exports, "run");
        exports.extend([0x00, 0x05]);
        write_name(&mut exports, "__wbindgen_export2");
        exports.extend([0x00, 0x06]);
        for (id, body) in [(1, vec![0x00]), (2, imports), (0, custom), (7, exports)] {
            wasm.push(id);
            write_leb(&mut wasm, body.len() as u64);
            wasm.extend(body);
        }
        wasm
    }

    const GLUE: &str = "const i = { __wbg_now_043d245551b22f9c: () => Date.now(), memory: m };\n\
                        const imports = { \"./netreach_bg.js\": i };\n\
                        export function run(a) { return wasm.run(a); }\n\
                        wasm.__wbindgen_export2(1); // not __wbindgen_export";

    #[test]
    fn renames_in_both_files_and_drops_custom_sections() {
        let (wasm, glue) = shorten_names(&module(), GLUE).unwrap();
        assert_eq!(
            glue,
            "const i = { $1: () => Date.now(), $2: m };\n\
             const imports = { \"$0\": i };\n\
             export function run(a) { return wasm.$3(a); }\n\
             wasm.$4(1); // not __wbindgen_export"
        );
        let parsed = Module::parse(&wasm).unwrap();
        let ids: Vec<u8> = parsed.sections.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2, 7]);
        let imports = parsed.sections[1].body;
        assert_eq!(
            imports,
            b"\x02\x02$0\x02$1\x00\x00\x02$0\x02$2\x02\x01\x01\x02"
        );
        // The export the glue does not read keeps its name.
        assert_eq!(
            parsed.sections[2].body,
            b"\x03\x0f__abort_handler\x00\x07\x02$3\x00\x05\x02$4\x00\x06"
        );
    }

    #[test]
    fn an_import_or_module_the_glue_does_not_provide_is_refused() {
        let glue = GLUE.replace("__wbg_now_043d245551b22f9c: () => Date.now(), ", "");
        let error = shorten_names(&module(), &glue).unwrap_err();
        assert!(error.contains("`__wbg_now_043d245551b22f9c`"), "{error}");
        let glue = GLUE.replace("\"./netreach_bg.js\"", "mod");
        let error = shorten_names(&module(), &glue).unwrap_err();
        assert!(error.contains("`./netreach_bg.js`"), "{error}");
    }

    #[test]
    fn glue_that_uses_a_dollar_identifier_is_refused() {
        let glue = format!("{GLUE}\nconst $0 = `${{x}}`;");
        let error = shorten_names(&module(), &glue).unwrap_err();
        assert!(error.contains("`$0`"), "{error}");
    }

    #[test]
    fn bad_modules_are_refused_with_a_reason() {
        assert_eq!(
            shorten_names(b"\0asm", GLUE).unwrap_err(),
            "not a Wasm module (version 1)"
        );
        let wasm = module();
        let error = shorten_names(&wasm[..wasm.len() - 3], GLUE).unwrap_err();
        assert_eq!(error, "truncated Wasm module");
        let mut unknown_kind = module();
        // The first import's kind byte, right after its field name.
        let kind_at = find(&unknown_kind, b"9c\x00") + 2;
        unknown_kind[kind_at] = 0x09;
        let error = shorten_names(&unknown_kind, GLUE).unwrap_err();
        assert_eq!(error, "unknown Wasm import kind 0x9");
    }

    fn find(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }
}
