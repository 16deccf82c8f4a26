import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes, so the server serves one page and a sign-in link can carry the token in
 * the fragment (never sent to the server, never logged):
 *   #/chats  #/chats/12  #/webhooks  #/webhooks/events/<event id>
 */
export type Route =
  | { view: "chats"; chatId: number | null }
  | { view: "webhooks"; eventId: string | null };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] === "webhooks") {
    return { view: "webhooks", eventId: parts[1] === "events" && parts[2] ? decodeURIComponent(parts[2]) : null };
  }
  const chatId = parts[0] === "chats" && parts[1] ? Number(parts[1]) : NaN;
  return { view: "chats", chatId: Number.isInteger(chatId) && chatId > 0 ? chatId : null };
}

export function hrefFor(route: Route): string {
  if (route.view === "webhooks") return route.eventId ? `#/webhooks/events/${encodeURIComponent(route.eventId)}` : "#/webhooks";
  return route.chatId ? `#/chats/${route.chatId}` : "#/chats";
}

export function navigate(route: Route): void {
  const href = hrefFor(route);
  if (location.hash !== href) location.hash = href;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
