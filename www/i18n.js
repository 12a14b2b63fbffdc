// The visitor's language for the page, the embed and the dashboard. Catalogs are files of this
// site (i18n/<code>.json, listed in i18n/languages.json): nothing is fetched from anywhere
// else. The language comes from ?lang=, else the browser's preferences, else English; the
// <select id="lang"> switches it and keeps the choice in the address.
//
// Markup: data-i18n="key" sets an element's text (such an element has no child elements, so
// nothing is lost), data-i18n-args='{"name": value}' fills its {name} placeholders, and
// data-i18n-<attribute>="key" sets that attribute (alt, title, aria-label, content).
// tests/page_languages.rs checks the catalogs and that no visible text is left out.

const FALLBACK = "en";
const ATTRIBUTES = ["alt", "title", "aria-label", "content", "placeholder"];

let languages = [{ code: FALLBACK, name: FALLBACK, dir: "ltr" }];
let english = {};
let chosen = {};
let code = FALLBACK;
let locale = FALLBACK;
const listeners = [];

function json(path) {
  return fetch(new URL(path, import.meta.url), { credentials: "omit" }).then((response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${path}`);
    return response.json();
  });
}

/** The first of the visitor's languages with a catalog: ?lang=, then the browser's list. */
function pick(available) {
  const has = (tag) => available.find((l) => l.code === tag);
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && has(asked.toLowerCase())) return asked.toLowerCase();
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (has(primary)) return primary;
  }
  return FALLBACK;
}

/** The locale for numbers and dates: the browser's own tag for the chosen language when it has
 *  one (en-GB, fa-IR), so the visitor's region decides the formats. */
function localeFor(lang) {
  const own = (navigator.languages || []).find((tag) => String(tag).toLowerCase().split("-")[0] === lang);
  try {
    return Intl.getCanonicalLocales(own || lang)[0];
  } catch {
    return lang;
  }
}

/** The message of `key` in the visitor's language (English when the catalog lacks it), with
 *  its {placeholders} filled from `args` (numbers in the visitor's locale). */
export function t(key, args = {}) {
  return format(chosen[key] ?? english[key] ?? key, args, locale);
}

/**
 * Fills `message` for `locale`. A message with a count is an object of plural forms, one per
 * CLDR category the language has ({"one": "{n} report", "other": "{n} reports"}; Arabic has
 * six, Russian four): the form is chosen by Intl.PluralRules from the argument `n`, so "1
 * reports" cannot be said. Pure, for tests/page_languages.rs.
 */
export function format(message, args = {}, locale = FALLBACK) {
  let text = message;
  if (message && typeof message === "object") {
    const form = typeof args.n === "number" ? new Intl.PluralRules(locale).select(args.n) : "other";
    text = message[form] ?? message.other ?? "";
  }
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in args)) return whole;
    if (typeof args[name] !== "number") return String(args[name]);
    return new Intl.NumberFormat(locale).format(args[name]);
  });
}

/** Puts message `key` into `element` and remembers it, so a change of language redraws it. */
export function say(element, key, args) {
  element.dataset.i18n = key;
  if (args) element.dataset.i18nArgs = JSON.stringify(args);
  else delete element.dataset.i18nArgs;
  element.textContent = t(key, args);
}

export function number(value, options) {
  return new Intl.NumberFormat(locale, options).format(value);
}

export function percent(part, total) {
  return total ? number(part / total, { style: "percent", maximumFractionDigits: 0 }) : "";
}

export function dateTime(value, options) {
  return new Intl.DateTimeFormat(locale, options).format(value);
}

/** Items joined as the visitor's language joins a list ("a, b, c"; "a، b، c"; "a, b y c"). */
export function list(items) {
  return new Intl.ListFormat(locale, { type: "conjunction", style: "narrow" }).format(items);
}

/** A country's name in the visitor's language, from its ISO code. */
export function country(cc) {
  try {
    return new Intl.DisplayNames(locale, { type: "region" }).of(cc) || cc;
  } catch {
    return cc;
  }
}

/** The catalog's language code (`ur`, `fa`, `en`…), for texts that carry their own translations. */
export function currentLanguage() {
  return code;
}

export function currentLocale() {
  return locale;
}

/** Calls `redraw` after every change of language (for text that is computed, not marked). */
export function onChange(redraw) {
  listeners.push(redraw);
}

function apply(root = document) {
  const html = document.documentElement;
  const meta = languages.find((l) => l.code === code) || languages[0];
  html.lang = code;
  html.dir = meta.dir;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    const args = element.dataset.i18nArgs ? JSON.parse(element.dataset.i18nArgs) : undefined;
    element.textContent = t(element.dataset.i18n, args);
  }
  for (const name of ATTRIBUTES) {
    for (const element of root.querySelectorAll(`[data-i18n-${name}]`)) {
      element.setAttribute(name, t(element.getAttribute(`data-i18n-${name}`)));
    }
  }
  for (const link of root.querySelectorAll("a[data-keep-lang]")) {
    const url = new URL(link.getAttribute("href"), location.href);
    if (code === FALLBACK) url.searchParams.delete("lang");
    else url.searchParams.set("lang", code);
    link.href = url.href;
  }
  for (const redraw of listeners) redraw();
}

async function use(lang) {
  chosen = lang === FALLBACK ? english : await json(`i18n/${lang}.json`).catch(() => english);
  code = chosen === english ? FALLBACK : lang;
  locale = localeFor(code);
  apply();
}

function fillSwitch() {
  const select = document.getElementById("lang");
  if (!select) return;
  select.replaceChildren(
    ...languages.map((l) => {
      const option = document.createElement("option");
      option.value = l.code;
      option.lang = l.code;
      option.dir = l.dir;
      option.textContent = l.name;
      return option;
    }),
  );
  select.value = code;
  select.addEventListener("change", async () => {
    const url = new URL(location.href);
    url.searchParams.set("lang", select.value);
    history.replaceState(history.state, "", url);
    await use(select.value);
    select.value = code;
  });
}

/** Loads the list and the catalogs and translates the document. Never rejects: without the
 *  catalogs the page keeps its English text. */
export async function start() {
  try {
    languages = await json("i18n/languages.json");
    const lang = pick(languages);
    english = await json(`i18n/${FALLBACK}.json`);
    await use(lang);
  } catch (error) {
    console.warn(error);
  }
  fillSwitch();
}
