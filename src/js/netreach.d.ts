// TypeScript declarations of the netreach engine's JavaScript API (the package www/pkg,
// built by `cargo xtask build`): the campaign it runs, the options and progress events of a
// run, the report it resolves with (schema netreach.report/1) and the functions the glue
// exports. Hand-written from src/api.rs, src/campaign.rs, src/report.rs and
// src/vocabulary.rs; tests/typescript.rs checks them with tsc against the vocabulary's lists
// and against reports and campaigns serialized by the engine's own types.

// The vocabulary (src/vocabulary.rs): every wire name, one union per list.

/** The verdict for one platform (these five names are fixed). */
export type Verdict = "reachable" | "throttled" | "partial" | "blocked" | "inconclusive";

/** Why a verdict was given. */
export type Reason =
  | "endpoints_loaded"
  | "low_throughput"
  | "high_latency"
  | "some_endpoints_failed"
  | "intermittent_failures"
  | "endpoints_timeout"
  | "endpoints_error"
  | "endpoints_failed"
  | "controls_failed"
  | "controls_unstable"
  | "cancelled"
  | "page_hidden"
  | "cross_origin_isolated"
  | "csp_violation"
  | "too_few_attempts"
  | "refused_by_browser";

/** How one attempt ended; `unusable`: the host answered, the object was unusable. */
export type Outcome = "ok" | "timeout" | "error" | "unusable";

/** How an endpoint is probed: a `no-cors` fetch, or an `<img>` load. */
export type ProbeKind = "fetch" | "image";

/** Circumstances of a run under which a failed probe says nothing about censorship. */
export type Condition = "cancelled" | "page_hidden" | "cross_origin_isolated" | "csp_violation";

/** The browser family a report names (never the user-agent string). */
export type Browser = "chrome" | "firefox" | "safari" | "edge" | "opera" | "samsung" | "other";

/** The operating-system family a report names. */
export type Os = "windows" | "macos" | "ios" | "android" | "linux" | "chromeos" | "other";

/** The report schema this package produces. */
export type Schema = "netreach.report/1";

// The campaign (src/campaign.rs): what to measure. `run` and `validate` check it in full
// (https:// URLs, 1 to 64 platforms, 1 to 16 endpoints each, 1 to 10 trials) and name the
// field at fault.

/** One URL to probe. */
export interface Endpoint {
  url: string;
  kind: ProbeKind;
  /** Expected size in bytes of a larger object, for throughput. */
  bytes?: number | null;
  /** `false`: fetch exactly as written, without the cache-busting query (default `true`). */
  bust?: boolean;
}

/** A platform: its main site and its CDNs. */
export interface Platform {
  id: string;
  name: string;
  endpoints: Endpoint[];
}

/** What to measure and where reports go. */
export interface Campaign {
  id: string;
  /** Well-known sites that tell a block from being offline. */
  controls: Endpoint[];
  platforms: Platform[];
  /** Attempts per endpoint, 1 to 10 (default 3). */
  trials?: number;
  /** Where `submit` sends reports (after consent); none: nothing is ever sent. */
  collector?: string | null;
  // The descriptor (OONI Run v2's names): the engine ignores these; the collector checks
  // them (collector/src/campaigns/descriptor.rs) and the page shows them.
  /** The display name. */
  name?: string;
  /** Translations by language code (`ur`, `pt-BR`). */
  name_intl?: Record<string, string>;
  short_description?: string;
  short_description_intl?: Record<string, string>;
  description?: string;
  description_intl?: Record<string, string>;
  author?: string;
  /** An icon id: letters, digits, `-` and `_`. */
  icon?: string;
  /** `#RRGGBB`. */
  color?: string;
  /** 1 and up: the collector bumps it when what is measured changes. */
  revision?: number;
  /** UTC date-times. */
  date_created?: string;
  date_updated?: string;
  /** From then on the campaign is not run and its reports are refused. */
  expiration_date?: string;
}

// A run (src/api.rs).

/** One finished attempt, as `options.onProgress` receives it. */
export interface Progress {
  /** Attempts finished so far, this one included. */
  done: number;
  /** Attempts the run will make. */
  total: number;
  /** The platform probed; absent for a control. */
  platform?: string;
  url: string;
  outcome: Outcome;
}

/** The options of `run`. */
export interface RunOptions {
  /** Called after every attempt; a callback that throws does not stop the run. */
  onProgress?: ((event: Progress) => void) | null;
  /** Aborting it cancels the run: it resolves with every verdict `inconclusive`. */
  signal?: AbortSignal | null;
}

// The report (src/report.rs): anonymized, as the collector stores it.

/** One timed attempt. */
export interface Attempt {
  outcome: Outcome;
  /** Time to the answer (fetch: headers; image: decoded), or to the failure. */
  ms: number;
  /** Whole-transfer time from Resource Timing, when its entry arrived. */
  duration_ms?: number;
  /** Bytes transferred, for endpoints that declare their size. */
  bytes?: number;
  /** Present (true) when the page was hidden during the attempt. */
  hidden?: boolean;
}

/** The attempts against one endpoint or control. */
export interface EndpointResult {
  /** The URL as in the campaign (without the cache-busting query). */
  url: string;
  kind: ProbeKind;
  attempts: Attempt[];
}

/** One platform's verdict and the evidence for it. */
export interface PlatformResult {
  id: string;
  verdict: Verdict;
  reason: Reason;
  /** Median time of successful attempts. */
  median_ms?: number;
  /** Lowest median throughput among endpoints that declare `bytes`, in kbit/s. */
  kbps?: number;
  endpoints: EndpointResult[];
}

/** The visitor's browser, as coarse as is still useful. */
export interface Client {
  browser: Browser;
  /** Major version only; 0 when unknown. */
  version: number;
  os: Os;
}

/** A finished (or cancelled) run. */
export interface Report {
  schema: Schema;
  campaign: string;
  /** Set by the collector on stored reports: the campaign revision they were checked against. */
  campaign_revision?: number;
  /** UTC, rounded down to the hour: `2026-11-22T21:00:00.000Z`. */
  started_at: string;
  runtime_ms: number;
  client: Client;
  /** Present when not empty. */
  conditions?: Condition[];
  controls: EndpointResult[];
  platforms: PlatformResult[];
}

/** What a netreach collector answers to a stored report. */
export interface SubmitAnswer {
  /** The report's id: an integer in 1 … 2^53 − 1. */
  id: number;
}

/** How `submit` rejects. */
export interface SubmitError extends Error {
  /** The collector's HTTP status; 0 when no answer came (offline, blocked, network error). */
  status: number;
}

// The functions the glue (netreach.js) exports.

/**
 * Runs a campaign in this browser and resolves with its report. Nothing is probed before the
 * campaign is found valid. Rejects with an `Error` naming the field of an invalid campaign,
 * for options of the wrong type, or when `options.signal` is already aborted.
 */
export function run(campaign: Campaign, options?: RunOptions | null): Promise<Report>;

/** Checks a campaign without probing anything; throws the `Error` that `run` would reject with. */
export function validate(campaign: unknown): asserts campaign is Campaign;

/**
 * Sends a report (what `run` resolved with) to a collector, as the visitor asked. Rejects
 * with a `SubmitError`.
 */
export function submit(report: Report, collectorUrl: string): Promise<SubmitAnswer>;

/** What the engine's module can be loaded from. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/**
 * Loads the engine; call it once before `run`. Without an argument it fetches
 * `netreach_bg.wasm` next to `netreach.js`; a bundler or a page with Subresource Integrity
 * passes the module (or its fetch) as `module_or_path`. Resolves with the module's raw
 * exports, which are not part of the API.
 */
export default function init(options?: {
  module_or_path: InitInput | Promise<InitInput>;
}): Promise<WebAssembly.Exports>;

/** Loads the engine synchronously from its bytes or a compiled module (Node.js, workers). */
export function initSync(options: { module: BufferSource | WebAssembly.Module }): WebAssembly.Exports;
