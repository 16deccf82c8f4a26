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
