//! The page, the embed and the dashboard speak the visitor's language: every catalog in
//! www/i18n/ has exactly the English keys, keeps their placeholders and says who may review it;
//! the language switch lists every catalog; and no visible text of www/*.html or www/*.js is
//! left out of the catalogs. The rules for the markup are those of www/i18n.js: an element with
//! visible text carries `data-i18n` (or `translate="no"`, for names such as "netreach"), and a
//! visible attribute (`alt`, `title`, `aria-label`, `placeholder`, a description's `content`)
//! its `data-i18n-<attribute>`. The scripts hold no prose: no string of two words and no
//! capitalised word. A message with a count is an object of plural forms, one per CLDR plural
//! category of its language as the browsers' `Intl.PluralRules` has them (Node.js answers for
//! them here), so that no language says "1 reports".
#![cfg(not(target_arch = "wasm32"))]

mod node;

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn www() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www")
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The catalogs by language code, English included.
fn catalogs() -> BTreeMap<String, Map<String, Value>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(www().join("i18n")).expect("www/i18n/ exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(code) = name.strip_suffix(".json") else {
            continue;
        };
        if code == "languages" {
            continue;
        }
        let value: Value = serde_json::from_str(&read(&path))
            .unwrap_or_else(|e| panic!("www/i18n/{name} is not JSON: {e}"));
        let Value::Object(map) = value else {
            panic!("www/i18n/{name} is not an object");
        };
        out.insert(code.to_owned(), map);
    }
    out
}

fn english() -> Map<String, Value> {
    catalogs().remove("en").expect("www/i18n/en.json")
}

/// The messages of a catalog (every key but `_meta`).
fn messages(catalog: &Map<String, Value>) -> BTreeMap<&str, &Value> {
    catalog
        .iter()
        .filter(|(k, _)| *k != "_meta")
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

/// The `{name}` placeholders of a message.
fn placeholders(message: &str) -> BTreeSet<String> {
    message
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(str::to_owned)
        .collect()
}

fn pages(extension: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(www())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, read(&path))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no www/*.{extension}");
    out
}

#[test]
fn english_urdu_and_four_more_languages_have_catalogs() {
    let codes: Vec<String> = catalogs().into_keys().collect();
    for needed in ["en", "ur"] {
        assert!(
            codes.iter().any(|c| c == needed),
            "no www/i18n/{needed}.json"
        );
    }
    let more = ["fa", "ar", "ru", "tr", "my", "am", "es"];
    let present = codes.iter().filter(|c| more.contains(&c.as_str())).count();
    assert!(present >= 4, "only {present} of {more:?} have catalogs");
}

/// The plural categories of each catalog's language, as `Intl.PluralRules` has them
/// ("one", "other"; Arabic has six).
fn plural_categories() -> BTreeMap<String, BTreeSet<String>> {
    let codes: Vec<String> = catalogs().into_keys().collect();
    let script = format!(
        "for (const code of {codes:?}) console.log(code, \
         new Intl.PluralRules(code).resolvedOptions().pluralCategories.join(' '));"
    );
    node::output(&script)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(code, categories)| {
            let set = categories.split(' ').map(str::to_owned).collect();
            (code.to_owned(), set)
        })
        .collect()
}

/// The forms of a message: one unnamed form for a plain message, the named plural forms of an
/// object of them.
fn forms(message: &Value) -> Vec<(&str, &Value)> {
    match message {
        Value::Object(forms) => forms.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        other => vec![("", other)],
    }
}

#[test]
fn every_catalog_has_the_english_keys_and_no_other() {
    let english = english();
    let keys: BTreeSet<&str> = messages(&english).into_keys().collect();
    let categories = plural_categories();
    let mut failures = Vec::new();
    for (code, catalog) in &catalogs() {
        let own = messages(catalog);
        let needed = &categories[code];
        for key in &keys {
            let Some(message) = own.get(key) else {
                failures.push(format!("{code}.json lacks {key}"));
                continue;
            };
            for (form, text) in forms(message) {
                if text.as_str().is_none_or(|t| t.trim().is_empty()) {
                    failures.push(format!(
                        "{code}.json: {key} {form} is not a non-empty string"
                    ));
                }
            }
            // A count in English is a count in every language, with that language's forms.
            match (english[*key].is_object(), message) {
                (false, Value::String(_)) => {}
                (true, Value::Object(own)) => {
                    let have: BTreeSet<String> = own.keys().cloned().collect();
                    if &have != needed {
                        failures.push(format!(
                            "{code}.json: {key} has the plural forms {have:?}, the language {needed:?}"
                        ));
                    }
                }
                (true, _) => failures.push(format!(
                    "{code}.json: {key} is a count without plural forms"
                )),
                (false, _) => {
                    failures.push(format!("{code}.json: {key} has plural forms, English none"))
                }
            }
        }
        for key in own.keys().filter(|k| !keys.contains(*k)) {
            failures.push(format!("{code}.json has {key}, which en.json lacks"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every form of a translation keeps the placeholders of English (of its `other` form for a
/// count); a plural form may say its count in words ("تقرير واحد", one report) and leave out
/// `{n}`.
#[test]
fn every_translation_keeps_the_placeholders_of_english() {
    let english = english();
    let mut failures = Vec::new();
    for (code, catalog) in &catalogs() {
        for (key, value) in messages(catalog) {
            let source = match english.get(key) {
                Some(Value::Object(forms)) => forms.get("other"),
                other => other,
            };
            let Some(source) = source.and_then(Value::as_str) else {
                failures.push(format!(
                    "en.json {key}: no text (a count needs an `other` form)"
                ));
                continue;
            };
            let wanted = placeholders(source);
            let plural = english[key].is_object();
            if plural && !wanted.contains("n") {
                failures.push(format!("en.json {key}: a count without {{n}}"));
            }
            for (form, text) in forms(value) {
                let Some(own) = text.as_str() else { continue };
                let mut have = placeholders(own);
                if plural && form != "other" {
                    have.insert("n".into());
                }
                if have != wanted {
                    failures.push(format!(
                        "{code}.json {key} {form}: {:?}, English has {wanted:?}",
                        placeholders(own)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_catalog_names_its_language_direction_reviewers_and_status() {
    let mut failures = Vec::new();
    for (code, catalog) in &catalogs() {
        let meta = catalog.get("_meta").and_then(Value::as_object);
        let field = |name: &str| {
            meta.and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        for name in ["language", "reviewers", "status"] {
            if field(name).is_none() {
                failures.push(format!("{code}.json: no _meta.{name}"));
            }
        }
        if !matches!(field("dir"), Some("ltr" | "rtl")) {
            failures.push(format!("{code}.json: _meta.dir is not \"ltr\" or \"rtl\""));
        }
    }
    let urdu = catalogs().remove("ur").expect("ur.json");
    assert_eq!(urdu["_meta"]["dir"], "rtl", "Urdu is written right to left");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_language_switch_lists_every_catalog_with_its_direction() {
    let list: Value = serde_json::from_str(&read(&www().join("i18n/languages.json")))
        .expect("www/i18n/languages.json is JSON");
    let list = list.as_array().expect("a list of languages");
    assert_eq!(list[0]["code"], "en", "English first: the default");
    let catalogs = catalogs();
    let listed: BTreeSet<&str> = list.iter().filter_map(|l| l["code"].as_str()).collect();
    let files: BTreeSet<&str> = catalogs.keys().map(String::as_str).collect();
    assert_eq!(listed, files, "languages.json and the files in www/i18n/");
    for language in list {
        let code = language["code"].as_str().unwrap();
        assert!(
            language["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{code}: no name in languages.json"
        );
        assert_eq!(
            language["dir"], catalogs[code]["_meta"]["dir"],
            "{code}: the direction in languages.json and in its catalog"
        );
    }
}

/// An element of a page as the scanner saw it.
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
    has_children: bool,
}

const VOID: &[&str] = &["meta", "link", "img", "input", "br", "hr", "source", "wbr"];
const VISIBLE_ATTRIBUTES: &[&str] = &["alt", "title", "aria-label", "placeholder"];

fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag.trim_end_matches('/').trim();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
            let (v, r) = match quote {
                Some(q) => {
                    let close = after[1..].find(q).expect("attribute closed") + 1;
                    (&after[1..close], &after[close + 1..])
                }
                None => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = v.to_owned();
            rest = r.trim_start();
        }
        if !name.is_empty() {
            out.insert(name, value);
        }
    }
    out
}

/// Every element of an HTML document with its own text (not its children's), for pages written
/// as ours are: comments, doctype, scripts and styles are skipped.
fn elements(html: &str) -> Vec<Element> {
    let mut done = Vec::new();
    let mut open: Vec<Element> = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if let Some(top) = open.last_mut() {
                top.text.push_str(rest);
            }
            break;
        };
        if let Some(top) = open.last_mut() {
            top.text.push_str(&rest[..lt]);
        }
        rest = &rest[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = &comment[comment.find("-->").expect("comment closed") + 3..];
            continue;
        }
        let gt = rest.find('>').expect("tag closed");
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            while let Some(element) = open.pop() {
                let found = element.name == name;
                done.push(element);
                if found {
                    break;
                }
            }
            continue;
        }
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = tag[..name_end].trim_end_matches('/').to_ascii_lowercase();
        let mut attributes = attributes(&tag[name_end..]);
        // `translate` is inherited: an element inside a translate="no" one is not translated.
        if open
            .iter()
            .any(|e| e.attributes.get("translate").is_some_and(|v| v == "no"))
        {
            attributes
                .entry("translate".to_owned())
                .or_insert_with(|| "no".to_owned());
        }
        if let Some(parent) = open.last_mut() {
            parent.has_children = true;
        }
        let element = Element {
            name: name.clone(),
            attributes,
            text: String::new(),
            has_children: false,
        };
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            rest = &rest[rest.find(&close).expect("script closed") + close.len()..];
            done.push(element);
        } else if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            done.push(element);
        } else {
            open.push(element);
        }
    }
    done.extend(open);
    done
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_letters(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

#[test]
fn every_visible_text_of_the_pages_is_marked_for_translation() {
    let mut failures = Vec::new();
    for (page, html) in pages("html") {
        for e in elements(&html) {
            let translated = e.attributes.contains_key("data-i18n")
                || e.attributes.get("translate").is_some_and(|v| v == "no");
            if has_letters(&e.text) && !translated {
                failures.push(format!("{page}: <{}> “{}”", e.name, normalized(&e.text)));
            }
            if e.attributes.contains_key("data-i18n") && e.has_children {
                failures.push(format!(
                    "{page}: <{}> has data-i18n and child elements, which its text would erase",
                    e.name
                ));
            }
            let mut visible: Vec<&str> = VISIBLE_ATTRIBUTES.to_vec();
            if e.name == "meta" && e.attributes.get("name").is_some_and(|n| n == "description") {
                visible.push("content");
            }
            for attribute in visible {
                let shown = e.attributes.get(attribute).is_some_and(|v| has_letters(v));
                if shown && !e.attributes.contains_key(&format!("data-i18n-{attribute}")) {
                    failures.push(format!(
                        "{page}: <{}> {attribute}=… without data-i18n-{attribute}",
                        e.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_english_text_of_the_pages_is_the_english_catalog() {
    let english = english();
    let mut failures = Vec::new();
    for (page, html) in pages("html") {
        for e in elements(&html) {
            let mut pairs = Vec::new();
            if let Some(key) = e.attributes.get("data-i18n") {
                pairs.push((key.clone(), e.text.clone()));
            }
            for (name, key) in &e.attributes {
                if let Some(attribute) = name.strip_prefix("data-i18n-") {
                    if attribute != "args" {
                        let value = e.attributes.get(attribute).cloned().unwrap_or_default();
                        pairs.push((key.clone(), value));
                    }
                }
            }
            for (key, text) in pairs {
                let Some(message) = english.get(&key).and_then(Value::as_str) else {
                    failures.push(format!("{page}: key {key} is not in en.json"));
                    continue;
                };
                let text = normalized(&text);
                if !text.is_empty() && text != normalized(message) {
                    failures.push(format!("{page}: {key} reads “{text}”, en.json “{message}”"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The string literals of a script (the literal parts of template strings one by one),
/// skipping comments and regular expressions.
fn string_literals(script: &str) -> Vec<String> {
    let chars: Vec<char> = script.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    scan_code(&chars, &mut i, &mut out, false);
    out
}

/// Scans code from `i`; inside `${…}` (`nested`) it returns at the closing brace.
fn scan_code(chars: &[char], i: &mut usize, out: &mut Vec<String>, nested: bool) {
    let mut depth = 0usize;
    let mut previous = None::<char>;
    while *i < chars.len() {
        let c = chars[*i];
        let next = chars.get(*i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while *i < chars.len() && chars[*i] != '\n' {
                    *i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                *i += 2;
                while *i + 1 < chars.len() && !(chars[*i] == '*' && chars[*i + 1] == '/') {
                    *i += 1;
                }
                *i += 2;
                continue;
            }
            '/' if previous.is_none_or(|p| "(,=:[!&|?{};+-*%<>~^".contains(p)) => {
                // A regular expression: up to its unescaped closing slash outside a class.
                *i += 1;
                let mut class = false;
                while *i < chars.len() {
                    match chars[*i] {
                        '\\' => *i += 1,
                        '[' => class = true,
                        ']' => class = false,
                        '/' if !class => break,
                        _ => {}
                    }
                    *i += 1;
                }
            }
            '"' | '\'' => {
                let mut literal = String::new();
                *i += 1;
                while *i < chars.len() && chars[*i] != c {
                    if chars[*i] == '\\' {
                        *i += 1;
                    }
                    literal.push(chars[*i]);
                    *i += 1;
                }
                out.push(literal);
            }
            '`' => {
                let mut literal = String::new();
                *i += 1;
                while *i < chars.len() && chars[*i] != '`' {
                    if chars[*i] == '\\' {
                        *i += 1;
                        literal.push(chars[*i]);
                    } else if chars[*i] == '$' && chars.get(*i + 1) == Some(&'{') {
                        out.push(std::mem::take(&mut literal));
                        *i += 2;
                        scan_code(chars, i, out, true);
                    } else {
                        literal.push(chars[*i]);
                    }
                    *i += 1;
                }
                out.push(literal);
            }
            '{' => depth += 1,
            '}' if nested && depth == 0 => return,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !c.is_whitespace() {
            previous = Some(c);
        }
        *i += 1;
    }
}

/// Prose: two words of two letters or more with one space between them ("reference sites",
/// not "1rem auto"), or a capitalised word ("Cancel", not "AS" or "HTTP").
fn is_prose(literal: &str) -> bool {
    let chars: Vec<char> = literal.chars().collect();
    // Runs of letters as (start, end), with what touches them.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    let digit_at = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(char::is_ascii_digit)
    };
    let two_words = words.windows(2).any(|pair| {
        let ((s1, e1), (s2, e2)) = (pair[0], pair[1]);
        e1 - s1 >= 2
            && e2 - s2 >= 2
            && s2 == e1 + 1
            && chars[e1] == ' '
            && !digit_at(s1.checked_sub(1))
            && !digit_at(Some(e2))
    });
    let trimmed: Vec<char> = literal.trim().chars().collect();
    let first: Vec<char> = trimmed
        .iter()
        .copied()
        .take_while(|c| c.is_alphabetic())
        .collect();
    let capitalised =
        first.len() >= 3 && first[0].is_uppercase() && first[1..].iter().all(|c| c.is_lowercase());
    two_words || capitalised
}

#[test]
fn the_scripts_hold_no_prose_of_their_own() {
    let mut failures = Vec::new();
    for (script, source) in pages("js") {
        for literal in string_literals(&source) {
            if is_prose(&literal) {
                failures.push(format!("{script}: “{literal}”"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_prose_rule_catches_words_and_leaves_code() {
    for prose in [
        "Cancel",
        "Preparing…",
        "median time ",
        "reference sites",
        "Thank you. ",
    ] {
        assert!(is_prose(prose), "{prose:?} is prose");
    }
    for code in [
        "netreach:height",
        "0 0 ",
        "HTTP ",
        "1rem auto",
        "a[data-keep-lang]",
        "megabit-per-second",
        " · ",
        "reason.",
        "AS",
    ] {
        assert!(!is_prose(code), "{code:?} is code");
    }
    let found = string_literals(
        "// \"a comment\"\nconst a = /[\"']x/g; t(`Hello ${n ? \"big world\" : x} there`);",
    );
    assert_eq!(found, ["Hello ", "big world", " there"]);
}

#[test]
fn every_key_the_pages_use_is_in_english_and_every_english_key_is_used() {
    let english = english();
    let keys: BTreeSet<&str> = messages(&english).into_keys().collect();
    let mut used = BTreeSet::new();
    for (_, html) in pages("html") {
        for e in elements(&html) {
            for (name, value) in &e.attributes {
                if name == "data-i18n"
                    || (name.starts_with("data-i18n-") && name != "data-i18n-args")
                {
                    used.insert(value.clone());
                }
            }
        }
    }
    // A key looks like `consent.risk`; a file name (`embed.html`) does not count.
    let is_key = |s: &str| {
        s.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && !["html", "js", "json", "css", "svg"].contains(&b)
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        })
    };
    for (_, source) in pages("js") {
        used.extend(string_literals(&source).into_iter().filter(|l| is_key(l)));
    }
    let mut failures: Vec<String> = used
        .iter()
        .filter(|k| !keys.contains(k.as_str()))
        .map(|k| format!("{k} is used but not in en.json"))
        .collect();
    // Verdicts and reasons are looked up by their wire names (tests/page_explanations.rs).
    for key in &keys {
        let by_name = key.starts_with("verdict.") || key.starts_with("reason.");
        if !by_name && !used.contains(*key) {
            failures.push(format!("{key} is in en.json but no page uses it"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
