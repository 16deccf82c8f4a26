/**
 * Where the token is kept: a session cookie, so it lasts for the browser session and
 * every tab of it (sessionStorage would be per tab) and is gone when the browser closes.
 * The server never reads it; requests carry the token in the header.
 */
const COOKIE = "openlinq_token";

export function storedToken(): string | null {
  const match = document.cookie.split("; ").find((part) => part.startsWith(`${COOKIE}=`));
  return match ? decodeURIComponent(match.slice(COOKIE.length + 1)) : null;
}

export function storeToken(token: string): void {
  document.cookie = `${COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}

export function forgetToken(): void {
  document.cookie = `${COOKIE}=; path=/; SameSite=Strict; max-age=0`;
}

/**
 * The organization and numbers of the last sign-in, kept so a reload paints at once while
 * the token is checked again in the background. Nothing secret: only a token hint.
 */
const SESSION_CACHE = "openlinq.session";
const hint = (token: string) => token.slice(-6);

export function cachedSession<T>(token: string | null): T | null {
  if (!token) return null;
  try {
    const cached = JSON.parse(localStorage.getItem(SESSION_CACHE) ?? "null") as { hint: string; session: T } | null;
    return cached && cached.hint === hint(token) ? cached.session : null;
  } catch {
    return null;
  }
}

export function cacheSession(token: string, session: unknown): void {
  try {
    localStorage.setItem(SESSION_CACHE, JSON.stringify({ hint: hint(token), session }));
  } catch {
    // Storage full or disabled: the page simply waits for the check next time.
  }
}

export function forgetSession(): void {
  localStorage.removeItem(SESSION_CACHE);
}
