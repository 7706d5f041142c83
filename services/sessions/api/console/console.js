// The operator console: the fleet and one station, live from the sessions API (no build step).
// Every request carries the API key (kept in this tab's sessionStorage); the live feed is the
// API's /events stream of server-sent events, read with fetch so that it can carry the key too.
// Station-provided text is only ever set as textContent, never parsed as HTML.

const PAGE = 100;
const KEY = "chargebus-api-key";
const state = { key: sessionStorage.getItem(KEY), offset: 0, filter: "", station: null, summaryDue: true };

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    signOut("The API key was refused.");
    throw new Unauthorized();
  }
  return response;
}

async function get(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// --- signing in --------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.key = null;
  show("login");
  $("login-error").textContent = message || "";
}

async function signIn(event) {
  event.preventDefault();
  state.key = $("key").value.trim();
  try {
    await get("/stations?limit=1");
  } catch (error) {
    if (!(error instanceof Unauthorized)) $("login-error").textContent = String(error);
    return;
  }
  sessionStorage.setItem(KEY, state.key);
  $("key").value = "";
  start();
}

// --- views -------------------------------------------------------------------------------

function show(id) {
  for (const section of ["login", "fleet", "station"]) $(section).hidden = section !== id;
}

function route() {
  if (!state.key) return show("login");
  const match = location.hash.match(/^#\/stations\/(.+)$/);
  if (match) {
    state.station = decodeURIComponent(match[1]);
    show("station");
    loadStation();
  } else {
    state.station = null;
    show("fleet");
    loadFleet();
  }
}

function badge(online) {
  return el("span", online ? "online" : "offline", `badge ${online ? "online" : "offline"}`);
}

function connectorChips(container, connectors) {
  container.replaceChildren(
    ...connectors.map((c) => el("span", `${c.evse_id ?? 0}/${c.connector_id ?? 0} ${c.status}`, c.status)),
  );
}

function stationRow(doc) {
  const row = el("tr");
  row.dataset.stationId = doc.station_id;
  const link = el("a", doc.station_id);
  link.href = `#/stations/${encodeURIComponent(doc.station_id)}`;
  const boot = doc.boot || {};
  const chips = el("td", null, "chips");
  connectorChips(chips, doc.connectors || []);
  const state_ = el("td");
  state_.append(badge(doc.online));
  const firmware = doc.firmware ? `${doc.firmware.status}` : "";
  row.append(
    el("td"), state_, el("td", doc.ocpp_version || ""),
    el("td", [boot.vendor, boot.model].filter(Boolean).join(" ")), chips, el("td", firmware),
  );
  row.firstChild.append(link);
  return row;
}

async function loadFleet() {
  const filter = state.filter ? `&online=${state.filter}` : "";
  const page = await get(`/stations?limit=${PAGE}&offset=${state.offset}${filter}`);
  $("stations").tBodies[0].replaceChildren(...page.items.map(stationRow));
  const last = Math.min(page.offset + page.limit, page.total);
  $("page").textContent = page.total ? `${page.offset + 1}-${last} of ${page.total}` : "no stations";
  $("prev").disabled = page.offset === 0;
  $("next").disabled = last >= page.total;
}

let reloadDue = false;

function onStation(doc) {
  if (!$("fleet").hidden) {
    const row = $("stations").querySelector(`tr[data-station-id="${CSS.escape(doc.station_id)}"]`);
    if (row) row.replaceWith(stationRow(doc));
    else if (!reloadDue) {
      // A station this page does not show: it may belong on it (a new one, or one that came
      // online under the online filter). Reload the page once, a second from now.
      reloadDue = true;
      setTimeout(() => { reloadDue = false; if (!$("fleet").hidden) loadFleet(); }, 1000);
    }
  }
  if (state.station === doc.station_id) renderStation(doc);
  state.summaryDue = true;
}

async function summary() {
  const [all, online, alerts] = await Promise.all([
    get("/stations?limit=1"), get("/stations?limit=1&online=true"), get("/alerts?limit=1"),
  ]);
  $("summary").textContent = `${all.total} stations · ${online.total} online · ${alerts.total} open alerts`;
}

// --- one station -------------------------------------------------------------------------

function renderStation(doc) {
  $("station-id").textContent = doc.station_id;
  $("station-online").replaceWith(Object.assign(badge(doc.online), { id: "station-online" }));
  const boot = doc.boot || {};
  const firmware = doc.firmware ? ` · firmware ${doc.firmware.status}` : "";
  $("station-boot").textContent =
    `${doc.ocpp_version || "?"} · ${[boot.vendor, boot.model].filter(Boolean).join(" ") || "never booted"}` +
    `${boot.serial_number ? ` · serial ${boot.serial_number}` : ""}${firmware}`;
  connectorChips($("connectors"), doc.connectors || []);
}

function renderSessions(items) {
  const body = $("sessions").tBodies[0];
  body.replaceChildren(...items.map((s) => {
    const row = el("tr");
    row.dataset.transactionId = s.transaction_id;
    const energy = s.energy_wh == null ? "" : (s.energy_wh / 1000).toFixed(2);
    row.append(
      el("td", s.transaction_id), el("td", s.status, `session-${s.status}`), el("td", s.evse_id ?? ""),
      el("td", s.id_token ?? ""), el("td", s.started_at ?? ""), el("td", energy),
    );
    return row;
  }));
  const open = items.filter((s) => s.status === "open");
  $("stop-transaction").replaceChildren(...open.map((s) => el("option", s.transaction_id)));
}

function renderAlerts(items) {
  $("alerts").replaceChildren(
    ...(items.length ? items.map((a) => el("li", `${a.severity} · ${a.kind} · ${a.summary} (since ${a.raised_at})`, a.severity))
      : [el("li", "none", "muted")]),
  );
}

async function loadSessions(id) {
  renderSessions((await get(`/sessions?station_id=${encodeURIComponent(id)}&limit=20`)).items);
}

async function loadStation() {
  const id = state.station;
  const path = `/stations/${encodeURIComponent(id)}`;
  const response = await api(path);
  if (response.status === 404) {
    $("station-id").textContent = id;
    $("station-boot").textContent = "unknown station";
    return;
  }
  renderStation(await response.json());
  await Promise.all([
    loadSessions(id),
    get(`/alerts?station_id=${encodeURIComponent(id)}`).then((page) => renderAlerts(page.items)),
    get(`${path}/events?limit=30`).then((page) => {
      $("events").replaceChildren(...page.items.map((e) =>
        el("li", `${e.at} ${e.event_type} ${Object.values(e.detail).filter((v) => v != null).join(" ")}`)));
    }),
    get(`${path}/device-model`).then((model) => {
      $("inventory-at").textContent = model.inventory_at ? `(inventory of ${model.inventory_at})` : "(no inventory yet)";
      $("device-model").tBodies[0].replaceChildren(...model.variables.map((v) => {
        const row = el("tr");
        const attribute = (v.attributes || [])[0] || {};
        row.append(
          el("td", v.component_instance ? `${v.component}.${v.component_instance}` : v.component),
          el("td", v.evse_id == null ? "" : `${v.evse_id}${v.connector_id == null ? "" : `/${v.connector_id}`}`),
          el("td", v.variable), el("td", attribute.value ?? ""), el("td", attribute.mutability ?? ""),
        );
        return row;
      }));
    }),
  ]);
}

async function command(event) {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.value === "") continue;
    body[field.name] = field.type === "number" ? Number(field.value) : field.value;
  }
  const name = form.dataset.command;
  $("outcome").textContent = `${name}: sent, waiting for the station…`;
  const response = await api(`/stations/${encodeURIComponent(state.station)}/commands/${name}`, {
    method: "POST", body: JSON.stringify(body),
  });
  const result = await response.json();
  const said = result.status ? ` ${result.status}` : "";
  $("outcome").textContent = `${name}: ${result.outcome ?? result.error}${said}\n${JSON.stringify(result, null, 2)}`;
  $("outcome").dataset.outcome = result.outcome ?? result.error;
}

// --- the live feed -----------------------------------------------------------------------

function handle(block) {
  let kind = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) kind = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const payload = JSON.parse(data);
  if (kind === "station") onStation(payload);
  else if (kind === "session" && payload.station_id === state.station) loadSessions(state.station);
  else if (kind === "alerts" && payload.station_id === state.station) renderAlerts(payload.items);
  else if (kind === "alerts") state.summaryDue = true;
  else if (kind === "resync") route();
  else if (kind === "revoked") signOut("The API key was revoked.");
}

function setLive(on) {
  $("live").textContent = on ? "live" : "offline";
  $("live").className = `badge ${on ? "on" : "off"}`;
}

async function listen() {
  while (state.key) {
    try {
      const response = await api("/events");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      setLive(true);
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (error instanceof Unauthorized) return;
    }
    setLive(false);
    await sleep(1000);
  }
}

async function summaries() {
  while (state.key) {
    if (state.summaryDue) {
      state.summaryDue = false;
      try { await summary(); } catch (error) { if (error instanceof Unauthorized) return; }
    }
    await sleep(2000);
  }
}

function start() {
  route();
  listen();
  summaries();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("forget-key").addEventListener("click", () => signOut());
  $("filter").addEventListener("change", (event) => { state.filter = event.target.value; state.offset = 0; loadFleet(); });
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); loadFleet(); });
  $("next").addEventListener("click", () => { state.offset += PAGE; loadFleet(); });
  for (const form of document.querySelectorAll("form[data-command]")) form.addEventListener("submit", command);
  window.addEventListener("hashchange", route);
  if (state.key) start(); else show("login");
});
