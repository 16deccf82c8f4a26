import { useEffect, useState } from "preact/hooks";
import { api, type DeliveryScenario } from "../api.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { hrefFor } from "../router.ts";

/** What an armed scenario will do, in a few words: "message_failed (code 4005)", "delayed_delivery (3000 ms)". */
function describeScenario(scenario: DeliveryScenario): string {
  if (scenario.code !== null) return `${scenario.kind} (code ${scenario.code})`;
  if (scenario.kind === "delayed_delivery" || scenario.kind === "out_of_order") return `${scenario.kind} (${scenario.delay_ms} ms)`;
  return scenario.kind;
}

/**
 * Shown on every view while a delivery scenario waits for its chat's next message or event,
 * so nobody takes an injected failure or duplicate for a real one; each has a one-click off.
 * Applied ones show in the Webhooks view, on the events they made or shaped.
 */
export function ScenariosBar() {
  const [armed, setArmed] = useState<DeliveryScenario[]>([]);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatestRequest();
  const load = () =>
    latest(
      api.scenarios(),
      (list) => {
        setArmed(list.filter((s) => s.status === "armed"));
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(load, []);
  // Arming and disarming say "scenario"; applying happens with a message or an event.
  useActivityRefresh((a) => a.kind === "scenario" || a.kind === "event" || a.kind === "message", load);

  const off = (id: number) => api.deleteScenario(id).then(load, (e: unknown) => setError((e as Error).message));

  if (armed.length === 0 && !error) return null;
  return (
    <section class="faults-bar scenarios-bar" aria-label="Armed delivery scenarios">
      <strong class="faults-title">{armed.length === 1 ? "1 armed delivery scenario" : `${armed.length} armed delivery scenarios`}</strong>
      <ul class="faults-list">
        {armed.map((scenario) => (
          <li class="scenario" key={scenario.id}>
            <code>{describeScenario(scenario)}</code> on the next {scenario.kind.endsWith("_delivery") || scenario.kind === "out_of_order" ? "event" : "message"} of{" "}
            <a href={hrefFor({ view: "chats", chatId: scenario.chat_id })}>chat {scenario.chat_id}</a>{" "}
            <button type="button" class="link-button" onClick={() => off(scenario.id)} aria-label={`Turn scenario ${scenario.id} off`}>
              Off
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </section>
  );
}
