// The agent API as the inbox uses it: fetch with the session cookie, the CSRF header,
// errors as ApiError with the API's own sentence, and query strings.

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const CSRF = csrfMeta ? csrfMeta.content : "";
const BASE = "/api/v1/agent";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fetch() with the session cookie; the CSRF header goes on every state-changing call,
// because the server refuses cookie requests without it.
export async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser writes the multipart boundary itself
  }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "The server can't be reached; check your connection.");
  }
  if (response.status === 401) {
    // The session ended (signed out elsewhere, agent removed): back to the sign-in form.
    window.location.assign("/inbox");
    throw new ApiError(401, "Your session has ended; please sign in again.");
  }
  if (response.status === 204) return null;
  let data;
  try {
    data = await response.json();
  } catch {
    data = null; // not JSON (a proxy's error page): the status still tells
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : `Request failed (${response.status})`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
