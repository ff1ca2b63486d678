// The console's HTTP API (cmd/isim-console, man isim-console.8): JSON in
// and out under one base path, the session in an HttpOnly cookie the page
// never sees.
export const BASE = "/api/meshnet";

// A refusal from the server: its HTTP status and the body's reason,
// message and (for 400) the JSON pointer of the offending field.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered HTTP ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.reason = (body && body.reason) || "http_" + status;
    this.field = (body && body.field) || null;
  }
}

async function parse(r) {
  const type = r.headers.get("Content-Type") || "";
  let body = null;
  if (type.includes("json")) {
    try {
      body = await r.json();
    } catch (e) {
      throw new ApiError(r.status, { reason: "bad_response",
        message: `The server's answer (HTTP ${r.status}) is not valid JSON.` });
    }
  }
  if (!r.ok || (body && body.ok === false))
    throw new ApiError(r.status, body);
  return body;
}

async function send(method, path, body) {
  const init = { method, credentials: "same-origin", cache: "no-store", headers: {} };
  // Every POST and DELETE carries a JSON body ({} when there is nothing to
  // say): the server refuses anything else, as it refuses a foreign Origin.
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let r;
  try {
    r = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, { reason: "network",
      message: "The console cannot be reached: check the network and try again." });
  }
  return r;
}

export async function get(path) { return parse(await send("GET", path)); }
export async function post(path, body) { return parse(await send("POST", path, body)); }
export async function del(path) { return parse(await send("DELETE", path, {})); }

// fetchBlob: a non-JSON resource (a wg-quick file, a QR code), or the
// ApiError its refusal carries.
export async function fetchBlob(path) {
  const r = await send("GET", path);
  if (!r.ok) await parse(r);
  return r.blob();
}
