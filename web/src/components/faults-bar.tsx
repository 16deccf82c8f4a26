import { useEffect, useState } from "preact/hooks";
import { api, type Fault } from "../api.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";

/** What a fault does, in a few words: "429 (Retry-After 1 s) after 200 ms, 1 of 3 left, 50 %". */
function describeFault(fault: Fault): string {
  const parts: string[] = [];
  if (fault.status !== null) parts.push(fault.retry_after !== null ? `${fault.status} (Retry-After ${fault.retry_after} s)` : String(fault.status));
  if (fault.latency_ms > 0) parts.push(`${fault.status !== null ? "after " : "+"}${fault.latency_ms} ms`);
  if (fault.count !== null) parts.push(`${fault.count - fault.hits} of ${fault.count} left`);
  if (fault.fraction < 1) parts.push(`${Math.round(fault.fraction * 100)} % of requests`);
  if (fault.token_id !== null) parts.push(`token #${fault.token_id}`);
  return parts.join(", ");
}

/**
 * Shown on every view while the API is misbehaving on purpose, so nobody debugs an
 * injected 503 as a real one; each fault has its own one-click off.
 */
export function FaultsBar() {
  const [faults, setFaults] = useState<Fault[]>([]);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatestRequest();
  const load = () =>
    latest(
      api.faults(),
      (list) => {
        setFaults(list.filter((f) => f.active));
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(load, []);
  useActivityRefresh((a) => a.kind === "fault", load);

  const off = (id: number) =>
    api.deleteFault(id).then(load, (e: unknown) => setError((e as Error).message));
  const allOff = () => api.deleteAllFaults().then(load, (e: unknown) => setError((e as Error).message));

  if (faults.length === 0 && !error) return null;
  return (
    <section class="faults-bar" aria-label="Injected faults">
      <strong class="faults-title">
        {faults.length === 1 ? "1 injected fault" : `${faults.length} injected faults`}
      </strong>
      <ul class="faults-list">
        {faults.map((fault) => (
          <li class="fault" key={fault.id}>
            <code>
              {fault.method} {fault.path}
            </code>{" "}
            → {describeFault(fault)} <span class="muted">· hit {fault.hits}×</span>{" "}
            <button type="button" class="link-button" onClick={() => off(fault.id)} aria-label={`Turn fault ${fault.id} off`}>
              Off
            </button>
          </li>
        ))}
      </ul>
      {faults.length > 1 && (
        <button type="button" class="link-button" onClick={allOff}>
          All off
        </button>
      )}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </section>
  );
}
