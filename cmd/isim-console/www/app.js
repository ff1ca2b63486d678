// The meshnet console's page: a login view, and a dashboard of four cards
// (identity, mesh, appliances, passkeys) over the API in api.js. Every
// refusal is shown in its card's role=alert paragraph with the server's
// message; progress goes to the role=status line.
import { ApiError, BASE, del, fetchBlob, get, post } from "./api.js";
import * as passkey from "./passkey.js";

const $ = (sel, root = document) => root.querySelector(sel);

// h("button", {type: "button", onclick: f}, "Remove"): an element, its
// children given as nodes or text (never parsed as markup).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const state = { me: null, provisionTimer: 0, applianceTimer: 0, applianceStates: new Map() };

function status(text) {
  $("#status").textContent = text;
}

function showError(card, err) {
  const p = $("[data-error]", card) || $("[role=alert]", card);
  p.textContent = err ? err.message : "";
  if (!err) for (const el of card.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

// The fields a 400 names (field "/handle") are marked invalid, described by
// the card's error and focused, so that a screen reader user lands there.
// Refusals about a value that name no field (409s) are pinned to the field
// anyway.
const REASON_FIELD = { username_taken: "/username", user_exists: "/username", handle_taken: "/handle" };

function markField(form, err) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const field = err && (err.field || REASON_FIELD[err.reason]);
  if (!field) return;
  const el = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
  if (!el) return;
  el.setAttribute("aria-invalid", "true");
  el.focus();
}

function fmtDate(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}

function time(s) {
  return s ? h("time", { datetime: s }, fmtDate(s)) : "—";
}

function fmtSize(n) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

// busy(el, fn): el's buttons disabled while fn runs, and fn's refusal shown
// in card (and, for a form, on the field it names). 401 means the session
// ended: back to the login view.
async function busy(card, el, fn) {
  const buttons = [...el.querySelectorAll("button")];
  if (el instanceof HTMLButtonElement) buttons.push(el);
  buttons.forEach((b) => (b.disabled = true));
  el.setAttribute("aria-busy", "true");
  showError(card, null);
  const form = el.closest("form");
  try {
    await fn();
    if (form) markField(form, null);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && state.me) {
      await showLogin("Your session has ended: sign in again.");
      return false;
    }
    showError(card, err);
    if (form) markField(form, err);
    status("");
    return false;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    el.removeAttribute("aria-busy");
  }
}

// stepUp(fn): fn, and if the server wants a recent user-verified login
// (a config holding a private key) that ceremony first, then fn once more.
async function stepUp(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === "step_up_required")) throw err;
    status("Confirm with your passkey to see a private key…");
    await passkey.login({ username: state.me.user.name, user_verification: "required" });
    status("Confirmed.");
    return fn();
  }
}

/* ---- the views ---- */

function setView(name) {
  $("#loading").hidden = true;
  $("#login-view").hidden = name !== "login";
  $("#dashboard").hidden = name !== "dashboard";
  $("#account").hidden = name !== "dashboard";
  document.body.dataset.view = name;
}

async function showLogin(message) {
  clearTimeout(state.provisionTimer);
  clearTimeout(state.applianceTimer);
  state.me = null;
  state.applianceStates.clear();
  setView("login");
  status(message || "");
  showError($("#login-view"), null);
  if (!passkey.supported())
    showError($("#login-view"), new Error("This browser cannot use passkeys (WebAuthn with JSON options)."));
  $("#login-username").focus();
}

async function showDashboard() {
  const me = await get("/me");
  state.me = me;
  setView("dashboard");
  $("#whoami").textContent = `Signed in as ${me.user.display_name || me.user.name}`;
  renderIdentity(me.identity);
  renderPasskeys(me);
  const loaded = await Promise.allSettled([loadPeers(), loadAppliances()]);
  document.body.dataset.loaded = "true";
  // The bench reads this mark: from navigation start to a dashboard with
  // every card filled.
  if (!performance.getEntriesByName("dashboard-ready").length) performance.mark("dashboard-ready");
  return loaded;
}

/* ---- login ---- */

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const action = ev.submitter ? ev.submitter.value : "login";
  const username = form.username.value.trim();
  const displayName = form.display_name.value.trim();
  const ok = await busy($("#login-view"), form, async () => {
    if (action === "register") {
      if (!username) {
        const e = new ApiError(400, { reason: "username_required", field: "/username",
          message: "Choose a username for the new account." });
        throw e;
      }
      status("Creating a passkey…");
      await passkey.register({ username, display_name: displayName || username });
    } else {
      status("Signing in…");
      await passkey.login(username ? { username } : {});
    }
  });
  if (!ok) return;
  form.reset();
  try {
    await showDashboard();
  } catch (err) {
    showError($("#login-view"), err);
    return;
  }
  status(action === "register" ? "Account created, you are signed in." : "Signed in.");
  $("#main").focus();
}

async function onSignOut(ev) {
  if (await busy($("#passkeys"), ev.currentTarget, () => post("/auth/logout", {})))
    await showLogin("Signed out.");
}

/* ---- identity ---- */

function renderIdentity(identity) {
  const card = $("#identity");
  $("#identity-form", card).hidden = !!identity;
  $("#identity-details", card).hidden = !identity;
  card.dataset.state = identity ? identity.provisioning?.state || "none" : "empty";
  if (!identity) return;
  $("#identity-handle-value").textContent = identity.handle;
  $("#identity-subdomain").textContent = identity.subdomain;
  $("#identity-matrix").textContent = identity.matrix_id;
  $("#identity-bucket").textContent = identity.bucket;
  const p = identity.provisioning || { state: "none", steps: [] };
  const badge = $("#provision-state");
  badge.textContent = { none: "not started", running: "running", done: "done", failed: "failed" }[p.state] || p.state;
  badge.dataset.state = p.state;
  $("#provision-steps").replaceChildren(...(p.steps || []).map((s) =>
    h("li", { "data-state": s.state },
      h("span", { class: "step-name" }, s.name), " ",
      h("span", { class: "badge", "data-state": s.state }, s.state),
      s.message ? h("p", { class: "hint" }, s.message) : null,
      stepResult(s.result))));
  const btn = $("#provision");
  btn.hidden = p.state === "running" || p.state === "done";
  btn.textContent = p.state === "failed" ? "Provision again" : "Provision";
  clearTimeout(state.provisionTimer);
  if (p.state === "running") state.provisionTimer = setTimeout(pollProvisioning, 1000);
}

// What a hook answered (a JSON object), as "key: value" lines.
function stepResult(r) {
  if (!r || typeof r !== "object") return null;
  const rows = Object.entries(r).map(([k, v]) =>
    [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]);
  return rows.length ? h("dl", { class: "facts small" }, rows) : null;
}

async function pollProvisioning() {
  try {
    const me = await get("/me");
    state.me = me;
    renderIdentity(me.identity);
    const s = me.identity?.provisioning?.state;
    if (s === "done") status("Provisioning is done.");
    else if (s === "failed") status("Provisioning failed.");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin("Your session has ended: sign in again.");
    showError($("#identity"), err);
    state.provisionTimer = setTimeout(pollProvisioning, 5000);
  }
}

async function onIdentitySubmit(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  await busy($("#identity"), form, async () => {
    const r = await post("/identity", { handle: form.handle.value.trim() });
    state.me.identity = r.identity;
    renderIdentity(r.identity);
    status(`Handle ${r.identity.handle} is yours.`);
    $("#provision").focus();
  });
}

async function onProvision(ev) {
  await busy($("#identity"), ev.currentTarget, async () => {
    const r = await post("/identity/provision", {});
    state.me.identity = { ...state.me.identity, provisioning: r.provisioning };
    status("Provisioning…");
    renderIdentity(state.me.identity);
    if (r.provisioning.state !== "running") pollProvisioning();
  });
}

/* ---- mesh ---- */

async function loadPeers() {
  const card = $("#mesh");
  try {
    const r = await get("/mesh/peers");
    renderPeers(r);
  } catch (err) {
    showError(card, err);
    throw err;
  }
}

function renderPeers(r) {
  const card = $("#mesh");
  const gw = r.gateway || {};
  $("#mesh-summary").textContent = [r.network_cidr && `Network ${r.network_cidr}`,
    gw.endpoint && `gateway ${gw.endpoint}`].filter(Boolean).join(", ");
  card.dataset.peers = r.peers.length;
  $("#peer-list").replaceChildren(...(r.peers.length ? r.peers.map(peerItem)
    : [h("li", { class: "muted empty" }, "No peers yet.")]));
}

function peerItem(p) {
  const card = $("#mesh");
  const base = `/mesh/peers/${encodeURIComponent(p.id)}`;
  const qr = h("div", { class: "qr", hidden: true });
  const rotate = h("form", { class: "inline", hidden: true, novalidate: true });
  const confirm = h("div", { class: "inline", hidden: true, role: "group", "aria-label": `Remove ${p.name}` });
  const li = h("li", { "data-peer": p.id },
    h("h3", {}, p.name, " ", h("span", { class: "badge", "data-state": p.state }, p.state)),
    h("dl", { class: "facts" },
      h("dt", {}, "Address"), h("dd", {}, p.address),
      h("dt", {}, "Public key"), h("dd", { class: "mono" }, p.public_key),
      h("dt", {}, "Key made by"), h("dd", {}, p.server_key ? "the server (the config holds the private key)" : "the device"),
      h("dt", {}, "Added"), h("dd", {}, time(p.created_at)),
      p.rotated_at ? [h("dt", {}, "Key rotated"), h("dd", {}, time(p.rotated_at))] : null),
    h("div", { class: "actions" },
      h("button", { type: "button", "data-action": "config", onclick: (ev) => downloadConfig(ev.currentTarget, p) },
        "Download config"),
      h("button", { type: "button", class: "secondary", "data-action": "qr", "aria-expanded": "false",
        onclick: (ev) => toggleQr(ev.currentTarget, p, qr) }, "Show QR code"),
      h("button", { type: "button", class: "secondary", "data-action": "rotate", "aria-expanded": "false",
        onclick: (ev) => toggle(ev.currentTarget, rotate) }, "Rotate key"),
      h("button", { type: "button", class: "danger", "data-action": "remove", "aria-expanded": "false",
        onclick: (ev) => toggle(ev.currentTarget, confirm) }, "Remove")),
    qr, rotate, confirm);

  const keyId = `rotate-key-${p.id}`;
  rotate.append(
    h("div", { class: "field" },
      h("label", { for: keyId }, "New public key ", h("span", { class: "muted" }, "(optional)")),
      h("input", { id: keyId, name: "public_key", "data-field": "/public_key", class: "mono",
        autocapitalize: "none", spellcheck: "false" }),
      h("p", { class: "hint" }, "Left empty, the server makes a new key pair.")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Rotate"),
      h("button", { type: "button", class: "secondary", onclick: () => toggle(li.querySelector("[data-action=rotate]"), rotate) }, "Cancel")));
  rotate.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = rotate.public_key.value.trim();
    await busy(card, rotate, async () => {
      await post(`${base}/rotate`, key ? { public_key: key } : {});
      status(`The key of ${p.name} is rotated: download its config again.`);
      await loadPeers();
      $(`[data-peer="${CSS.escape(String(p.id))}"] [data-action=rotate]`)?.focus();
    });
  });

  confirm.append(h("p", {}, `Remove ${p.name} from the mesh? Its key stops working at once.`),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "danger", "data-action": "confirm-remove", onclick: async (ev) => {
        await busy(card, ev.currentTarget, async () => {
          await del(base);
          status(`${p.name} is removed.`);
          await loadPeers();
          $("#peer-name").focus();
        });
      } }, `Remove ${p.name}`),
      h("button", { type: "button", class: "secondary", onclick: () => toggle(li.querySelector("[data-action=remove]"), confirm) }, "Cancel")));
  return li;
}

function toggle(button, panel) {
  panel.hidden = !panel.hidden;
  button.setAttribute("aria-expanded", String(!panel.hidden));
  if (!panel.hidden) (panel.querySelector("input, button") || panel).focus();
  else button.focus();
}

function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9_=+.-]/g, "_").slice(0, 15) || "wg0";
}

// The config is fetched (not linked) so that a step-up refusal can be
// answered with a passkey and retried; the file is then saved from a blob.
async function downloadConfig(button, p) {
  const path = `/mesh/peers/${encodeURIComponent(p.id)}/config`;
  await busy($("#mesh"), button, async () => {
    const blob = await stepUp(() => fetchBlob(path));
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `${safeName(p.name)}.conf`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    status(`Saved ${safeName(p.name)}.conf.`);
  });
}

function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

// The QR code is the SVG endpoint's answer, shown as a data: image (the
// policy allows img-src data:), for the same reason as downloadConfig.
async function toggleQr(button, p, box) {
  if (!box.hidden) {
    box.hidden = true;
    box.replaceChildren();
    button.textContent = "Show QR code";
    button.setAttribute("aria-expanded", "false");
    return;
  }
  await busy($("#mesh"), button, async () => {
    const blob = await stepUp(() => fetchBlob(`/mesh/peers/${encodeURIComponent(p.id)}/config?format=svg`));
    const src = await blobToDataUrl(new Blob([blob], { type: "image/svg+xml" }));
    const img = h("img", { src, alt: `QR code of the WireGuard configuration of ${p.name}`, width: 240, height: 240 });
    box.replaceChildren(img, h("p", { class: "hint" }, "Scan it with the WireGuard app. It holds a private key: hide it when done."));
    box.hidden = false;
    button.textContent = "Hide QR code";
    button.setAttribute("aria-expanded", "true");
  });
}

async function onPeerSubmit(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const name = form.name.value.trim();
  const key = form.public_key.value.trim();
  await busy($("#mesh"), form, async () => {
    const r = await post("/mesh/peers", key ? { name, public_key: key } : { name });
    form.reset();
    status(`${r.peer.name} is added as ${r.peer.address}.`);
    await loadPeers();
  });
}

/* ---- appliances ---- */

// isim-console.cgi's appliance states: "building" until its archive is
// written ("ready") or the work failed ("failed", with a message).
const BUILDING = new Set(["building", "pending", "queued"]);

async function loadAppliances() {
  const card = $("#appliances");
  try {
    renderAppliances(await get("/appliances"));
  } catch (err) {
    showError(card, err);
    throw err;
  }
}

function fillSelect(sel, values) {
  const keep = sel.value;
  sel.replaceChildren(...values.map((v) => h("option", { value: v }, v)));
  if (values.includes(keep)) sel.value = keep;
}

function renderAppliances(r) {
  const card = $("#appliances");
  // A build that ends while the page watches is said on the status line.
  for (const a of r.appliances) {
    const was = state.applianceStates.get(a.id);
    if (was && BUILDING.has(was) && !BUILDING.has(a.state))
      status(a.state === "ready" ? `Appliance ${a.name} is ready.` : `Appliance ${a.name}: ${a.state}.`);
    state.applianceStates.set(a.id, a.state);
  }
  fillSelect($("#appliance-template"), r.templates || []);
  fillSelect($("#appliance-profile"), r.profiles || []);
  card.dataset.appliances = r.appliances.length;
  $("#appliance-list").replaceChildren(...(r.appliances.length ? r.appliances.map(applianceItem)
    : [h("li", { class: "muted empty" }, "No appliances yet.")]));
  clearTimeout(state.applianceTimer);
  // An appliance being built is polled until it settles.
  if (r.appliances.some((a) => BUILDING.has(a.state)))
    state.applianceTimer = setTimeout(() => loadAppliances().catch(() => {}), 2000);
}

function applianceItem(a) {
  const ar = a.archive;
  return h("li", { "data-appliance": a.id },
    h("h3", {}, a.name, " ", h("span", { class: "badge", "data-state": a.state }, a.state)),
    h("dl", { class: "facts" },
      h("dt", {}, "Template"), h("dd", {}, a.template),
      h("dt", {}, "Profile"), h("dd", {}, a.profile),
      h("dt", {}, "Created"), h("dd", {}, time(a.created_at)),
      ar ? [h("dt", {}, "SHA-256"), h("dd", { class: "mono hash" }, ar.sha256)] : null),
    a.message ? h("p", { class: a.state === "failed" ? "error" : "hint" }, a.message) : null,
    ar ? h("p", {}, h("a", { href: ar.url || `${BASE}/appliances/${encodeURIComponent(a.id)}/archive`, download: "" },
      `Download the archive of ${a.name}`), ` (${fmtSize(ar.size)})`)
      : h("p", { class: "muted" }, BUILDING.has(a.state) ? "Building… the archive follows." : "No archive."));
}

async function onApplianceSubmit(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const body = { name: form.name.value.trim(), template: form.template.value, profile: form.profile.value };
  await busy($("#appliances"), form, async () => {
    const r = await post("/appliances", body);
    form.name.value = "";
    status(`Appliance ${r.appliance.name} is ${r.appliance.state}.`);
    await loadAppliances();
  });
}

/* ---- passkeys ---- */

function renderPasskeys(me) {
  const list = me.passkeys || [];
  $("#passkeys").dataset.passkeys = list.length;
  $("#passkey-list").replaceChildren(...list.map((k, i) =>
    h("li", {},
      h("h3", {}, `Passkey ${i + 1} `, h("span", { class: "badge" }, k.alg_name)),
      h("dl", { class: "facts" },
        h("dt", {}, "Created"), h("dd", {}, time(k.created_at)),
        h("dt", {}, "Last used"), h("dd", {}, time(k.last_used_at)),
        h("dt", {}, "Synced"), h("dd", {}, k.backed_up ? "yes" : "no"),
        h("dt", {}, "ID"), h("dd", { class: "mono hash" }, k.credential_id)))));
  const s = me.session || {};
  $("#session-info").textContent = s.expires_at ? `This session ends ${fmtDate(s.expires_at)}.` : "";
}

async function onAddPasskey(ev) {
  await busy($("#passkeys"), ev.currentTarget, async () => {
    status("Creating a passkey…");
    await passkey.register({});
    const me = await get("/me");
    state.me = me;
    renderPasskeys(me);
    status("Another passkey is added.");
  });
}

/* ---- start ---- */

async function start() {
  $("#login-form").addEventListener("submit", onLoginSubmit);
  $("#sign-out").addEventListener("click", onSignOut);
  $("#identity-form").addEventListener("submit", onIdentitySubmit);
  $("#provision").addEventListener("click", onProvision);
  $("#peer-form").addEventListener("submit", onPeerSubmit);
  $("#appliance-form").addEventListener("submit", onApplianceSubmit);
  $("#add-passkey").addEventListener("click", onAddPasskey);
  try {
    await showDashboard();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    setView("login");
    showError($("#login-view"), err);
  }
}

start();
