// A newsroom's page built on the engine with a bundler: it imports the package by name and
// uses every declared type and function. tests/typescript.rs type-checks it with
// `tsc --strict` against the package's package.json and netreach.d.ts.
import init, {
  initSync,
  run,
  submit,
  validate,
  type Attempt,
  type Browser,
  type Campaign,
  type Client,
  type Condition,
  type Endpoint,
  type EndpointResult,
  type InitInput,
  type Os,
  type Outcome,
  type Platform,
  type PlatformResult,
  type ProbeKind,
  type Progress,
  type Reason,
  type Report,
  type RunOptions,
  type Schema,
  type SubmitAnswer,
  type SubmitError,
  type Verdict,
} from "netreach";

const kind: ProbeKind = "image";
const control: Endpoint = { url: "https://cdnjs.cloudflare.com/favicon.ico", kind };
const x: Platform = {
  id: "x",
  name: "X (Twitter)",
  endpoints: [{ url: "https://abs.twimg.com/favicons/twitter.3.ico", kind: "image", bytes: null }],
};
const campaign: Campaign = {
  id: "newsroom",
  controls: [control],
  platforms: [x],
  trials: 3,
  collector: "https://netreach.example/v1/reports",
};

function shown(event: Progress): string {
  const outcome: Outcome = event.outcome;
  return `${event.done}/${event.total} ${event.platform ?? "control"} ${event.url} ${outcome}`;
}

function summary(report: Report): string[] {
  const schema: Schema = report.schema;
  const client: Client = report.client;
  const browser: Browser = client.browser;
  const os: Os = client.os;
  const conditions: Condition[] = report.conditions ?? [];
  const lines = [`${schema} ${browser} ${client.version} ${os} ${conditions.join(",")}`];
  for (const platform of report.platforms) {
    const result: PlatformResult = platform;
    const verdict: Verdict = result.verdict;
    const reason: Reason = result.reason;
    const attempts: Attempt[] = result.endpoints.flatMap((e: EndpointResult) => e.attempts);
    const slow = attempts.filter((a) => a.outcome === "ok" && (a.duration_ms ?? a.ms) > 3000);
    lines.push(`${result.id} ${verdict} (${reason}), ${slow.length} slow, ${result.kbps ?? "?"} kbit/s`);
  }
  return lines;
}

export async function measure(wasm: InitInput): Promise<string[]> {
  await init({ module_or_path: wasm });
  const fromJson: unknown = JSON.parse(JSON.stringify(campaign));
  validate(fromJson); // narrows `fromJson` to Campaign
  const controller = new AbortController();
  const options: RunOptions = { onProgress: (event) => console.log(shown(event)), signal: controller.signal };
  const report: Report = await run(fromJson, options);
  if (report.platforms.some((p) => p.verdict === "blocked") && fromJson.collector) {
    try {
      const answer: SubmitAnswer = await submit(report, fromJson.collector);
      console.log(`stored as ${answer.id}`);
    } catch (error) {
      const status = (error as SubmitError).status;
      console.log(status === 0 || status >= 500 ? "keep it for later" : "refused");
    }
  }
  return summary(report);
}

export function measureInWorker(bytes: ArrayBuffer): Promise<Report> {
  initSync({ module: bytes });
  return run(campaign);
}
