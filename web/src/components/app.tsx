import { useEffect, useState } from "preact/hooks";
import { ApiError, api, setToken, type Session } from "../api.ts";
import { connectLive, disconnectLive, onLiveStatus, type LiveStatus } from "../live.ts";
import { hrefFor, useRoute } from "../router.ts";
import { cacheSession, cachedSession, forgetSession, forgetToken, storeToken, storedToken } from "../session.ts";
import { ChatsView } from "./chats-view.tsx";
import { FaultsBar } from "./faults-bar.tsx";
import { ScenariosBar } from "./scenarios-bar.tsx";
import { SignIn } from "./sign-in.tsx";
import { WebhooksView } from "./webhooks-view.tsx";

export function App() {
  const [token, setTokenState] = useState<string | null>(() => {
    // Before any child renders: their first requests already carry the token.
    const stored = storedToken();
    setToken(stored);
    return stored;
  });
  // A cached session paints at once; the check below confirms (or refuses) the token meanwhile.
  const [session, setSession] = useState<Session | null>(() => cachedSession<Session>(token));
  const [signInError, setSignInError] = useState<string | null>(null);
  const [checking, setChecking] = useState(token !== null);

  const signOut = (reason: string | null = null) => {
    forgetToken();
    forgetSession();
    setToken(null);
    disconnectLive();
    setSession(null);
    setTokenState(null);
    setSignInError(reason);
  };

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    setToken(token);
    setChecking(true);
    if (session) connectLive(token);
    api
      .session()
      .then((s) => {
        if (cancelled) return;
        storeToken(token);
        cacheSession(token, s);
        setSession(s);
        setSignInError(null);
        if (!session) connectLive(token);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.status === 401) signOut("That token is not valid here.");
        else setSignInError(error instanceof Error ? error.message : String(error));
      })
      .finally(() => !cancelled && setChecking(false));
    return () => {
      cancelled = true;
    };
  }, [token]);

  if (!session) {
    return (
      <SignIn
        busy={checking}
        error={signInError}
        onSubmit={(value) => {
          setSignInError(null);
          setTokenState(value);
        }}
      />
    );
  }
  return <Shell session={session} onSignOut={() => signOut()} />;
}

function LiveBadge() {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  useEffect(() => onLiveStatus(setStatus), []);
  const label = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span class={`live live-${status}`} role="status" title="Updates arrive without reloading while this shows Live">
      <span class="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  return (
    <div class={`shell view-${route.view}`}>
      <header class="topbar">
        <a class="brand" href="#/chats" aria-label="openlinq inbox">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-name">openlinq</span>
        </a>
        <nav class="tabs" aria-label="Sections">
          <a href={hrefFor({ view: "chats", chatId: null })} aria-current={route.view === "chats" ? "page" : undefined}>
            Chats
          </a>
          <a
            href={hrefFor({ view: "webhooks", eventId: null })}
            aria-current={route.view === "webhooks" ? "page" : undefined}
          >
            Webhooks
          </a>
        </nav>
        <div class="topbar-end">
          <LiveBadge />
          <span class="org" title={`Organization ${session.organization.id}`}>
            {session.organization.name}
          </span>
          <button type="button" class="link-button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <FaultsBar />
      <ScenariosBar />
      <main class="content">
        {route.view === "chats" ? (
          <ChatsView session={session} chatId={route.chatId} />
        ) : (
          <WebhooksView eventId={route.eventId} lines={session.phone_numbers.map((n) => n.phone_number)} />
        )}
      </main>
    </div>
  );
}
