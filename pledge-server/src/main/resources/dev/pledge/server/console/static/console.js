// Pledge console: one page, no library, talking to the coordinator only through /api/v1.
// Every piece of text from the server goes into the page through textContent (never innerHTML), so a
// gid, an error or a reason cannot inject markup.
"use strict";

(() => {
  const TOKEN_KEY = "pledge.token";
  const COUNTS_EVERY_MS = 5000;
  const DETAIL_EVERY_MS = 3000;
  const PAGE_SIZE = 50;
  /** The most dead letters re-driven in one request: a bound, as every batch has one. */
  const MAX_REDRIVE = 100;
  const STATUSES = ["begun", "prepared", "committing", "aborting", "committed", "aborted"];
  const MODES = ["saga", "tcc", "2pc", "xa", "3pc", "msg"];
  const AGES = [
    ["", "any age"],
    ["older:60", "older than 1 minute"],
    ["older:600", "older than 10 minutes"],
    ["older:3600", "older than 1 hour"],
    ["older:86400", "older than 1 day"],
    ["newer:600", "newer than 10 minutes"],
    ["newer:3600", "newer than 1 hour"],
  ];

  // --- small helpers ------------------------------------------------------------------------

  /** Makes an element: el("a", {href: "#"}, "text", child, …). Strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (selector) => document.querySelector(selector);

  function badge(status) {
    return el("span", { class: "badge s-" + status, "data-status": status }, status);
  }

  /** "3 s", "5 min", "2 h", "4 d": how long ago, for a table cell. */
  function ago(iso, now = Date.now()) {
    const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    if (seconds < 90) return seconds + " s";
    if (seconds < 90 * 60) return Math.round(seconds / 60) + " min";
    if (seconds < 36 * 3600) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  function when(iso) {
    const at = new Date(iso);
    return isNaN(at) ? iso : at.toLocaleString(undefined, { hour12: false });
  }

  function timeOfDay(iso) {
    const at = new Date(iso);
    if (isNaN(at)) return iso;
    return at.toLocaleTimeString(undefined, { hour12: false }) + "." + String(at.getMilliseconds()).padStart(3, "0");
  }

  // --- the API ------------------------------------------------------------------------------

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  /**
   * Calls the API; answers {status, body} whatever the status (body: parsed JSON, or null), and
   * throws only when the coordinator cannot be reached.
   */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      throw new Error("the coordinator did not answer (" + e.message + ")");
    }
    let parsed = null;
    const text = await response.text();
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        parsed = { error: "not_json", message: text.slice(0, 300) };
      }
    }
    if (response.status === 401) showBanner("The coordinator asks for a token: enter one above (401).");
    else if (response.status === 403) showBanner("Your token's role does not allow " + method + " " + path + " (403).");
    return { status: response.status, body: parsed };
  }

  /** Whether an answer says the route itself does not exist on this coordinator (an older build). */
  function noSuchRoute(answer) {
    return answer.status === 404 && answer.body && typeof answer.body.message === "string" && answer.body.message.startsWith("no route");
  }

  function describeError(answer) {
    const b = answer.body || {};
    const fields = (b.fields || []).map((f) => f.field + ": " + f.reason).join("; ");
    return answer.status + " " + (b.error || "") + (b.message ? ": " + b.message : "") + (fields ? " (" + fields + ")" : "");
  }

  function showBanner(text) {
    const banner = $("#banner");
    banner.textContent = text;
    banner.hidden = false;
  }

  function clearBanner() {
    $("#banner").hidden = true;
  }

  // --- plain-language explanations ----------------------------------------------------------

  const OP_MEANING = {
    action: "the step's work",
    compensate: "undo the step's work",
    try: "reserve (try)",
    confirm: "make the reservation final (confirm)",
    cancel: "release the reservation (cancel)",
    prepare: "vote (prepare)",
    commit: "make it final (commit)",
    rollback: "undo (roll back)",
    "can-commit": "vote (can commit?)",
    "pre-commit": "get ready to commit (pre-commit)",
    "do-commit": "make it final (do commit)",
    abort: "undo (abort)",
  };

  const OP_STATUS_MEANING = {
    idle: "not called yet",
    "in-flight": "called, waiting for the answer",
    waiting: "answered 'not yet' or gave no usable answer; will be called again",
    succeeded: "done",
    failed: "refused",
    skipped: "not needed",
    abandoned: "no longer awaited (the transaction went the other way)",
    dead: "gave up after its retries: waits for an operator to re-drive it (Dead letters)",
  };

  function explain(tx) {
    const flagged = tx.flag ? " It is flagged for an operator: " + tx.flag + "." : "";
    const byMode = {
      saga: {
        begun: "Running: the coordinator calls each step's action in order. If a step refuses or the timeout passes, every step that may have run is undone (compensated), in reverse order.",
        aborting: "Undoing: a step refused or the timeout passed, so the coordinator is calling the compensation of every step that may have run, newest first, until each succeeds.",
        committed: "Done: every step's action succeeded.",
        aborted: "Undone: every step that may have run was compensated. Nothing of this transaction remains in effect.",
      },
      tcc: {
        begun: "Trying: the caller is registering branches, each of which reserved something. Nothing is final until the caller asks to commit.",
        committing: "Confirming: the decision to commit is logged and cannot change; the coordinator calls confirm on every branch until each succeeds.",
        aborting: "Cancelling: the decision to abort is logged; the coordinator calls cancel on every branch until each succeeds.",
        committed: "Done: every branch confirmed.",
        aborted: "Cancelled: every branch released what it reserved.",
      },
      "2pc": {
        begun: "Voting: the coordinator asks every branch to prepare. No decision is logged yet, so it may still go either way.",
        committing: "Committing: the decision to commit is logged and cannot change; every branch is told to commit until each succeeds.",
        aborting: "Rolling back: the decision to abort is logged; every prepared branch is told to roll back.",
        committed: "Done: every branch committed.",
        aborted: "Rolled back: no branch kept any change.",
      },
      xa: {
        begun: "Voting: each branch's database prepares its transaction. No decision is logged yet, so it may still go either way.",
        committing: "Committing: the decision to commit is logged and cannot change; every branch's prepared database transaction is committed.",
        aborting: "Rolling back: the decision to abort is logged; every prepared database transaction is rolled back.",
        committed: "Done: every branch's database committed.",
        aborted: "Rolled back: no database kept any change.",
      },
      "3pc": {
        begun: "Voting: every branch is asked whether it can commit. No decision yet.",
        prepared: "Pre-committing: every branch voted yes and is told to get ready; a participant that is ready commits by itself after its timeout.",
        committing: "Committing: every branch is told to commit until each succeeds.",
        aborting: "Aborting: every branch is told to abort until each succeeds.",
        committed: "Done: every branch committed.",
        aborted: "Aborted: no branch kept any change.",
      },
      msg: {
        prepared: "Waiting for the producer: its messages are held, invisible, until the producer's own transaction commits. If the producer goes quiet, the coordinator asks it (check-back).",
        committing: "Delivering: the producer committed, so each message goes to each subscription until it is acknowledged.",
        committed: "Done: the producer committed and every message reached every subscription.",
        aborting: "Dropping: the producer's transaction did not commit, so its messages will never be delivered.",
        aborted: "Dropped: the producer did not commit; no message was delivered.",
      },
    };
    const text = (byMode[tx.mode] || {})[tx.status] || "Status " + tx.status + " (" + tx.mode + ").";
    const dead = (tx.messages || []).reduce((n, m) => n + m.deliveries.filter((d) => d.status === "dead").length, 0);
    const deadLetters = dead
      ? " But " + dead + (dead === 1 ? " delivery" : " deliveries") + " gave up after its retries (a dead letter): nothing retries it until an operator re-drives it on the Dead letters page."
      : "";
    return (dead && tx.mode === "msg" && tx.status === "committed" ? "Committed: the producer committed." : text) + deadLetters + flagged;
  }

  // --- token ---------------------------------------------------------------------------------

  function renderTokenState() {
    $("#token-state").textContent = token() ? "token set for this tab" : "no token";
  }

  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("#token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("#token").value = "";
    clearBanner();
    renderTokenState();
    route();
  });
  $("#token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    renderTokenState();
    route();
  });

  // --- live counts and rates -----------------------------------------------------------------

  let lastCounts = null;

  async function refreshCounts() {
    if (document.hidden) return;
    const box = $("#counts");
    let answer;
    try {
      answer = await api("GET", "/api/v1/counts");
    } catch (e) {
      box.replaceChildren(el("span", { class: "muted" }, "Counts: " + e.message));
      return;
    }
    if (answer.status !== 200) {
      box.replaceChildren(el("span", { class: "muted" }, noSuchRoute(answer) ? "Counts are not available on this coordinator." : "Counts: " + describeError(answer)));
      return;
    }
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const row of answer.body.counts) byStatus[row.status] = (byStatus[row.status] || 0) + row.transactions;
    const now = Date.now();
    const rate = (status) => {
      if (!lastCounts || now <= lastCounts.at) return "–";
      const perSecond = ((byStatus[status] - lastCounts.byStatus[status]) * 1000) / (now - lastCounts.at);
      return (perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)) + "/s";
    };
    const inFlight = ["begun", "prepared", "committing", "aborting"].reduce((n, s) => n + byStatus[s], 0);
    const item = (id, label, value, extra) =>
      el("span", { class: "count", id: "count-" + id }, label + " ", el("b", {}, String(value)), extra ? el("span", { class: "muted" }, " " + extra) : null);
    box.replaceChildren(
      item("in-flight", "In flight", inFlight, "(" + ["begun", "prepared", "committing", "aborting"].map((s) => s + " " + byStatus[s]).join(", ") + ")"),
      item("committed", "Committed", byStatus.committed, rate("committed")),
      item("aborted", "Aborted", byStatus.aborted, rate("aborted")),
    );
    lastCounts = { at: now, byStatus };
  }

  // --- transactions: list --------------------------------------------------------------------

  /** Reads the list's filters from the hash: #/transactions?status=…&mode=…&age=…&gid=… */
  function listFilters(params) {
    return {
      status: params.get("status") || "",
      mode: params.get("mode") || "",
      age: params.get("age") || "",
      gid: params.get("gid") || "",
    };
  }

  function listQuery(filters, asOf, cursor) {
    const q = new URLSearchParams();
    if (filters.status) q.set("status", filters.status);
    if (filters.mode) q.set("mode", filters.mode);
    if (filters.gid) q.set("gid", filters.gid);
    if (filters.age) {
      const [kind, seconds] = filters.age.split(":");
      const edge = new Date(asOf - Number(seconds) * 1000).toISOString();
      q.set(kind === "older" ? "createdBefore" : "createdAfter", edge);
    }
    q.set("limit", String(PAGE_SIZE));
    if (cursor) q.set("cursor", cursor);
    return q.toString();
  }

  function select(id, label, options, value) {
    return el(
      "label",
      {},
      label,
      el("select", { id, name: id }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))),
    );
  }

  async function showTransactions(params) {
    const filters = listFilters(params);
    const view = $("#view");
    const form = el(
      "form",
      { class: "panel filters", id: "filters", role: "search" },
      select("f-status", "Status", [["", "any status"], ...STATUSES.map((s) => [s, s])], filters.status),
      select("f-mode", "Mode", [["", "any mode"], ...MODES.map((m) => [m, m])], filters.mode),
      select("f-age", "Age", AGES, filters.age),
      el("label", {}, "Gid contains", el("input", { id: "f-gid", name: "gid", value: filters.gid, placeholder: "e.g. order-17", pattern: "[A-Za-z0-9._:\\-]{1,128}", spellcheck: "false" })),
      el("button", { type: "submit" }, "Filter"),
      el("button", { type: "button", class: "secondary", onclick: () => (location.hash = "#/transactions") }, "Clear"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = new URLSearchParams();
      const put = (name, value) => value && q.set(name, value);
      put("status", $("#f-status").value);
      put("mode", $("#f-mode").value);
      put("age", $("#f-age").value);
      put("gid", $("#f-gid").value.trim());
      const next = "#/transactions" + (q.toString() ? "?" + q : "");
      if (location.hash === next) route();
      else location.hash = next;
    });
    const results = el("div", { id: "results" });
    view.replaceChildren(el("h1", {}, "Transactions"), form, results);

    // Paging: a stack of cursors, so "Previous" goes back; the age is measured from one instant,
    // so that the pages of one listing agree with each other.
    const asOf = Date.now();
    const cursors = [null];
    const load = async () => {
      results.replaceChildren(el("p", { class: "muted" }, "Loading…"));
      let answer;
      try {
        answer = await api("GET", "/api/v1/transactions?" + listQuery(filters, asOf, cursors[cursors.length - 1]));
      } catch (e) {
        results.replaceChildren(el("p", { class: "banner" }, e.message));
        return;
      }
      if (answer.status !== 200) {
        results.replaceChildren(el("p", { class: "result refused" }, "The list could not be read: " + describeError(answer)));
        return;
      }
      const items = answer.body.items;
      const now = Date.now();
      const table = items.length
        ? el(
            "table",
            { id: "transactions" },
            el("thead", {}, el("tr", {}, ["Gid", "Mode", "Status", "Age", "Last change", "Branches", "Needs attention"].map((h) => el("th", {}, h)))),
            el(
              "tbody",
              {},
              items.map((tx) =>
                el(
                  "tr",
                  { class: tx.flag ? "attention" : "", "data-gid": tx.gid },
                  el("td", { class: "mono" }, el("a", { href: "#/transactions/" + encodeURIComponent(tx.gid) }, tx.gid)),
                  el("td", {}, tx.mode),
                  el("td", {}, badge(tx.status)),
                  el("td", { title: when(tx.createdAt) }, ago(tx.createdAt, now)),
                  el("td", { title: when(tx.updatedAt) }, ago(tx.updatedAt, now) + " ago"),
                  el("td", { class: "num" }, String(tx.branches.length)),
                  el("td", { class: "flag" }, tx.flag || ""),
                ),
              ),
            ),
          )
        : el("p", { class: "empty panel", id: "no-transactions" }, "No transaction matches these filters.");
      const pager = el(
        "div",
        { class: "pager" },
        el("button", { type: "button", class: "secondary", id: "page-prev", disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        el("span", { class: "muted", id: "page-number" }, "page " + cursors.length),
        el("button", { type: "button", class: "secondary", id: "page-next", disabled: !answer.body.nextCursor, onclick: () => { cursors.push(answer.body.nextCursor); load(); } }, "Next"),
      );
      results.replaceChildren(table, pager);
    };
    await load();
  }

  // --- one transaction -----------------------------------------------------------------------

  async function showTransaction(gid) {
    const view = $("#view");
    view.replaceChildren(el("p", { class: "muted" }, "Loading " + gid + "…"));
    const summary = el("div", { id: "summary" });
    const timeline = el("section", { id: "timeline", class: "panel" });
    const branches = el("section", { id: "branches" });
    const audit = el("section", { id: "tx-audit" });
    const actions = el("section", { id: "actions", class: "panel actions" });
    view.replaceChildren(
      el("p", {}, el("a", { href: "#/transactions" }, "← all transactions")),
      summary,
      el("h2", {}, "Timeline"),
      timeline,
      el("h2", {}, "Branches and messages"),
      branches,
      el("h2", {}, "Act on it"),
      actions,
      el("h2", {}, "Operator actions on it"),
      audit,
    );
    let rendered = null;
    const refresh = async () => {
      const answer = await api("GET", "/api/v1/transactions/" + encodeURIComponent(gid));
      if (answer.status !== 200) {
        summary.replaceChildren(el("p", { class: "result refused" }, answer.status === 404 ? "No transaction " + gid + "." : describeError(answer)));
        return null;
      }
      const tx = answer.body;
      renderSummary(summary, tx);
      renderBranches(branches, tx);
      await renderTimeline(timeline, tx);
      await renderAudit(audit, { gid });
      if (!rendered) renderActions(actions, tx, refresh);
      else updateActions(actions, tx);
      rendered = tx;
      return tx;
    };
    const tx = await refresh();
    // Live while the transaction is not final and this view is shown.
    if (tx && !tx.final) {
      const timer = setInterval(async () => {
        if (currentView !== "tx:" + gid) return clearInterval(timer);
        if (document.hidden) return;
        const now = await refresh();
        if (!now || now.final) clearInterval(timer);
      }, DETAIL_EVERY_MS);
    }
  }

  function renderSummary(box, tx) {
    box.replaceChildren(
      el("h1", { class: "mono" }, tx.gid),
      el("div", { class: "row" }, badge(tx.status), el("span", { class: "badge" }, tx.mode), tx.final ? el("span", { class: "muted" }, "final") : el("span", { class: "muted" }, "in flight: updates every few seconds")),
      el("p", { class: "explain", id: "explain" }, explain(tx)),
      el(
        "dl",
        { class: "facts panel" },
        el("dt", {}, "Created"), el("dd", {}, when(tx.createdAt) + " (" + ago(tx.createdAt) + " ago)"),
        el("dt", {}, "Last change"), el("dd", {}, when(tx.updatedAt) + " (" + ago(tx.updatedAt) + " ago)"),
        el("dt", {}, "Version"), el("dd", {}, String(tx.version) + " (each logged change adds one)"),
        tx.flag ? [el("dt", {}, "Needs attention"), el("dd", { class: "flag", id: "flag" }, tx.flag)] : null,
      ),
    );
  }

  function renderBranches(box, tx) {
    const parts = [];
    if (tx.branches.length) {
      parts.push(
        el(
          "table",
          { id: "branch-table" },
          el("thead", {}, el("tr", {}, ["Branch", "Op", "What it does", "Status", "Attempts", "Last error"].map((h) => el("th", {}, h)))),
          el(
            "tbody",
            {},
            tx.branches.flatMap((b) =>
              b.ops.map((op, i) =>
                el(
                  "tr",
                  { "data-branch": b.branchId, "data-op": op.op },
                  el("td", { class: "mono" }, i === 0 ? b.branchId : ""),
                  el("td", {}, op.op),
                  el("td", { class: "muted" }, OP_MEANING[op.op] || ""),
                  el("td", { title: OP_STATUS_MEANING[op.status] || "" }, badge(op.status), " ", el("span", { class: "muted" }, OP_STATUS_MEANING[op.status] || "")),
                  el("td", { class: "num" }, String(op.attempts)),
                  el("td", { class: "mono" }, op.lastError || ""),
                ),
              ),
            ),
          ),
        ),
      );
    } else {
      parts.push(el("p", { class: "muted" }, tx.mode === "msg" ? "A message transaction has no branches: its producer commits or aborts, and its messages follow." : "No branch registered yet."));
    }
    if (tx.messages.length) {
      parts.push(
        el(
          "table",
          { id: "message-table" },
          el("thead", {}, el("tr", {}, ["Message", "Topic", "Key", "Subscription", "Delivery", "Attempts", "Last error"].map((h) => el("th", {}, h)))),
          el(
            "tbody",
            {},
            tx.messages.flatMap((m) => {
              const rows = m.deliveries.length ? m.deliveries : [null];
              return rows.map((d, i) =>
                el(
                  "tr",
                  { "data-message": m.messageId, "data-subscription": d ? d.subscription : null },
                  el("td", { class: "mono" }, i === 0 ? m.messageId : ""),
                  el("td", {}, i === 0 ? m.topic : ""),
                  el("td", { class: "mono" }, i === 0 ? m.key || "" : ""),
                  el("td", {}, d ? d.subscription : el("span", { class: "muted" }, "no subscription yet")),
                  el("td", { title: d ? OP_STATUS_MEANING[d.status] || "" : "" }, d ? badge(d.status) : "", d && d.status === "dead" ? [" ", el("a", { href: "#/dead-letters?" + new URLSearchParams({ subscription: d.subscription }) }, "re-drive")] : ""),
                  el("td", { class: "num" }, d ? String(d.attempts) : ""),
                  el("td", { class: "mono" }, d ? d.lastError || "" : ""),
                ),
              );
            }),
          ),
        ),
      );
    }
    box.replaceChildren(...parts);
  }

  /**
   * The deliveries of tx that are dead now, by their history subject ("<messageId>><subscription>"),
   * with the attempt they died on: the timeline says that answer was the last.
   */
  function deadDeliveries(tx) {
    const dead = new Map();
    for (const m of tx.messages || []) for (const d of m.deliveries) if (d.status === "dead") dead.set(m.messageId + ">" + d.subscription, d.attempts);
    return dead;
  }

  /** One history entry in words, for someone who never read the protocol. */
  function describeEntry(e, dead = new Map()) {
    const on = e.subject === "check" ? "the producer's check-back" : e.subject && e.subject.includes(">") ? "delivery " + e.subject.replace(">", " to ") : "branch " + (e.subject || "?");
    const attempt = e.attempt ? " (attempt " + e.attempt + ")" : "";
    switch (e.kind) {
      case "state":
        return [e.from ? badge(e.from) : "created ", e.from ? " → " : "", badge(e.to), e.detail ? " " + e.detail : ""];
      case "call":
        return ["called " + (e.op || "") + " on " + on + attempt];
      case "answer": {
        const took = e.latencyMicros !== undefined ? " after " + (e.latencyMicros / 1000).toFixed(e.latencyMicros < 10000 ? 1 : 0) + " ms" : "";
        const gaveUp = e.op === "deliver" && e.outcome !== "succeeded" && dead.get(e.subject) === e.attempt;
        const what = gaveUp
          ? "no usable answer, the last attempt: a dead letter (not retried until an operator re-drives it)"
          : { succeeded: "done", failed: "refused", pending: "not yet (will ask again)", unknown: "no usable answer (will ask again)" }[e.outcome] || e.outcome || "answered";
        return [(e.op || "") + " on " + on + attempt + ": ", el("strong", {}, what), took, e.detail ? " — " + e.detail : ""];
      }
      case "request":
        return ["the caller asked to " + (e.op || "act") + (e.subject ? " (" + e.subject + ")" : ""), e.detail ? ": " + e.detail : ""];
      case "operator":
        // A forced action names the op it recorded and the operator's reason in its detail.
        return ["operator: " + (e.op || ""), e.subject ? " on " + on : "", e.detail ? " — " + e.detail : ""];
      default:
        return [e.detail || e.kind];
    }
  }

  /**
   * Folds a run of retries (call, same answer, call, same answer, … of one op) into one line, so a
   * participant that has been down for an hour is one line, not a thousand: {entry} for a line as it
   * is, {repeats, first, last, …} for a run of at least three answers alike.
   */
  function collapseRetries(entries) {
    const out = [];
    let run = null;
    const flush = () => {
      if (!run) return;
      if (run.answers >= 3) out.push({ repeats: run.answers, first: run.first, last: run.last, firstAttempt: run.firstAttempt });
      else run.items.forEach((entry) => out.push({ entry }));
      run = null;
    };
    for (const e of entries) {
      const same = run && e.subject === run.subject && e.op === run.op && (e.kind === "call" || (e.kind === "answer" && e.outcome === run.outcome));
      if (same) {
        run.items.push(e);
        if (e.kind === "answer") {
          run.answers++;
          run.last = e;
        }
        continue;
      }
      if (e.kind === "answer" && run && e.subject === run.subject && e.op === run.op && run.answers === 0) {
        // The first answer of a run started by its call: it sets the run's outcome.
        run.items.push(e);
        run.outcome = e.outcome;
        run.answers = 1;
        run.first = e;
        run.last = e;
        continue;
      }
      flush();
      if (e.kind === "call" || e.kind === "answer") {
        run = { subject: e.subject, op: e.op, outcome: e.kind === "answer" ? e.outcome : undefined, answers: e.kind === "answer" ? 1 : 0, items: [e], first: e, last: e, firstAttempt: e.attempt };
      } else {
        out.push({ entry: e });
      }
    }
    flush();
    return out;
  }

  function describeRepeats(g, dead) {
    const words = describeEntry(g.last, dead);
    const span = g.firstAttempt && g.last.attempt ? " (attempts " + g.firstAttempt + "–" + g.last.attempt + ")" : "";
    return [el("strong", {}, g.repeats + "× "), ...words, span, el("span", { class: "muted" }, " since " + timeOfDay(g.first.at))];
  }

  /**
   * The timeline: GET /api/v1/transactions/{gid}/history, oldest first: every state change, op call
   * and answer (with its timing), delivery, check-back, request and operator action. A coordinator
   * without that route gets the timeline the transaction itself implies (created, last change).
   */
  async function renderTimeline(box, tx) {
    const answer = await api("GET", "/api/v1/transactions/" + encodeURIComponent(tx.gid) + "/history");
    if (answer.status === 200 && answer.body) {
      const entries = answer.body.entries || [];
      const dead = deadDeliveries(tx);
      const start = entries.length ? Date.parse(entries[0].at) : Date.parse(tx.createdAt);
      const item = (e, extra) => {
        const failure = e.outcome === "failed" || e.outcome === "unknown";
        return el(
          "li",
          { class: e.kind + (e.kind === "operator" ? " operator" : "") + (failure ? " failure" : ""), "data-kind": e.kind },
          el("time", { datetime: e.at, title: when(e.at) }, timeOfDay(e.at) + " (+" + (Date.parse(e.at) - start) + " ms)"),
          extra || describeEntry(e, dead),
        );
      };
      box.replaceChildren(
        el("ol", { class: "timeline", id: "timeline-entries" }, collapseRetries(entries).map((g) => (g.repeats ? item(g.last, describeRepeats(g, dead)) : item(g.entry)))),
        ...(entries.length ? [] : [el("p", { class: "muted" }, "No history recorded.")]),
      );
      return;
    }
    if (answer.status === 404 && noSuchRoute(answer)) {
      box.replaceChildren(
        el(
          "p",
          { class: "unavailable", id: "timeline-unavailable" },
          "This coordinator does not serve a transaction's history yet, so the timeline shows only what the transaction itself records.",
        ),
        el(
          "ol",
          { class: "timeline", id: "timeline-entries" },
          el("li", {}, el("time", { datetime: tx.createdAt }, timeOfDay(tx.createdAt)), "created as a ", tx.mode, " transaction"),
          el("li", {}, el("time", { datetime: tx.updatedAt }, timeOfDay(tx.updatedAt)), "last change: now ", badge(tx.status), " (version " + tx.version + ")"),
        ),
      );
      return;
    }
    box.replaceChildren(el("p", { class: "result refused" }, "The history could not be read: " + describeError(answer)));
  }

  /** The audit log, for one transaction or all: GET /api/v1/audit. */
  async function renderAudit(box, { gid }) {
    const q = new URLSearchParams({ limit: "50" });
    if (gid) q.set("gid", gid);
    const answer = await api("GET", "/api/v1/audit?" + q);
    if (noSuchRoute(answer)) {
      box.replaceChildren(el("p", { class: "unavailable", id: "audit-unavailable" }, "This coordinator keeps no audit log yet."));
      return;
    }
    if (answer.status !== 200) {
      box.replaceChildren(el("p", { class: "result refused" }, "The audit log could not be read: " + describeError(answer)));
      return;
    }
    const items = answer.body.items || [];
    if (!items.length) {
      box.replaceChildren(el("p", { class: "muted empty", id: "audit-empty" }, gid ? "No operator has acted on this transaction." : "No operator action recorded."));
      return;
    }
    box.replaceChildren(
      el(
        "table",
        { id: "audit-table" },
        el("thead", {}, el("tr", {}, ["When", "Who", "What", "On", "Why", "Result"].map((h) => el("th", {}, h)))),
        el(
          "tbody",
          {},
          items.map((a) =>
            el(
              "tr",
              {},
              el("td", { title: a.at }, when(a.at)),
              el("td", {}, a.actor || ""),
              el("td", {}, a.action || ""),
              el("td", { class: "mono" }, a.gid ? el("a", { href: "#/transactions/" + encodeURIComponent(a.gid) }, a.gid) : a.target || ""),
              el("td", {}, a.reason || ""),
              el("td", {}, a.result || ""),
            ),
          ),
        ),
      ),
    );
  }

  // --- acting: retry and force ---------------------------------------------------------------

  const FORCE_ACTIONS = [
    ["abort", "Abort: decide to undo it (only while no commit is logged)"],
    ["skip-op", "Skip one op: record it as done by hand, without calling it"],
    ["mark-committed", "Mark committed: the commit is logged, the remaining confirmations were done by hand"],
  ];

  function renderActions(box, tx, refresh) {
    const retryResult = el("div", { id: "retry-result" });
    const retry = el(
      "div",
      { class: "row" },
      el("button", {
        type: "button",
        id: "retry",
        onclick: async () => {
          const answer = await api("POST", "/api/v1/transactions/" + encodeURIComponent(tx.gid) + "/retry", {});
          retryResult.replaceChildren(
            el("p", { class: "result " + (answer.status === 200 ? "ok" : "refused") }, answer.status === 200 ? "Retry sent: every op of the current phase that is waiting is called now. Status: " + answer.body.status + "." : "Retry refused: " + describeError(answer)),
          );
          await refresh();
        },
      }, "Retry now"),
      el("span", { class: "muted" }, "Calls again, at once, every op that is waiting for its next attempt. Safe at any time: ops are idempotent."),
    );

    const action = el("select", { id: "force-action" }, FORCE_ACTIONS.map(([v, t]) => el("option", { value: v }, t)));
    const op = el("select", { id: "force-op" });
    const opLabel = el("label", { id: "force-op-label" }, "Op to skip ", op);
    const reason = el("textarea", { id: "force-reason", placeholder: "Why (required, kept in the audit log): e.g. ticket OPS-123, refund done by hand", maxlength: "500" });
    const dryRun = el("button", { type: "button", id: "force-dry-run", class: "secondary" }, "Dry run");
    const apply = el("button", { type: "button", id: "force-apply", class: "danger", disabled: true }, "Apply");
    const result = el("div", { id: "force-result" });
    let checked = null; // the request the last dry run allowed; Apply sends exactly it

    const request = () => {
      const body = { action: action.value, reason: reason.value.trim() };
      if (action.value === "skip-op" && op.value) {
        const [branchId, opName] = op.value.split("\u0000");
        body.branchId = branchId;
        body.op = opName;
      }
      return body;
    };
    const invalidate = () => {
      checked = null;
      apply.disabled = true;
      opLabel.hidden = action.value !== "skip-op";
    };
    [action, op, reason].forEach((input) => input.addEventListener("input", invalidate));
    action.addEventListener("change", invalidate);

    const send = async (dry) => {
      const body = dry ? request() : checked;
      if (!body.reason) {
        result.replaceChildren(el("p", { class: "result refused" }, "Give a reason first: it goes into the audit log with your name and the time."));
        return;
      }
      const answer = await api("POST", "/api/v1/transactions/" + encodeURIComponent(tx.gid) + "/force", { ...body, dryRun: dry });
      if (noSuchRoute(answer)) {
        result.replaceChildren(el("p", { class: "unavailable", id: "force-unavailable" }, "This coordinator cannot force transactions yet."));
        return;
      }
      if (answer.status !== 200) {
        checked = null;
        apply.disabled = true;
        result.replaceChildren(el("div", { class: "result refused" }, el("strong", {}, dry ? "The dry run says no. " : "Refused. "), describeError(answer)));
        return;
      }
      const b = answer.body;
      const changes = b.changes || [];
      result.replaceChildren(
        el(
          "div",
          { class: "result " + (b.allowed === false ? "refused" : "ok"), id: dry ? "dry-run-result" : "applied-result" },
          el("strong", {}, dry ? (b.allowed === false ? "Not allowed: " : "Dry run, nothing changed yet. It would: ") : "Done. It changed: "),
          b.allowed === false ? b.why || "" : "",
          changes.length ? el("ul", {}, changes.map((c) => el("li", {}, typeof c === "string" ? c : c.description || JSON.stringify(c)))) : null,
          b.rule ? el("p", { class: "muted" }, "Rule: " + b.rule) : null,
          b.audit ? el("p", { class: "muted", id: "audit-entry" }, "Audit entry: " + [b.audit.actor, b.audit.action, when(b.audit.at)].filter(Boolean).join(", ")) : null,
        ),
      );
      if (dry && b.allowed !== false) {
        checked = body;
        apply.disabled = false;
      } else {
        checked = null;
        apply.disabled = true;
      }
      if (!dry) await refresh();
    };
    dryRun.addEventListener("click", () => send(true));
    apply.addEventListener("click", () => checked && send(false));

    box.replaceChildren(
      el("h3", {}, "Retry"),
      retry,
      retryResult,
      el("h3", {}, "Force"),
      el(
        "div",
        { class: "force" },
        el("p", { class: "muted" }, "Forcing overrides the protocol, so the coordinator allows it only where no guarantee that still holds can break. Always a dry run first: it says what would change; Apply then sends exactly what the dry run checked."),
        el("label", {}, "Action ", action),
        opLabel,
        el("label", {}, "Reason", reason),
        el("div", { class: "row" }, dryRun, apply),
        result,
      ),
    );
    updateActions(box, tx);
    invalidate();
  }

  /** Keeps the op list of the force form in step with the transaction, keeping the choice. */
  function updateActions(box, tx) {
    const op = box.querySelector("#force-op");
    const chosen = op.value;
    const options = tx.branches.flatMap((b) =>
      b.ops
        .filter((o) => o.status !== "succeeded" && o.status !== "skipped" && o.status !== "idle")
        .map((o) => el("option", { value: b.branchId + "\u0000" + o.op, selected: b.branchId + "\u0000" + o.op === chosen }, b.branchId + " · " + o.op + " (" + o.status + ", " + o.attempts + " attempts)")),
    );
    op.replaceChildren(...(options.length ? options : [el("option", { value: "" }, "no op is pending")]));
    box.querySelector("#retry").disabled = tx.final;
  }

  // --- dead letters --------------------------------------------------------------------------

  /** The API's bound on one re-drive call: at most 30 s of paced work (count <= 30 x rate). */
  const REDRIVE_SECONDS = 30;

  /**
   * #/dead-letters?subscription=…: GET /api/v1/deliveries?status=dead, paged by the API's cursor;
   * re-drive the chosen ones with POST /api/v1/deliveries/redrive {ids, maxPerSecond, dryRun,
   * reason}: always a dry run first (it says what would be sent and sends nothing), then Re-drive
   * sends exactly what the dry run checked, and the audit entry it wrote is shown.
   */
  async function showDeadLetters(params) {
    const view = $("#view");
    const subscription = params.get("subscription") || "";
    const form = el(
      "form",
      { class: "panel filters", id: "dead-filters", role: "search" },
      el("label", {}, "Subscription", el("input", { id: "d-subscription", value: subscription, placeholder: "any subscription", pattern: "[A-Za-z0-9._:\\-]{1,128}", spellcheck: "false" })),
      el("button", { type: "submit" }, "Filter"),
      el("button", { type: "button", class: "secondary", onclick: () => (location.hash = "#/dead-letters") }, "Clear"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("#d-subscription").value.trim();
      const next = "#/dead-letters" + (value ? "?" + new URLSearchParams({ subscription: value }) : "");
      if (location.hash === next) route();
      else location.hash = next;
    });
    const list = el("div", { id: "dead-letters" }, el("p", { class: "muted" }, "Loading…"));
    const controls = el("div", { id: "redrive-controls" });
    view.replaceChildren(
      el("h1", {}, "Dead letters"),
      el(
        "p",
        { class: "muted" },
        "Deliveries that gave up after their retries: the message was committed, but a subscription did not take it, so the coordinator keeps it here and does not retry it. " +
          "Re-driving sends the chosen ones again, each with a fresh retry budget, at a bounded rate (at most " + MAX_REDRIVE + " at once); subscribers must be idempotent, as for any delivery.",
      ),
      form,
      list,
      controls,
    );

    const chosen = new Map(); // id -> dead letter, across reloads of the list
    let checked = null; // the request the last dry run allowed; Re-drive sends exactly it
    const rate = el("input", { id: "redrive-rate", type: "number", min: "1", max: "1000", step: "1", value: "10" });
    const reason = el("textarea", { id: "redrive-reason", placeholder: "Why (required, kept in the audit log): e.g. OPS-43, the billing inbox is back", maxlength: "500" });
    const dryRun = el("button", { type: "button", id: "redrive-dry-run", class: "secondary" }, "Dry run");
    const apply = el("button", { type: "button", id: "redrive", class: "danger", disabled: true }, "Re-drive");
    const selection = el("span", { class: "muted", id: "redrive-selection" });
    const result = el("div", { id: "redrive-result" });
    const audited = el("div", { id: "redrive-audit" });

    const invalidate = () => {
      checked = null;
      apply.disabled = true;
      selection.textContent = chosen.size ? chosen.size + " chosen" + (chosen.size > MAX_REDRIVE ? " (at most " + MAX_REDRIVE + " at once)" : "") : "none chosen";
    };
    [rate, reason].forEach((input) => input.addEventListener("input", invalidate));

    /** What the form asks for, or a sentence saying why it cannot be sent. */
    const request = () => {
      const ids = [...chosen.keys()];
      const perSecond = Number(rate.value);
      if (!ids.length) return "Choose at least one delivery.";
      if (ids.length > MAX_REDRIVE) return "At most " + MAX_REDRIVE + " deliveries at once: " + ids.length + " are chosen.";
      if (!Number.isInteger(perSecond) || perSecond < 1 || perSecond > 1000) return "The rate is a whole number of re-drives per second, 1 to 1000.";
      if (ids.length > perSecond * REDRIVE_SECONDS) return "At " + perSecond + " per second, " + ids.length + " re-drives take more than " + REDRIVE_SECONDS + " s: raise the rate or choose fewer.";
      if (!reason.value.trim()) return "Give a reason first: it goes into the audit log with your name and the time.";
      return { ids, maxPerSecond: perSecond, reason: reason.value.trim() };
    };

    const send = async (dry) => {
      const body = dry ? request() : checked;
      if (typeof body === "string") {
        result.replaceChildren(el("p", { class: "result refused" }, body));
        return;
      }
      if (!dry) {
        apply.disabled = true;
        dryRun.disabled = true;
        result.replaceChildren(el("p", { class: "muted" }, "Re-driving " + body.ids.length + " at most " + body.maxPerSecond + "/s…"));
      }
      let answer;
      try {
        answer = await api("POST", "/api/v1/deliveries/redrive", { ...body, dryRun: dry });
      } finally {
        dryRun.disabled = false;
      }
      if (answer.status !== 200) {
        checked = null;
        apply.disabled = true;
        result.replaceChildren(el("div", { class: "result refused" }, el("strong", {}, dry ? "The dry run says no. " : "Refused. "), describeError(answer)));
        return;
      }
      const b = answer.body;
      const matched = b.matched || [];
      const refused = b.refused || [];
      const idItem = (d) => el("li", {}, el("a", { class: "mono", href: "#/transactions/" + encodeURIComponent(d.gid) }, d.id));
      const refusedList = refused.length
        ? [el("p", {}, refused.length + " not re-driven:"), el("ul", { class: "refused-ids" }, refused.map((r) => el("li", {}, el("span", { class: "mono" }, r.id), " — " + r.reason)))]
        : [];
      if (dry) {
        const allowed = matched.length > 0;
        result.replaceChildren(
          el(
            "div",
            { class: "result " + (allowed ? "ok" : "refused"), id: "redrive-dry-run-result" },
            el("strong", {}, allowed ? "Dry run, nothing sent yet. It would re-drive " + matched.length + (matched.length === 1 ? " delivery" : " deliveries") + ", at most " + body.maxPerSecond + " a second:" : "Nothing to re-drive: none of the chosen deliveries is dead any more."),
            allowed ? el("ul", { class: "matched-ids" }, matched.map(idItem)) : null,
            ...refusedList,
          ),
        );
        // Re-drive sends what the dry run would send: the deliveries it matched, nothing else.
        checked = allowed ? { ...body, ids: matched.map((d) => d.id) } : null;
        apply.disabled = !allowed;
        return;
      }
      checked = null;
      apply.disabled = true;
      result.replaceChildren(
        el(
          "div",
          { class: "result " + (b.redriven > 0 ? "ok" : "refused"), id: "redrive-answer" },
          el("strong", {}, "Re-driven: " + b.redriven + " of " + matched.length + (matched.length === 1 ? " delivery" : " deliveries") + " will be sent again. "),
          "Follow each on its transaction's page:",
          el("ul", { class: "matched-ids" }, matched.map(idItem)),
          ...refusedList,
        ),
      );
      chosen.clear();
      await renderRedriveAudit(audited, b.audited || []);
      await load();
    };
    dryRun.addEventListener("click", () => send(true));
    apply.addEventListener("click", () => checked && send(false));

    controls.replaceChildren(
      el(
        "div",
        { class: "force panel" },
        el("p", { class: "muted" }, "Always a dry run first: it lists what would be sent, and sends nothing. Re-drive then sends exactly what the dry run checked (changing the choice, the rate or the reason asks for a new dry run)."),
        el("label", {}, "At most this many a second ", rate),
        el("label", {}, "Reason", reason),
        el("div", { class: "row" }, dryRun, apply, selection),
        result,
        audited,
      ),
    );

    // Paging: a stack of cursors, as on the list of transactions.
    const cursors = [null];
    const load = async () => {
      const q = new URLSearchParams({ status: "dead", limit: String(PAGE_SIZE) });
      if (subscription) q.set("subscription", subscription);
      if (cursors[cursors.length - 1]) q.set("cursor", cursors[cursors.length - 1]);
      const answer = await api("GET", "/api/v1/deliveries?" + q);
      if (noSuchRoute(answer)) {
        list.replaceChildren(el("p", { class: "unavailable", id: "dead-letters-unavailable" }, "Dead letters are not available on this coordinator: its API has no /api/v1/deliveries yet. Stuck deliveries show, meanwhile, on their transaction's page."));
        controls.hidden = true;
        return;
      }
      if (answer.status !== 200) {
        list.replaceChildren(el("p", { class: "result refused" }, "The dead letters could not be read: " + describeError(answer)));
        return;
      }
      const items = answer.body.items || [];
      const pager = el(
        "div",
        { class: "pager" },
        el("button", { type: "button", class: "secondary", id: "dead-prev", disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        el("span", { class: "muted", id: "dead-page-number" }, "page " + cursors.length),
        el("button", { type: "button", class: "secondary", id: "dead-next", disabled: !answer.body.nextCursor, onclick: () => { cursors.push(answer.body.nextCursor); load(); } }, "Next"),
      );
      if (!items.length) {
        list.replaceChildren(el("p", { class: "panel empty", id: "dead-letters-empty" }, subscription ? "No dead letter to " + subscription + "." : "No dead letter: every committed message reached every subscription, or is still being retried."), cursors.length > 1 ? pager : "");
        invalidate();
        return;
      }
      const boxes = items.map((d) => {
        const box = el("input", { type: "checkbox", "aria-label": "choose " + d.id, "data-id": d.id, checked: chosen.has(d.id) });
        box.addEventListener("change", () => {
          if (box.checked) chosen.set(d.id, d);
          else chosen.delete(d.id);
          all.checked = boxes.every((b) => b.checked);
          invalidate();
        });
        return box;
      });
      const all = el("input", { type: "checkbox", id: "dead-all", "aria-label": "choose every dead letter on this page", checked: boxes.every((b) => b.checked) });
      all.addEventListener("change", () => {
        boxes.forEach((box, i) => {
          box.checked = all.checked;
          if (all.checked) chosen.set(items[i].id, items[i]);
          else chosen.delete(items[i].id);
        });
        invalidate();
      });
      const now = Date.now();
      list.replaceChildren(
        el(
          "table",
          { id: "dead-table" },
          el("thead", {}, el("tr", {}, el("th", {}, all), ["Delivery", "Transaction", "Topic", "Key", "Subscription", "Attempts", "Last error", "Last change"].map((h) => el("th", {}, h)))),
          el(
            "tbody",
            {},
            items.map((d, i) =>
              el(
                "tr",
                { "data-id": d.id },
                el("td", {}, boxes[i]),
                el("td", { class: "mono" }, d.id),
                el("td", { class: "mono" }, el("a", { href: "#/transactions/" + encodeURIComponent(d.gid) }, d.gid)),
                el("td", {}, d.topic || ""),
                el("td", { class: "mono" }, d.key || ""),
                el("td", {}, d.subscription),
                el("td", { class: "num" }, String(d.attempts ?? "")),
                el("td", { class: "mono" }, d.lastError || ""),
                el("td", { title: d.updatedAt ? when(d.updatedAt) : "" }, d.updatedAt ? ago(d.updatedAt, now) + " ago" : ""),
              ),
            ),
          ),
        ),
        pager,
      );
      invalidate();
    };
    await load();
  }

  /**
   * Shows the audit entries an applied re-drive wrote, one per transaction it touched: the answer's
   * audited [{gid, at}], each found in GET /api/v1/audit?gid= by its time (to the millisecond).
   */
  async function renderRedriveAudit(box, audited) {
    if (!audited.length) {
      box.replaceChildren();
      return;
    }
    const lines = [];
    for (const a of audited) {
      const answer = await api("GET", "/api/v1/audit?limit=50" + (a.gid ? "&gid=" + encodeURIComponent(a.gid) : ""));
      const entry = answer.status === 200 ? (answer.body.items || []).find((e) => e.action === "redrive" && e.at === a.at && (e.gid || null) === (a.gid || null)) : null;
      lines.push(
        entry
          ? el(
              "li",
              { "data-gid": a.gid || "" },
              [entry.actor, entry.action, when(entry.at)].join(", "),
              a.gid ? [" on ", el("a", { href: "#/transactions/" + encodeURIComponent(a.gid), class: "mono" }, a.gid)] : "",
              " — why: " + entry.reason,
              " — result: " + entry.result,
            )
          : el("li", { "data-gid": a.gid || "" }, "audited at " + when(a.at) + (a.gid ? " on " + a.gid : "")),
      );
    }
    box.replaceChildren(
      el(
        "div",
        { class: "muted", id: "redrive-audit-entry" },
        audited.length === 1 ? "Audit entry (" : "Audit entries, one per transaction (",
        el("a", { href: "#/audit" }, "audit log"),
        "):",
        el("ul", {}, lines),
      ),
    );
  }

  async function showAudit() {
    const box = el("section", { id: "audit" });
    $("#view").replaceChildren(el("h1", {}, "Audit log"), el("p", { class: "muted" }, "Every operator action: who, what, when and why, newest first."), box);
    await renderAudit(box, {});
  }

  // --- routing -------------------------------------------------------------------------------

  let currentView = "";

  async function route() {
    const hash = location.hash || "#/transactions";
    const [path, query] = hash.slice(1).split("?");
    const params = new URLSearchParams(query || "");
    const page = path.split("/")[1] || "transactions";
    document.querySelectorAll(".top nav a").forEach((a) => a.setAttribute("aria-current", a.dataset.page === page ? "page" : "false"));
    try {
      if (page === "transactions" && path.split("/").length > 2) {
        const gid = decodeURIComponent(path.split("/").slice(2).join("/"));
        currentView = "tx:" + gid;
        await showTransaction(gid);
      } else if (page === "dead-letters") {
        currentView = "dead";
        await showDeadLetters(params);
      } else if (page === "audit") {
        currentView = "audit";
        await showAudit();
      } else {
        currentView = "list";
        await showTransactions(params);
      }
    } catch (e) {
      $("#view").replaceChildren(el("p", { class: "banner" }, e.message));
    }
    document.body.dataset.ready = currentView;
  }

  window.addEventListener("hashchange", route);
  renderTokenState();
  route();
  refreshCounts();
  setInterval(refreshCounts, COUNTS_EVERY_MS);
})();
