/**
 * A Content-Disposition header for a file named anything (RFC 6266): a quoted ASCII
 * fallback for old clients, and the exact name as UTF-8 in `filename*` (RFC 8187), which
 * every current browser and HTTP client prefers. A header value can only carry Latin-1, so
 * writing a name such as `報告書.txt` as it is would make Node refuse the header (a 500).
 */
export function contentDisposition(kind: "inline" | "attachment", filename: string): string {
  // Quotes, backslashes, percent signs (some clients decode them) and anything outside printable ASCII become "_".
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/gu, "_");
  const exact = encodeFilename(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/**
 * A name percent-encoded as UTF-8 for a URL path segment. A JSON string may hold a lone
 * surrogate (`"\ud800"`), on which encodeURIComponent throws; it becomes U+FFFD first.
 */
export function encodeFilename(filename: string): string {
  return encodeURIComponent(filename.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));
}
