// wharf dev: one page, hash routes, JSON from /api, live updates from /api/events (SSE).
// Text from the API is only ever set as text (never parsed as HTML).
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  if (params.get("token")) sessionStorage.setItem("wharf-token", params.get("token"));
  const TOKEN = sessionStorage.getItem("wharf-token") || "";
  const SVG = "http://www.w3.org/2000/svg";
  const view = document.getElementById("view");
  const state = { graph: null, statuses: {}, running: {}, filter: "", group: "", selected: null };

  // ---- helpers -------------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : String(kid));
    return el;
  }
  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    if (TOKEN) opts.headers["X-Wharf-Token"] = TOKEN;
    const res = await fetch(path, opts);
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
    return body;
  }
  const enc = (key) => key.split("/").map(encodeURIComponent).join("/");
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "never");
  const dur = (s) => (s === null || s === undefined ? "" : s < 1 ? (s * 1000).toFixed(0) + " ms" : s.toFixed(2) + " s");
  const show = (...kids) => view.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== ""));
  const pill = (status) => h("span", { class: "pill " + status, text: status });
  function banner(text) { const b = document.getElementById("banner"); b.hidden = !text; b.textContent = text || ""; }
  function setNav(name) { document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === name)); }

  // ---- asset graph ---------------------------------------------------------------------
  async function showGraph() {
    setNav("graph");
    const g = (state.graph = await api("/api/graph"));
    g.assets.forEach((n) => (state.statuses[n.key] = n.status));
    const filter = h("input", { type: "text", id: "filter", placeholder: 'filter: a key, or group:"raw" or +key+ …', value: state.filter });
    const group = h("select", { id: "group" }, h("option", { value: "", text: "all groups" }), g.groups.map((x) => h("option", { value: x, text: x, selected: x === state.group })));
    const count = h("span", { class: "muted", id: "count" });
    const launchBtn = h("button", { id: "materialize", text: "Materialize all", onclick: () => launchKeys(visibleKeys()) });
    const fitBtn = h("button", { id: "fit", class: "secondary", text: "Zoom to shown", onclick: () => svg.fit && svg.fit(g.assets.filter((n) => !isDim(n)).map((n) => n.key)) });
    const legend = h("span", { class: "legend" }, ["never", "fresh", "stale", "failed", "running"].map((s) => h("span", {}, h("i", { class: "sw-" + s }), s)));
    const svg = h("svg:svg", { id: "graph" });
    show(h("div", { class: "toolbar" }, filter, group, launchBtn, fitBtn, count, legend), svg);
    let pending = null;
    const apply = () => {
      state.filter = filter.value; state.group = group.value;
      clearTimeout(pending);
      const text = state.filter.trim();
      if (!text || /^[\w/.-]+$/.test(text)) { state.selected = null; applyFilter(); return; }
      pending = setTimeout(async () => {  // Dagster's selection syntax, resolved by the server
        try { state.selected = new Set((await api("/api/select?q=" + encodeURIComponent(text))).keys); filter.classList.remove("bad"); }
        catch (e) { state.selected = new Set(); filter.classList.add("bad"); count.title = e.message; }
        applyFilter();
      }, 200);
    };
    filter.addEventListener("input", apply); group.addEventListener("change", apply);
    if (state.filter) apply();
    applyFilter();
    drawGraph(svg, g, applyFilter);
    function visibleKeys() { return g.assets.filter((n) => n.kind === "asset" && !isDim(n)).map((n) => n.key); }
    function isDim(n) {
      const text = state.filter.trim();
      const s = !text ? null : state.selected || null;
      const plain = text && !state.selected && !n.key.includes(text);
      return plain || (s && !s.has(n.key)) || (state.group && n.group !== state.group);
    }
    function applyFilter() {  // also before the layout arrives: the count and the button work
      const dimmed = new Set(g.assets.filter(isDim).map((n) => n.key));
      svg.querySelectorAll("g.node").forEach((el) => el.classList.toggle("dim", dimmed.has(el.dataset.key)));
      svg.querySelectorAll("g.check").forEach((el) => el.classList.toggle("dim", dimmed.has(el.dataset.asset)));
      svg.querySelectorAll("path.edge").forEach((el) => el.classList.toggle("dim", !!(state.filter || state.group)));
      count.textContent = (g.assets.length - dimmed.size) + " of " + g.assets.length + " assets";
      launchBtn.textContent = state.filter || state.group ? "Materialize shown (" + visibleKeys().length + ")" : "Materialize all";
    }
  }

  // the layout runs in a worker (a few thousand assets take seconds); one per graph shape is
  // kept, so coming back to the graph, or a live refresh, draws at once
  const BIG = 400;
  const layouts = new Map();
  let worker = null, asked = 0;
  const pending = new Map();
  function layoutOf(spec) {
    const sig = JSON.stringify(spec);
    if (!layouts.has(sig)) {  // the newest layout survives a reload of the page
      try { const kept = JSON.parse(sessionStorage.getItem("wharf-layout") || "null"); if (kept && kept.sig === sig) layouts.set(sig, kept.lay); } catch (e) { /* none kept */ }
    }
    if (layouts.has(sig)) return Promise.resolve(layouts.get(sig));
    if (!worker) {
      worker = new Worker("/static/layout-worker.js");
      worker.onmessage = (ev) => { const done = pending.get(ev.data.id); pending.delete(ev.data.id); if (done) done(ev.data); };
    }
    const id = ++asked;
    return new Promise((resolve) => {
      pending.set(id, (out) => {
        layouts.set(sig, out);
        try { sessionStorage.setItem("wharf-layout", JSON.stringify({ sig, lay: out })); } catch (e) { /* too big to keep: laid out again next time */ } if (layouts.size > 8) layouts.delete(layouts.keys().next().value); resolve(out); });
      worker.postMessage(Object.assign({ id }, spec));
    });
  }
  const CHECK_PREFIX = "check:";
  async function drawGraph(svg, g, after) {
    const sub = (n) => [n.kind === "source" ? "source" : "", n.group, (n.kinds || []).join(","), n.io_manager_type, state.statuses[n.key] || n.status].filter(Boolean).join(" · ");
    const checks = g.checks || [];
    const nodes = g.assets.map((n) => ({ id: n.key, width: Math.round(Math.max(150, n.key.length * 7.4 + 24, (sub(n).length + 2) * 6.1 + 20)), height: 44 }))
      .concat(checks.map((c) => ({ id: CHECK_PREFIX + c.key, width: Math.round(Math.max(110, c.name.length * 7 + 34)), height: 24 })));
    const edges = g.edges.map((e) => [e.from, e.to]).concat(checks.map((c) => [c.asset, CHECK_PREFIX + c.key]));
    const waiting = h("svg:text", { x: 20, y: 30, class: "laying-out", text: "laying out " + g.assets.length + " assets…" });
    svg.append(waiting);
    const lay = await layoutOf({ nodes, edges, big: nodes.length > BIG });
    waiting.remove();
    if (!svg.isConnected) return;  // the reader went elsewhere meanwhile
    const line = (i) => "M" + lay.lines[i].map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" L");
    const corner = (box) => "translate(" + (box.x - box.width / 2) + "," + (box.y - box.height / 2) + ")";
    const marker = h("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      h("svg:path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
    svg.append(h("svg:defs", {}, marker));
    const world = h("svg:g", { class: "world" });
    g.edges.forEach((e, i) => world.append(h("svg:path", { class: "edge " + e.kind, d: line(i), "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to })));
    g.assets.forEach((n, i) => {
      const box = lay.boxes[n.key], status = state.statuses[n.key] || n.status;
      const node = h("svg:g", { class: "node " + n.kind + " status-" + status, transform: corner(box),
        "data-key": n.key, "data-status": status, "data-i": i, onclick: () => (location.hash = "#/asset/" + enc(n.key)) });
      node.append(h("svg:rect", { width: box.width, height: box.height }),
        h("svg:text", { x: 10, y: 18, text: n.key }),
        h("svg:text", { x: 10, y: 34, class: "sub", text: sub(n) }));
      world.append(node);
    });
    checks.forEach((c, i) => {  // a check hangs off its asset: a small box with its newest result
      world.append(h("svg:path", { class: "edge check-edge", d: line(g.edges.length + i), "data-from": c.asset }));
      const box = lay.boxes[CHECK_PREFIX + c.key];
      world.append(h("svg:g", { class: "check status-" + c.status, transform: corner(box),
        "data-key": c.key, "data-asset": c.asset, "data-status": c.status, onclick: () => (location.hash = "#/asset/" + enc(c.asset)) },
        h("svg:rect", { width: box.width, height: box.height }), h("svg:title", { text: "check " + c.name + " of " + c.asset + ": " + c.status }),
        h("svg:text", { x: 8, y: 16, text: CHECK_MARK[c.status] + " " + c.name })));
    });
    svg.append(world);
    // pan and zoom
    let scale = Math.min(1, (svg.clientWidth || 1000) / (lay.width || 1), (svg.clientHeight || 600) / (lay.height || 1));
    scale = Math.max(scale, 0.05);
    let tx = Math.max(10, ((svg.clientWidth || 1000) - (lay.width || 0) * scale) / 2), ty = 10, drag = null;
    const place = () => world.setAttribute("transform", "translate(" + tx + "," + ty + ") scale(" + scale + ")");
    place();
    svg.fit = (keys) => {  // zoom to the boxes of ``keys`` (the shown assets)
      const boxes = keys.map((k) => lay.boxes[k]).filter(Boolean);
      if (!boxes.length) return;
      const x0 = Math.min(...boxes.map((b) => b.x - b.width / 2)), x1 = Math.max(...boxes.map((b) => b.x + b.width / 2));
      const y0 = Math.min(...boxes.map((b) => b.y - b.height / 2)), y1 = Math.max(...boxes.map((b) => b.y + b.height / 2));
      const w = svg.clientWidth || 1000, hgt = svg.clientHeight || 600;
      scale = Math.max(0.05, Math.min(1.5, (w - 40) / (x1 - x0 || 1), (hgt - 40) / (y1 - y0 || 1)));
      tx = (w - (x1 - x0) * scale) / 2 - x0 * scale; ty = (hgt - (y1 - y0) * scale) / 2 - y0 * scale; place();
    };
    svg.addEventListener("wheel", (ev) => { ev.preventDefault(); const k = ev.deltaY < 0 ? 1.15 : 1 / 1.15; const r = svg.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top; tx = x - (x - tx) * k; ty = y - (y - ty) * k; scale *= k; place(); }, { passive: false });
    svg.addEventListener("mousedown", (ev) => (drag = { x: ev.clientX - tx, y: ev.clientY - ty }));
    window.addEventListener("mousemove", (ev) => { if (drag) { tx = ev.clientX - drag.x; ty = ev.clientY - drag.y; place(); } });
    window.addEventListener("mouseup", () => (drag = null));
    if (after) after();
  }

  const CHECK_MARK = { passed: "\u2713", failed: "\u2717", error: "!", never: "\u25cb" };
  function paintCheck(c) {
    document.querySelectorAll('#graph g.check[data-key="' + CSS.escape(c.key) + '"]').forEach((el) => {
      el.setAttribute("class", "check status-" + c.status + (el.classList.contains("dim") ? " dim" : ""));
      el.dataset.status = c.status;
      const t = el.querySelector("text"); if (t) t.textContent = CHECK_MARK[c.status] + " " + c.name;
    });
  }
  function paintStatus(key, status) {
    state.statuses[key] = status;
    document.querySelectorAll('#graph g.node[data-key="' + CSS.escape(key) + '"]').forEach((el) => {
      el.setAttribute("class", el.getAttribute("class").replace(/status-\S+/, "status-" + status));
      el.dataset.status = status;
      const sub = el.querySelector("text.sub"); if (sub) sub.textContent = sub.textContent.replace(/[^·]+$/, " " + status);
    });
  }

  // ---- asset page ----------------------------------------------------------------------
  // ---- metadata, rendered by its kind (run history keeps each entry's kind beside it) ----
  const safeUrl = (u) => /^(https?:|mailto:)/i.test(String(u));
  function inline(text) {  // `code`, **bold**, *em* / _em_, [text](http...) as DOM nodes, never HTML
    const out = [], re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      const t = m[0];
      if (m[1]) out.push(h("code", { text: t.slice(1, -1) }));
      else if (m[2]) out.push(h("strong", {}, inline(t.slice(2, -2))));
      else if (m[3]) out.push(h("em", {}, inline(t.slice(1, -1))));
      else { const [, label, url] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t); out.push(safeUrl(url) ? h("a", { href: url, rel: "noreferrer", text: label }) : label); }
      last = m.index + t.length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
  function markdown(src) {  // headings, lists, code blocks, tables of pipes, paragraphs
    const root = h("div", { class: "md" }), lines = String(src).split("\n");
    for (let i = 0; i < lines.length; ) {
      const line = lines[i];
      if (/^```/.test(line)) { const body = []; i++; while (i < lines.length && !/^```/.test(lines[i])) body.push(lines[i++]); i++; root.append(h("pre", { text: body.join("\n") })); continue; }
      const head = /^(#{1,6})\s+(.*)$/.exec(line);
      if (head) { root.append(h("h" + Math.min(6, head[1].length + 2), {}, inline(head[2]))); i++; continue; }
      if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
        const ordered = /^\s*\d/.test(line), list = h(ordered ? "ol" : "ul", {});
        while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) list.append(h("li", {}, inline(lines[i++].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
        root.append(list); continue;
      }
      if (/^\s*\|.*\|\s*$/.test(line)) {
        const rows = [];
        while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++].trim().slice(1, -1).split("|").map((c) => c.trim()));
        const body = rows.filter((r) => !r.every((c) => /^:?-+:?$/.test(c)));
        root.append(h("table", { class: "meta-table" }, body.map((r, k) => h("tr", {}, r.map((c) => h(k ? "td" : "th", {}, inline(c)))))));
        continue;
      }
      if (!line.trim()) { i++; continue; }
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|\s*([-*+]|\d+[.)])\s|\s*\|)/.test(lines[i])) para.push(lines[i++]);
      root.append(h("p", {}, inline(para.join(" "))));
    }
    return root;
  }
  function recordsTable(records, schema) {
    const cols = schema && Array.isArray(schema) ? schema.map((c) => c.name) : [...new Set(records.flatMap((r) => Object.keys(r || {})))];
    return h("table", { class: "meta-table" }, h("tr", {}, cols.map((c) => h("th", { text: c }))),
      records.slice(0, 100).map((r) => h("tr", {}, cols.map((c) => h("td", { text: r && r[c] !== undefined && r[c] !== null ? String(r[c]) : "" })))));
  }
  function metaValue(v, kind) {
    if (kind === "md") return markdown(v);
    if (kind === "url") return safeUrl(v) ? h("a", { href: v, rel: "noreferrer", text: v }) : h("code", { text: String(v) });
    if (kind === "path") return h("code", { text: String(v) });
    if (kind === "table_schema") return schemaTable(v);
    if (kind === "table" && v && Array.isArray(v.records)) return recordsTable(v.records, v.schema);
    if (kind === "timestamp") return h("span", { text: typeof v === "number" ? when(v) : String(v) });
    if (kind === "asset") return h("a", { href: "#/asset/" + enc(String(v)), text: String(v) });
    if (kind === "json") return h("pre", { text: JSON.stringify(v, null, 2) });
    // entries of older history rows, without a kind: by the shape of the value
    if (Array.isArray(v) && v.length && v.every((r) => r && typeof r === "object" && !Array.isArray(r))) return recordsTable(v);
    if (v && typeof v === "object") return h("pre", { text: JSON.stringify(v, null, 2) });
    if (typeof v === "string" && v.includes("\n")) return h("pre", { text: v });
    if (typeof v === "string" && /^https?:\/\//.test(v)) return h("a", { href: v, rel: "noreferrer", text: v });
    return h("span", { class: typeof v === "number" ? "mono" : "", text: String(v) });
  }
  function metaTable(meta, kinds, id) {
    return h("table", { id, class: "meta" }, Object.entries(meta || {}).map(([k, v]) => h("tr", { "data-meta": k, "data-kind": (kinds || {})[k] || "" }, h("th", { class: "mono", text: k }), h("td", {}, metaValue(v, (kinds || {})[k])))));
  }
  function schemaTable(schema) {
    if (!schema || typeof schema !== "object") return h("span", { class: "muted", text: "no column schema recorded" });
    const rows = Array.isArray(schema) ? schema.map((c) => [c.name, c.type]) : Object.entries(schema);
    return h("table", { id: "schema" }, h("tr", {}, h("th", { text: "column" }), h("th", { text: "type" })), rows.map(([n, t]) => h("tr", {}, h("td", { class: "mono", text: n }), h("td", { class: "mono", text: t }))));
  }
  function plot(history) {
    const pts = history.filter((r) => r.status === "success").slice().reverse();
    const w = 520, hgt = 110;
    const svg = h("svg:svg", { class: "plot", width: w, height: hgt, id: "history-plot" });
    if (pts.length < 1) { svg.append(h("svg:text", { x: 8, y: 20, text: "no materializations yet" })); return svg; }
    const line = (vals, cls) => { const max = Math.max(...vals, 1e-9); const step = pts.length > 1 ? (w - 20) / (pts.length - 1) : 0;
      const d = vals.map((v, i) => (i ? "L" : "M") + (10 + i * step).toFixed(1) + "," + (hgt - 18 - (v / max) * (hgt - 30)).toFixed(1)).join(" ");
      svg.append(h("svg:path", { class: cls, d })); return max; };
    const counted = pts.some((r) => r.row_count !== null && r.row_count !== undefined);
    const maxRows = counted ? line(pts.map((r) => Number(r.row_count) || 0), "rows") : null;
    const maxDur = line(pts.map((r) => r.duration_s || 0), "dur");
    const rowsText = counted ? "rows (blue, max " + maxRows + ")" : "no row counts recorded";
    svg.append(h("svg:text", { x: 10, y: hgt - 4, text: rowsText + " · duration (amber, max " + dur(maxDur) + ") · " + pts.length + " runs" }));
    return svg;
  }
  async function showAsset(key) {
    setNav("graph");
    const a = await api("/api/assets/" + enc(key));
    const latest = a.latest;
    const facts = h("table", {},
      [["status", pill(a.status)], ["group", a.group], ["I/O manager", a.io_manager + " (" + a.io_manager_type + ")"],
       ["last stored", latest ? when(latest.started_at) : "never"], ["run", latest ? h("a", { href: "#/run/" + latest.run_id, text: latest.run_id.slice(0, 8) }) : "—"],
       ["duration", latest ? dur(latest.duration_s) : "—"], ["where", latest && latest.where ? h("code", { text: String(latest.where) }) : "—"],
       ["row count", h("span", { id: "row-count", text: latest && latest.row_count !== null ? String(latest.row_count) : "—" })],
       ["upstream", a.upstream.map((u) => h("a", { href: "#/asset/" + enc(u), text: u + " " }))],
       ["downstream", a.downstream.map((u) => h("a", { href: "#/asset/" + enc(u), text: u + " " }))]]
        .map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", {}, v))));
    const meta = latest ? metaTable(latest.metadata, latest.metadata_kinds, "metadata") : h("span", { class: "muted", text: "nothing stored yet" });
    const hist = h("table", {}, h("tr", {}, ["when", "run", "status", "partition", "rows", "duration"].map((x) => h("th", { text: x }))),
      a.history.slice(0, 25).map((r) => h("tr", {}, h("td", { text: when(r.started_at) }), h("td", {}, h("a", { href: "#/run/" + r.run_id, text: r.run_id.slice(0, 8) })), h("td", {}, pill(r.status)), h("td", { text: r.partition_key || "" }), h("td", { class: "num", text: r.row_count ?? "" }), h("td", { class: "num", text: dur(r.duration_s) }))));
    const parts = a.partitions ? h("div", { class: "card" }, h("h2", { text: "Partitions (" + (a.partitions.total ?? 0) + ")" }),
      h("div", { class: "parts", id: "partitions" }, a.partitions.keys.map((k) => h("span", { class: a.partitions.status[k], title: k + ": " + a.partitions.status[k] })))) : null;
    const checks = a.checks.length ? h("div", { class: "card" }, h("h2", { text: "Checks (latest results)" }), h("table", { id: "checks" },
      h("tr", {}, ["check", "result", "severity", "evaluated", "run", "metadata"].map((x) => h("th", { text: x }))),
      a.checks.map((c) => h("tr", { "data-check": c.name, "data-status": c.status },
        h("td", {}, h("span", { class: "mono", text: c.name }), c.blocking ? h("span", { class: "muted", text: " (blocking)" }) : "", c.description ? h("div", { class: "muted", text: c.description }) : ""),
        h("td", {}, pill(c.status)), h("td", { text: c.status === "failed" ? c.severity || "" : "" }), h("td", { text: c.evaluated_at ? when(c.evaluated_at) : "never" }),
        h("td", {}, c.run_id ? h("a", { class: "mono", href: "#/run/" + c.run_id, text: c.run_id.slice(0, 8) }) : ""),
        h("td", {}, c.error ? h("pre", { text: c.error }) : metaTable(Object.fromEntries(Object.entries(c.metadata).filter(([k]) => k !== "passed" && k !== "severity")), c.metadata_kinds)))))) : null;
    const err = latest === null && a.history.length && a.history[0].error ? h("pre", { text: a.history[0].error }) : null;
    const lastErr = a.history.length && a.history[0].status !== "success" && a.history[0].error ? h("div", { class: "card" }, h("h2", { text: "Newest attempt " + a.history[0].status }), h("pre", { text: a.history[0].error })) : null;
    const btn = h("button", { id: "materialize-asset", text: "Materialize", disabled: a.kind !== "asset", onclick: () => launchKeys([a.key]) });
    show(
      h("div", { class: "toolbar" }, h("h1", { id: "asset-title", text: a.key }), pill(a.status), btn),
      a.description ? h("p", { class: "muted", text: a.description }) : "",
      lastErr, err,
      h("div", { class: "grid2" },
        h("div", { class: "card" }, h("h2", { text: "Latest materialization" }), facts),
        h("div", { class: "card" }, h("h2", { text: "Columns" }), latest ? schemaTable(latest.schema) : h("span", { class: "muted", text: "—" }))),
      h("div", { class: "card" }, h("h2", { text: "Metadata" }), meta),
      parts, checks,
      h("div", { class: "card" }, h("h2", { text: "History" }), plot(a.history), hist),
      previewCard(a));
  }
  function previewCard(a) {
    const card = h("div", { class: "card", id: "preview-card" }, h("h2", { text: "Data preview" }));
    // a live refresh re-renders the page: the reader's column and row choices for this asset survive it
    if (!state.preview || state.preview.key !== a.key) state.preview = { key: a.key, unticked: new Set(), limit: 20 };
    const kept = state.preview;
    const limit = h("input", { type: "number", id: "preview-limit", value: kept.limit, min: 1, max: 1000, class: "narrow", onchange: () => { kept.limit = limit.value; } });
    const cols = h("span", { class: "cols" });
    const out = h("div", { class: "preview-wrap", id: "preview" });
    const names = a.latest && a.latest.schema && typeof a.latest.schema === "object" ? (Array.isArray(a.latest.schema) ? a.latest.schema.map((c) => c.name) : Object.keys(a.latest.schema)) : [];
    names.forEach((n) => {
      const box = h("input", { type: "checkbox", checked: !kept.unticked.has(n), value: n, class: "col" });
      box.addEventListener("change", () => { if (box.checked) kept.unticked.delete(n); else kept.unticked.add(n); });
      cols.append(h("label", {}, box, " " + n));
    });
    const load = async () => {
      out.replaceChildren(h("span", { class: "muted", text: "loading…" }));
      const picked = [...cols.querySelectorAll("input.col")].filter((c) => c.checked).map((c) => c.value);
      const q = new URLSearchParams({ limit: limit.value });
      if (names.length && picked.length !== names.length) q.set("columns", picked.join(","));
      try {
        const p = await api("/api/assets/" + enc(a.key) + "/preview?" + q);
        if (p.text !== undefined) { out.replaceChildren(h("pre", { text: p.text })); return; }
        out.replaceChildren(h("table", { id: "preview-table" }, h("tr", {}, p.columns.map((c, i) => h("th", { title: p.types[i], text: c }))),
          p.rows.map((r) => h("tr", {}, r.map((v) => h("td", { class: typeof v === "number" ? "num" : "", text: v === null ? "null" : String(v) }))))),
          h("div", { class: "muted", text: p.rows.length + " rows" + (p.truncated ? " (more stored)" : "") }));
      } catch (e) { out.replaceChildren(h("span", { class: "muted", text: e.message })); }
    };
    card.append(h("div", { class: "toolbar" }, "rows", limit, cols, h("button", { class: "secondary", id: "preview-load", text: "Load", onclick: load })), out);
    if (a.latest) load(); else out.append(h("span", { class: "muted", text: "nothing stored yet" }));
    return card;
  }

  // ---- runs ----------------------------------------------------------------------------
  async function showRuns() {
    setNav("runs");
    const r = await api("/api/runs");
    const rows = [...r.launches.map((l) => ({ run_id: l.run_ids[0], status: "running", started_at: l.started_at, assets: Object.keys(l.steps).length, duration_s: null, partition_key: l.partitions[0] })), ...r.runs];
    show(h("h1", { text: "Runs" }), h("table", { id: "runs" }, h("tr", {}, ["run", "status", "started", "duration", "assets", "failed", "partition"].map((x) => h("th", { text: x }))),
      rows.map((x) => h("tr", {}, h("td", {}, h("a", { class: "mono", href: "#/run/" + x.run_id, text: x.run_id.slice(0, 12) })), h("td", {}, pill(x.status)), h("td", { text: when(x.started_at) }), h("td", { class: "num", text: dur(x.duration_s) }), h("td", { class: "num", text: x.assets }), h("td", { class: "num", text: x.failed ?? "" }), h("td", { text: x.partition_key || "" })))));
  }
  async function showRun(id) {
    setNav("runs");
    const r = await api("/api/runs/" + encodeURIComponent(id));
    const steps = r.steps;
    const live = r.live_steps || {};
    Object.entries(live).forEach(([k, s]) => { if (!steps.some((x) => x.asset_key === k)) steps.push({ asset_key: k, status: s, started_at: null, duration_s: null }); });
    const tries = {};  // a step retried by its RetryPolicy has a row per attempt, oldest first
    steps.forEach((s) => { tries[s.asset_key] = (tries[s.asset_key] || 0) + 1; s.attempt = tries[s.asset_key]; });
    const label = (s) => s.asset_key + (tries[s.asset_key] > 1 ? " (attempt " + s.attempt + ")" : "");
    const t0 = Math.min(...steps.filter((s) => s.started_at).map((s) => s.started_at), Infinity);
    const t1 = Math.max(...steps.filter((s) => s.started_at).map((s) => s.started_at + s.duration_s), -Infinity);
    const span = Math.max(t1 - t0, 1e-3), w = 720, left = 200, rowH = 22;
    const gantt = h("svg:svg", { class: "gantt", id: "gantt", width: w + left + 20, height: steps.length * rowH + 24 });
    steps.forEach((s, i) => {
      gantt.append(h("svg:text", { x: 4, y: i * rowH + 15, text: label(s) }));
      if (s.started_at) { const x = left + ((s.started_at - t0) / span) * w; gantt.append(h("svg:rect", { class: s.status, x, y: i * rowH + 4, height: 14, width: Math.max(2, (s.duration_s / span) * w), rx: 2 }, h("svg:title", { text: s.asset_key + ": " + dur(s.duration_s) }))); }
      else gantt.append(h("svg:rect", { class: s.status, x: left, y: i * rowH + 4, height: 14, width: 6 }));
    });
    gantt.append(h("svg:text", { x: left, y: steps.length * rowH + 18, text: "0 — " + dur(span) }));
    const errors = steps.filter((s) => s.error).map((s) => h("div", { class: "card step-error", "data-step": s.asset_key }, h("h2", {}, label(s) + " ", pill(s.status)), h("pre", { text: s.error })));
    const logs = r.logs && r.logs.length ? h("table", { id: "logs" }, r.logs.map((l) => h("tr", {}, h("td", { text: when(l.time) }), h("td", {}, h("span", { class: "level " + l.level, text: l.level })), h("td", {}, h("a", { href: "#/asset/" + enc(l.asset_key), text: l.asset_key })), h("td", { class: "mono", text: l.message })))) : h("span", { class: "muted", text: "no logs recorded for this run" });
    show(h("div", { class: "toolbar" }, h("h1", { class: "mono", text: "run " + r.run_id }), pill(r.status), r.partition_key ? "partition " + r.partition_key : ""),
      r.launch_error ? h("pre", { text: r.launch_error }) : "",
      h("div", { class: "card" }, h("h2", { text: "Timeline" }), gantt),
      h("div", { class: "card" }, h("h2", { text: "Steps" }), h("table", { id: "steps" }, h("tr", {}, ["asset", "attempt", "status", "started", "duration"].map((x) => h("th", { text: x }))),
        steps.map((s) => h("tr", {}, h("td", {}, h("a", { href: "#/asset/" + enc(s.asset_key.split("#")[0]), text: s.asset_key })), h("td", { class: "num", text: s.attempt + " of " + tries[s.asset_key] }), h("td", {}, pill(s.status)), h("td", { text: s.started_at ? when(s.started_at) : "" }), h("td", { class: "num", text: dur(s.duration_s) }))))),
      errors, h("div", { class: "card" }, h("h2", { text: "Logs" }), logs));
  }

  // ---- schedules -----------------------------------------------------------------------
  async function showSchedules() {
    setNav("schedules");
    const s = await api("/api/schedules");
    const rows = s.instigators.map((x) => h("div", { class: "card", "data-instigator": x.name },
      h("div", { class: "toolbar" }, h("h2", { text: x.kind + " " + x.name }), pill(x.status),
        h("button", { class: "secondary", text: x.status === "running" ? "Stop" : "Start", onclick: async () => { await api("/api/schedules/" + encodeURIComponent(x.name) + "/" + (x.status === "running" ? "stop" : "start"), { method: "POST" }); route(); } })),
      h("div", { class: "muted", text: x.kind === "schedule" ? x.cron_schedule + " (" + x.timezone + "), next tick " + x.next_tick : "every " + x.minimum_interval_seconds + " s, cursor " + (x.cursor ?? "none") }),
      h("table", {}, x.ticks.map((t) => h("tr", {}, h("td", { text: when(t.tick_at) }), h("td", {}, pill(t.status)), h("td", {}, t.run_ids.map((id) => h("a", { class: "mono", href: "#/run/" + id, text: id.slice(0, 8) + " " }))), h("td", { class: "mono", text: t.message || "" }))))));
    show(h("h1", { text: "Schedules and sensors" }), rows.length ? rows : h("p", { class: "muted", text: "No schedules or sensors in these definitions." }));
  }

  // ---- launch --------------------------------------------------------------------------
  async function launchKeys(keys, extra) {
    try {
      const l = await api("/api/launch", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(Object.assign({ selection: keys }, extra || {})) });
      banner("");
      return l;
    } catch (e) { banner(e.message); return null; }
  }
  function showLaunch() {
    setNav("launch");
    const job = h("select", { id: "launch-job" }, h("option", { value: "", text: "no job: the selection" }), (state.jobs || []).map((j) => h("option", { value: j, text: j })));
    const sel = h("input", { type: "text", id: "launch-selection", placeholder: "asset keys, comma-separated (empty: all, or all of the job)" });
    const part = h("input", { type: "text", id: "launch-partitions", placeholder: "partition, or a range A...B for a backfill" });
    const yaml = h("textarea", { id: "launch-config", placeholder: "run config (YAML), e.g.\nops:\n  my_asset:\n    config:\n      limit: 10" });
    const out = h("div", { id: "launch-result" });
    const go = async () => {
      const p = part.value.trim();
      const extra = { run_config: yaml.value, job: job.value || null };
      if (p.includes("...") || p.includes(",")) extra.partitions = p; else if (p) extra.partition = p;
      const l = await launchKeys(sel.value.split(",").map((x) => x.trim()).filter(Boolean), extra);
      if (l) out.replaceChildren("launched ", ...l.run_ids.map((id) => h("a", { class: "mono", href: "#/run/" + id, text: id.slice(0, 8) + " " })));
    };
    show(h("h1", { text: "Launch a run" }), h("div", { class: "card" }, h("div", { class: "toolbar" }, "job", job), h("div", { class: "toolbar" }, "selection", sel), h("div", { class: "toolbar" }, "partitions", part), yaml, h("div", { class: "toolbar" }, h("button", { id: "launch-go", text: "Launch", onclick: go })), out));
  }

  // ---- routing and live updates --------------------------------------------------------
  let current = "";
  async function route() {
    const hash = decodeURIComponent(location.hash.slice(1) || "/");
    current = hash;
    try {
      if (hash.startsWith("/asset/")) await showAsset(hash.slice(7));
      else if (hash === "/runs") await showRuns();
      else if (hash.startsWith("/run/")) await showRun(hash.slice(5));
      else if (hash === "/schedules") await showSchedules();
      else if (hash === "/launch") showLaunch();
      else await showGraph();
    } catch (e) { show(h("p", { class: "muted", text: e.message })); }
  }
  let refreshTimer = null;
  function refreshSoon() { clearTimeout(refreshTimer); refreshTimer = setTimeout(() => { if (!current.startsWith("/launch")) route(); }, 300); }
  async function refreshStatuses() {
    if (!document.getElementById("graph")) return;
    const g = await api("/api/graph");
    g.assets.forEach((n) => { if (!state.running[n.key]) paintStatus(n.key, n.status); });
    (g.checks || []).forEach(paintCheck);
  }
  function connect() {
    const es = new EventSource("/api/events" + (TOKEN ? "?token=" + encodeURIComponent(TOKEN) : ""));
    const dot = document.getElementById("live");
    es.onopen = () => dot.classList.add("on");
    es.onerror = () => dot.classList.remove("on");
    es.onmessage = (msg) => {
      const ev = JSON.parse(msg.data);
      if (ev.type === "step_start") { state.running[ev.asset_key] = true; paintStatus(ev.asset_key, "running"); }
      else if (ev.type === "step_end") { delete state.running[ev.asset_key]; }
      if (ev.type === "materialization" || ev.type === "launch_end" || ev.type === "step_end") {
        if (document.getElementById("graph")) refreshStatuses(); else if (!current.startsWith("/launch")) refreshSoon();
      }
      if (ev.type === "tick" && current === "/schedules") refreshSoon();
      if (ev.type === "launch_end" && ev.error) banner(ev.error);
    };
  }
  api("/api/info").then((i) => { state.jobs = i.jobs; document.getElementById("location").textContent = i.location; if (i.load_error) banner(i.load_error); }).catch((e) => banner(e.message));
  window.addEventListener("hashchange", route);
  route();
  connect();
})();
