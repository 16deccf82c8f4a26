import { readFileSync } from "node:fs";

/**
 * `openlinq doctor`: asks a running openlinq (POST /openlinq/v1/signature/check) how what
 * your receiver computed differs from what openlinq signed, and prints the findings. Exit
 * code 0 when the signature is right (or none was given), 1 when it differs, 2 on misuse.
 */

export const DOCTOR_USAGE = `openlinq doctor --event <event id> [--signature S] [--compared-with S] [--secret S]
                [--timestamp T] [--body-file FILE | --body TEXT] [--scheme v2|standard|legacy]
                [--attempt ID] [--api http://localhost:4010] [--token T]
  Compares what your webhook receiver computed with what openlinq signed in that event's
  newest signed attempt. Token from --token or OPENLINQ_TOKEN.`;

export interface DoctorOptions {
  api: string;
  token: string | undefined;
  event: string | undefined;
  attempt: string | undefined;
  signature: string | undefined;
  comparedWith: string | undefined;
  secret: string | undefined;
  timestamp: string | undefined;
  body: string | undefined;
  bodyFile: string | undefined;
  scheme: string | undefined;
}

interface CheckAnswer {
  verdict: string;
  scheme: string | null;
  reproduced: boolean;
  attempt_id: number;
  findings: { code: string; severity: string; message: string }[];
  expected: Record<string, string>;
}

const MARKS: Record<string, string> = { ok: "ok  ", problem: "FIX ", hint: "note" };

export async function runDoctor(options: DoctorOptions, out: (line: string) => void = console.log): Promise<number> {
  if (!options.event || !options.token) {
    out(`openlinq doctor needs --event and a token (--token or OPENLINQ_TOKEN)\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  // Raw bytes as text: a receiver hashes the body's UTF-8 bytes, so that is what is compared.
  const body = options.bodyFile !== undefined ? readFileSync(options.bodyFile, "utf8") : options.body;
  const request = {
    event_id: options.event,
    ...(options.attempt !== undefined ? { attempt_id: Number(options.attempt) } : {}),
    ...(options.signature !== undefined ? { signature: options.signature } : {}),
    ...(options.comparedWith !== undefined ? { compared_with: options.comparedWith } : {}),
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(options.scheme !== undefined ? { scheme: options.scheme } : {}),
  };
  let response: Response;
  try {
    response = await fetch(new URL("/openlinq/v1/signature/check", options.api), {
      method: "POST",
      headers: { "content-type": "application/json", "x-linq-integration-token": options.token },
      body: JSON.stringify(request),
    });
  } catch (error) {
    out(`cannot reach openlinq at ${options.api}: ${(error as Error).message}`);
    return 2;
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      detail = (JSON.parse(text) as { errors: { detail: string }[] }).errors[0]!.detail;
    } catch {
      // Not our envelope: print it as it came.
    }
    out(`openlinq answered ${response.status}: ${detail}`);
    return 2;
  }
  const answer = JSON.parse(text) as CheckAnswer;
  out(
    `event ${options.event}, attempt ${answer.attempt_id}: ${answer.verdict}` +
      (answer.scheme ? ` (${answer.scheme}${answer.reproduced ? "" : ", not reproduced"})` : ""),
  );
  for (const finding of answer.findings) out(`  ${MARKS[finding.severity] ?? finding.severity} ${finding.message}`);
  out("openlinq signed:");
  for (const [scheme, value] of Object.entries(answer.expected)) out(`  ${scheme.padEnd(8)} ${value}`);
  return answer.verdict === "mismatch" ? 1 : 0;
}
