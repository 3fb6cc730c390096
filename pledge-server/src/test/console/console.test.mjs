// The console's browser scenarios: Playwright (playwright-core) driving the system's headless
// Chromium against a running coordinator that ConsoleBrowserTest has seeded.
//
//   node console.test.mjs <coordinator base URL> <screenshot folder> <participants base URL> <secured coordinator base URL>
//
// The secured coordinator is the same coordinator behind a server that asks for tokens: the client's
// and the operator's are in PLEDGE_CLIENT_TOKEN and PLEDGE_OPERATOR_TOKEN.
//
// Prints "ok <scenario>" or "FAIL <scenario>: <why>" per scenario and exits non-zero if any failed.
// Each scenario gets a fresh browser context (so a fresh sessionStorage); an uncaught page error or a
// Content-Security-Policy violation fails the scenario it happens in.
import { chromium } from "playwright-core";
import path from "node:path";

const [base, shots, services, secured] = process.argv.slice(2);
if (!base || !shots || !services || !secured) {
  console.log("FAIL usage: node console.test.mjs <base URL> <screenshot folder> <participants URL> <secured base URL>");
  process.exit(2);
}
const CLIENT_TOKEN = process.env.PLEDGE_CLIENT_TOKEN;
const OPERATOR_TOKEN = process.env.PLEDGE_OPERATOR_TOKEN;
const WAIT = { timeout: 20000 };

const browser = await chromium.launch({
  executablePath: process.env.PLEDGE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});

let failures = 0;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function api(pathAndQuery, method = "GET", body = undefined) {
  const response = await fetch(base + pathAndQuery, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Polls until test() answers true, or fails after WAIT with what it last saw. */
async function until(what, test) {
  const deadline = Date.now() + WAIT.timeout;
  let last;
  while (Date.now() < deadline) {
    last = await test();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("waited " + WAIT.timeout + " ms for " + what + "; last saw " + JSON.stringify(last));
}

/** A delivery's status, read through the API: "dead", "waiting", "succeeded", … */
async function deliveryStatus(gid, subscription) {
  const tx = (await api("/api/v1/transactions/" + gid)).body;
  return tx.messages[0].deliveries.find((d) => d.subscription === subscription)?.status;
}

async function scenario(name, body) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    // A 404 from an API route the coordinator lacks is an answer the page handles, not a failure.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push("console error: " + m.text());
  });
  try {
    await body(page, context);
    check(problems.length === 0, problems.join("; "));
    console.log("ok " + name);
  } catch (e) {
    failures++;
    console.log("FAIL " + name + ": " + (e && e.stack ? e.stack : e));
  } finally {
    await context.close();
  }
}

/** Opens the console at a hash route and waits until the page says that view is ready. */
async function open(page, hash, ready) {
  await page.goto(base + "/console/" + hash);
  await page.waitForFunction((r) => document.body.dataset.ready === r, ready, WAIT);
}

/**
 * Loads the console afresh at a hash route (not a same-document hash change, which would keep what
 * the page drew before), and waits until that view is ready.
 */
async function reopen(page, hash, ready) {
  await page.goto("about:blank");
  await open(page, hash, ready);
}

/** Waits until the page's banner shows text containing what. */
async function bannerSays(page, what) {
  await page.waitForFunction((w) => !document.querySelector("#banner").hidden && document.querySelector("#banner").textContent.includes(w), what, WAIT);
}

async function listedGids(page) {
  return page.$$eval("#transactions tbody tr", (rows) => rows.map((r) => r.dataset.gid));
}

/** Submits the filter form and waits for the table (or the empty notice) to be drawn again. */
async function filter(page, { status = "", mode = "", age = "", gid = "" }) {
  await page.selectOption("#f-status", status);
  await page.selectOption("#f-mode", mode);
  await page.selectOption("#f-age", age);
  await page.fill("#f-gid", gid);
  await page.evaluate(() => { document.body.dataset.ready = ""; });
  await page.click("#filters button[type=submit]");
  await page.waitForFunction(() => document.body.dataset.ready === "list", null, WAIT);
  await page.waitForSelector("#transactions, #no-transactions", WAIT);
}

await scenario("list", async (page) => {
  await open(page, "#/transactions", "list");
  await page.waitForSelector("#transactions", WAIT);
  const gids = await listedGids(page);
  check(gids.length === 50, "a first page of 50, got " + gids.length);
  check(gids[0] === "tcc-hold-1" && gids[1] === "stuck-payment-1" && gids[2] === "shop-refund-1", "newest first: " + gids.slice(0, 3));
  const stuckRow = page.locator('tr[data-gid="stuck-payment-1"]');
  check((await stuckRow.getAttribute("class")).includes("attention"), "the flagged transaction is marked");
  check((await stuckRow.locator("[data-status]").textContent()) === "aborting", "its status shows");
  // Live counts agree with the API.
  const counts = (await api("/api/v1/counts")).body.counts;
  const committed = counts.filter((c) => c.status === "committed").reduce((n, c) => n + c.transactions, 0);
  await page.waitForFunction((n) => document.querySelector("#count-committed b")?.textContent === String(n), committed, WAIT);
  const inFlight = await page.textContent("#count-in-flight b");
  check(inFlight === "2", "two in flight (the stuck saga and the tcc), got " + inFlight);
  await page.screenshot({ path: path.join(shots, "list.png") });
});

await scenario("filters", async (page) => {
  await open(page, "#/transactions", "list");
  await filter(page, { status: "aborted" });
  check(JSON.stringify(await listedGids(page)) === '["shop-refund-1"]', "status aborted: " + (await listedGids(page)));
  check(page.url().includes("status=aborted"), "the filter is in the address, so it can be shared: " + page.url());
  await filter(page, { mode: "tcc" });
  check(JSON.stringify(await listedGids(page)) === '["tcc-hold-1"]', "mode tcc: " + (await listedGids(page)));
  await filter(page, { gid: "payment" });
  check(JSON.stringify(await listedGids(page)) === '["stuck-payment-1"]', "gid contains payment: " + (await listedGids(page)));
  await filter(page, { gid: "order-5", status: "committed", mode: "saga" });
  const fives = await listedGids(page);
  check(JSON.stringify(fives) === '["shop-order-54","shop-order-53","shop-order-52","shop-order-51","shop-order-50","shop-order-5"]', "order-5*: " + fives);
  await filter(page, { age: "older:86400" });
  await page.waitForSelector("#no-transactions", WAIT);
  await filter(page, { age: "newer:3600" });
  check((await listedGids(page)).length === 50, "all are newer than an hour");
  // A shared address opens with its filters applied.
  await open(page, "#/transactions?status=aborting", "list");
  await page.waitForSelector("#transactions", WAIT);
  check(JSON.stringify(await listedGids(page)) === '["stuck-payment-1"]', "opened with status=aborting");
  check((await page.inputValue("#f-status")) === "aborting", "the form shows the filter");
});

await scenario("paging", async (page) => {
  await open(page, "#/transactions", "list");
  await page.waitForSelector("#transactions", WAIT);
  const first = await listedGids(page);
  check(await page.isDisabled("#page-prev"), "no previous page at first");
  await page.click("#page-next");
  await page.waitForFunction(() => document.querySelector("#page-number")?.textContent === "page 2", null, WAIT);
  const second = await listedGids(page);
  check(second.length === 7, "57 transactions: 7 on page 2, got " + second.length);
  check(second.every((g) => !first.includes(g)), "no transaction on both pages");
  check(second[second.length - 1] === "shop-order-1", "the oldest last: " + second);
  check(await page.isDisabled("#page-next"), "no page 3");
  await page.click("#page-prev");
  await page.waitForFunction(() => document.querySelector("#page-number")?.textContent === "page 1", null, WAIT);
  check(JSON.stringify(await listedGids(page)) === JSON.stringify(first), "back to the same first page");
});

await scenario("timeline", async (page) => {
  await open(page, "#/transactions?gid=stuck", "list");
  await page.click('a[href="#/transactions/stuck-payment-1"]');
  await page.waitForFunction(() => document.body.dataset.ready === "tx:stuck-payment-1", null, WAIT);
  check((await page.textContent("#summary h1")) === "stuck-payment-1", "the detail's title");
  const explained = await page.textContent("#explain");
  check(explained.startsWith("Undoing:"), "a plain-language status: " + explained);
  check(explained.includes("flagged for an operator"), "the flag is explained: " + explained);
  const compensate = page.locator('#branch-table tr[data-branch="reserve"][data-op="compensate"]');
  check((await compensate.locator("[data-status]").textContent()) !== "succeeded", "the compensation is not done");
  check(Number(await compensate.locator("td.num").textContent()) >= 3, "its attempts show");
  const refused = page.locator('#branch-table tr[data-branch="charge"][data-op="action"] [data-status]');
  check((await refused.textContent()) === "failed", "the refused action shows failed");
  await page.waitForSelector("#timeline-entries li", WAIT);
  check(!(await page.$("#timeline-unavailable")), "the coordinator serves the history");
  const entries = await page.$$eval("#timeline-entries li", (lis) => lis.map((li) => ({ kind: li.dataset.kind, text: li.textContent })));
  const texts = entries.map((e) => e.text);
  check(entries.some((e) => e.kind === "state" && e.text.includes("begun") && e.text.includes("aborting")), "the move from begun to aborting: " + texts);
  check(entries.some((e) => e.kind === "answer" && e.text.includes("action on branch charge") && e.text.includes("refused")), "the refusal that started it: " + texts);
  check(entries.some((e) => e.kind === "answer" && e.text.includes("compensate on branch reserve") && e.text.includes("no usable answer")), "the failing compensation: " + texts);
  check(entries.some((e) => e.kind === "call" && /called action on branch reserve/.test(e.text)), "the calls: " + texts);
  check(/ms/.test(entries.find((e) => e.kind === "answer").text), "answers carry their timing");
  await page.screenshot({ path: path.join(shots, "timeline.png"), fullPage: true });
});

await scenario("retry", async (page) => {
  await open(page, "#/transactions/stuck-payment-1", "tx:stuck-payment-1");
  const before = Number(await page.locator('#branch-table tr[data-branch="reserve"][data-op="compensate"] td.num').textContent());
  await page.click("#retry");
  await page.waitForSelector("#retry-result .result", WAIT);
  const said = await page.textContent("#retry-result");
  check(said.startsWith("Retry sent"), "the retry is acknowledged: " + said);
  await page.waitForFunction(
    (n) => Number(document.querySelector('#branch-table tr[data-branch="reserve"][data-op="compensate"] td.num')?.textContent) > n,
    before,
    WAIT,
  );
  await open(page, "#/transactions/shop-order-1", "tx:shop-order-1");
  check(await page.isDisabled("#retry"), "no retry on a final transaction");
});

await scenario("force-dry-run", async (page) => {
  await open(page, "#/transactions/tcc-hold-1", "tx:tcc-hold-1");
  check(await page.isDisabled("#force-apply"), "Apply is disabled before a dry run");
  await page.selectOption("#force-action", "abort");
  await page.click("#force-dry-run");
  await page.waitForSelector("#force-result .result, #force-result .unavailable", WAIT);
  check((await page.textContent("#force-result")).includes("reason"), "a reason is asked for first");
  check(await page.isDisabled("#force-apply"), "still no Apply without a reason");
  await page.fill("#force-reason", "OPS-42: the shop cancelled this order by phone");
  await page.click("#force-dry-run");
  await page.waitForSelector("#dry-run-result, #force-unavailable, #force-result .refused", WAIT);
  if (await page.$("#force-unavailable")) {
    // This coordinator has no force route yet: the page says so and offers nothing to apply.
    check(await page.isDisabled("#force-apply"), "nothing to apply where force does not exist");
    await page.screenshot({ path: path.join(shots, "force.png"), fullPage: true });
    return;
  }
  const dry = await page.textContent("#dry-run-result");
  check(dry.includes("nothing changed yet"), "the dry run changes nothing: " + dry);
  check((await api("/api/v1/transactions/tcc-hold-1")).body.status === "begun", "still begun after the dry run");
  check(!(await page.isDisabled("#force-apply")), "Apply is enabled by an allowed dry run");
  // Editing the reason after the dry run asks for a new one.
  await page.fill("#force-reason", "OPS-42: the shop cancelled this order by phone (confirmed)");
  check(await page.isDisabled("#force-apply"), "an edit disables Apply until the next dry run");
  await page.click("#force-dry-run");
  await page.waitForSelector("#dry-run-result", WAIT);
  await page.screenshot({ path: path.join(shots, "force.png"), fullPage: true });
  await page.click("#force-apply");
  await page.waitForSelector("#applied-result", WAIT);
  const after = (await api("/api/v1/transactions/tcc-hold-1")).body.status;
  check(after === "aborting" || after === "aborted", "forced to abort: " + after);
  await page.waitForSelector("#tx-audit #audit-table", WAIT);
  const audit = await page.textContent("#tx-audit #audit-table");
  check(audit.includes("OPS-42") && audit.includes("abort"), "the audit entry shows: " + audit);
  // The timeline names the forced abort as the operator's, with the reason, never as the caller's.
  await until("the forced abort is final", async () => ((await api("/api/v1/transactions/tcc-hold-1")).body.status === "aborted" ? true : (await api("/api/v1/transactions/tcc-hold-1")).body.status));
  await reopen(page, "#/transactions/tcc-hold-1", "tx:tcc-hold-1");
  await page.waitForSelector('#timeline-entries li[data-kind="operator"]', WAIT);
  const entries = await page.$$eval("#timeline-entries li", (lis) => lis.map((li) => ({ kind: li.dataset.kind, text: li.textContent })));
  check(entries.some((e) => e.kind === "operator" && e.text.includes("operator: force abort") && e.text.includes("OPS-42: the shop cancelled this order by phone (confirmed)")), "the timeline shows the operator's forced abort: " + JSON.stringify(entries));
  check(!entries.some((e) => e.kind === "request" && e.text.includes("asked to abort")), "not as the caller's abort: " + JSON.stringify(entries));
  check(entries.some((e) => e.kind === "state" && e.text.includes("aborting") && e.text.includes("aborted")), "then aborted: " + JSON.stringify(entries));
  await page.screenshot({ path: path.join(shots, "forced.png"), fullPage: true });
});

await scenario("dead-letters", async (page) => {
  // Real dead letters: a subscriber that answers 503 until it is fixed, and three committed messages
  // to it; each delivery fails past the retry bound (3 attempts) and is dead.
  const sub = "console-inbox";
  check((await api("/api/v1/subscriptions/" + sub, "PUT", { topic: "console-orders", target: services + "/inbox" })).status === 200, "subscribed");
  for (const gid of ["inbox-order-1", "inbox-order-2", "inbox-order-3"]) {
    const created = await api("/api/v1/transactions", "POST", { gid, mode: "msg", checkUrl: services + "/ok", messages: [{ topic: "console-orders", key: gid, payload: { order: gid } }] });
    check(created.status === 201, "created " + gid + ": " + JSON.stringify(created.body));
    check((await api("/api/v1/transactions/" + gid + "/commit", "POST", {})).status === 200, "committed " + gid);
  }
  await until("three dead letters", async () => {
    const items = (await api("/api/v1/deliveries?status=dead")).body.items.map((d) => d.id);
    return [1, 2, 3].every((n) => items.includes("inbox-order-" + n + "#1->" + sub)) ? true : items;
  });

  await open(page, "#/dead-letters", "dead");
  const one = 'tr[data-id="inbox-order-1#1->console-inbox"]';
  await page.waitForSelector(one, WAIT);
  check((await page.textContent(one + " td.num")) === "3", "attempts up to the bound: " + (await page.textContent(one)));
  check((await page.textContent(one)).includes("HTTP 503"), "the last error shows: " + (await page.textContent(one)));
  // The subscription filter is in the address.
  await page.fill("#d-subscription", sub);
  await page.click("#dead-filters button[type=submit]");
  await page.waitForFunction(() => location.hash === "#/dead-letters?subscription=console-inbox", null, WAIT);
  await page.waitForSelector(one, WAIT);
  check((await page.$$("#dead-table tbody tr")).length === 3, "three dead letters to " + sub);

  check(await page.isDisabled("#redrive"), "Re-drive is disabled before a dry run");
  await page.check(one + " input[type=checkbox]");
  await page.click("#redrive-dry-run");
  check((await page.textContent("#redrive-result")).includes("reason"), "a re-drive asks for a reason first");
  await page.fill("#redrive-reason", "OPS-43: the inbox is back");
  await page.fill("#redrive-rate", "0");
  await page.click("#redrive-dry-run");
  check((await page.textContent("#redrive-result")).includes("1 to 1000"), "the rate is bounded: " + (await page.textContent("#redrive-result")));
  await page.fill("#redrive-rate", "5");
  await page.click("#redrive-dry-run");
  await page.waitForSelector("#redrive-dry-run-result", WAIT);
  const dry = await page.textContent("#redrive-dry-run-result");
  check(dry.includes("nothing sent yet") && dry.includes("inbox-order-1#1->console-inbox") && !dry.includes("inbox-order-2"), "the dry run names what it would send: " + dry);
  check((await deliveryStatus("inbox-order-1", sub)) === "dead", "still dead after the dry run");
  check(!(await page.isDisabled("#redrive")), "Re-drive is enabled by a dry run that matched");
  // Editing the reason asks for a new dry run.
  await page.fill("#redrive-reason", "OPS-43: the inbox is back (checked)");
  check(await page.isDisabled("#redrive"), "an edit disables Re-drive until the next dry run");
  await page.click("#redrive-dry-run");
  await page.waitForSelector("#redrive-dry-run-result", WAIT);

  // The subscriber is fixed; the re-drive sends the one dead letter again.
  check((await fetch(services + "/inbox-fix", { method: "POST" })).status === 200, "the inbox is fixed");
  await page.click("#redrive");
  await page.waitForSelector("#redrive-answer", WAIT);
  const said = await page.textContent("#redrive-answer");
  check(said.startsWith("Re-driven: 1 of 1"), said);
  await page.waitForSelector("#redrive-audit-entry", WAIT);
  const entry = await page.textContent("#redrive-audit-entry");
  check(entry.includes("redrive") && entry.includes("OPS-43: the inbox is back (checked)") && entry.includes("inbox-order-1#1->console-inbox"), "the audit entry shows: " + entry);
  await until("the re-driven delivery is delivered", async () => ((await deliveryStatus("inbox-order-1", sub)) === "succeeded" ? true : await deliveryStatus("inbox-order-1", sub)));
  check((await deliveryStatus("inbox-order-2", sub)) === "dead", "the other stays dead: only what was chosen is sent");
  // The list no longer holds the re-driven one.
  await page.waitForFunction(() => !document.querySelector('tr[data-id="inbox-order-1#1->console-inbox"]') && document.querySelector('tr[data-id="inbox-order-2#1->console-inbox"]'), null, WAIT);
  await page.screenshot({ path: path.join(shots, "dead-letters.png"), fullPage: true });

  // Its transaction's page shows the delivery done and the operator's action on it.
  await open(page, "#/transactions/inbox-order-1", "tx:inbox-order-1");
  const delivered = 'tr[data-message="inbox-order-1#1"][data-subscription="console-inbox"] [data-status]';
  check((await page.textContent(delivered)) === "succeeded", "delivered: " + (await page.textContent(delivered)));
  await page.waitForSelector("#tx-audit #audit-table", WAIT);
  check((await page.textContent("#tx-audit #audit-table")).includes("OPS-43"), "the re-drive is among the operator actions on it");
  const history = await page.$$eval("#timeline-entries li", (lis) => lis.map((li) => ({ kind: li.dataset.kind, text: li.textContent })));
  check(history.some((e) => e.kind === "operator" && e.text.includes("redrive") && e.text.includes("delivery inbox-order-1#1 to console-inbox")), "the timeline shows the re-drive: " + JSON.stringify(history));
  check(history.some((e) => e.kind === "answer" && e.text.includes("deliver on delivery inbox-order-1#1 to console-inbox") && e.text.includes("done")), "and the delivery after it: " + JSON.stringify(history));
  // The other's page says what a dead letter is, and links to its re-drive.
  await open(page, "#/transactions/inbox-order-2", "tx:inbox-order-2");
  check((await page.textContent("#explain")).includes("dead letter"), "the status explains the dead letter: " + (await page.textContent("#explain")));
  const died = await page.$$eval("#timeline-entries li", (lis) => lis.map((li) => li.textContent));
  check(died.some((t) => t.includes("delivery inbox-order-2#1 to console-inbox") && t.includes("the last attempt: a dead letter")), "the timeline says which answer was the last: " + JSON.stringify(died));
  await page.click('tr[data-message="inbox-order-2#1"] a[href^="#/dead-letters"]');
  await page.waitForFunction(() => document.body.dataset.ready === "dead" && location.hash === "#/dead-letters?subscription=console-inbox", null, WAIT);

  // The rest: every one on the page, chosen at once: two transactions, so two audit entries, one
  // per transaction, each shown.
  await page.waitForSelector('tr[data-id="inbox-order-2#1->console-inbox"]', WAIT);
  await page.waitForSelector('tr[data-id="inbox-order-3#1->console-inbox"]', WAIT);
  await page.check("#dead-all");
  await page.fill("#redrive-reason", "OPS-44: the rest");
  await page.click("#redrive-dry-run");
  await page.waitForSelector("#redrive-dry-run-result", WAIT);
  await page.click("#redrive");
  await page.waitForSelector("#redrive-answer", WAIT);
  check((await page.textContent("#redrive-answer")).startsWith("Re-driven: 2 of 2"), await page.textContent("#redrive-answer"));
  await page.waitForSelector("#redrive-audit-entry li", WAIT);
  const perTransaction = await page.$$eval("#redrive-audit-entry li", (lis) => lis.map((li) => ({ gid: li.dataset.gid, text: li.textContent })));
  check(JSON.stringify(perTransaction.map((e) => e.gid).sort()) === '["inbox-order-2","inbox-order-3"]', "one audit entry per transaction: " + JSON.stringify(perTransaction));
  check(perTransaction.every((e) => e.text.includes("OPS-44: the rest") && e.text.includes(e.gid + "#1->console-inbox") && e.text.includes("one of 2 transactions")), "each names its own delivery: " + JSON.stringify(perTransaction));
  await page.waitForSelector("#dead-letters-empty", WAIT);
  for (const gid of ["inbox-order-2", "inbox-order-3"]) {
    await until(gid + " is delivered", async () => ((await deliveryStatus(gid, sub)) === "succeeded" ? true : await deliveryStatus(gid, sub)));
  }
  // Each transaction's own page lists the re-drive among the operator actions on it.
  await open(page, "#/transactions/inbox-order-3", "tx:inbox-order-3");
  await page.waitForSelector("#tx-audit #audit-table", WAIT);
  check((await page.textContent("#tx-audit #audit-table")).includes("OPS-44"), "inbox-order-3's page shows the re-drive");
});

await scenario("audit", async (page) => {
  await open(page, "#/audit", "audit");
  await page.waitForSelector("#audit-table", WAIT);
  check((await page.getAttribute('nav a[data-page="audit"]', "aria-current")) === "page", "the menu shows where we are");
  const rows = await page.$$eval("#audit-table tbody tr", (trs) => trs.map((tr) => tr.textContent));
  check(rows.some((r) => r.includes("redrive") && r.includes("OPS-43")), "the re-drive is in the audit log: " + rows);
  check(rows.some((r) => r.includes("force abort") && r.includes("OPS-42")), "the forced abort is in the audit log: " + rows);
});

await scenario("roles", async (page) => {
  // The same coordinator behind a server with a tokens file: the console's files need no token, the
  // API does, and the page says which answer it got.
  await page.goto(secured + "/console/#/transactions");
  await page.waitForFunction(() => document.body.dataset.ready === "list", null, WAIT);
  await bannerSays(page, "401");
  check(!(await page.$("#transactions")), "no list without a token");

  await page.fill("#token", CLIENT_TOKEN);
  await page.click("#token-form button[type=submit]");
  await bannerSays(page, "403");
  await page.waitForSelector("#results .refused", WAIT);
  check(!(await page.$("#transactions")), "no list for a client");
  // A client may read a transaction whose gid it knows, but not act on it as an operator.
  await page.goto(secured + "/console/#/transactions/stuck-payment-1");
  await page.waitForFunction(() => document.body.dataset.ready === "tx:stuck-payment-1", null, WAIT);
  check((await page.textContent("#summary h1")) === "stuck-payment-1", "a client reads one transaction");
  await page.click("#retry");
  await page.waitForSelector("#retry-result .result", WAIT);
  check((await page.textContent("#retry-result")).includes("403"), "a client's retry is refused: " + (await page.textContent("#retry-result")));
  await page.fill("#force-reason", "a client trying");
  await page.click("#force-dry-run");
  await page.waitForSelector("#force-result .refused", WAIT);
  check((await page.textContent("#force-result")).includes("403"), "a client's force is refused: " + (await page.textContent("#force-result")));
  check(await page.isDisabled("#force-apply"), "nothing to apply");
  await page.goto(secured + "/console/#/dead-letters");
  await page.waitForFunction(() => document.body.dataset.ready === "dead", null, WAIT);
  check((await page.textContent("#dead-letters")).includes("403"), "a client may not read dead letters: " + (await page.textContent("#dead-letters")));
  await page.goto(secured + "/console/#/audit");
  await page.waitForFunction(() => document.body.dataset.ready === "audit", null, WAIT);
  check((await page.textContent("#audit")).includes("403"), "a client may not read the audit log: " + (await page.textContent("#audit")));
  const audit = (await api("/api/v1/audit")).body.items;
  check(!audit.some((a) => a.reason === "a client trying"), "a refused request leaves no audit entry");

  // An operator's token opens everything.
  await page.click("#token-forget");
  await page.fill("#token", OPERATOR_TOKEN);
  await page.click("#token-form button[type=submit]");
  await page.waitForSelector("#audit-table", WAIT);
  await page.goto(secured + "/console/#/transactions");
  await page.waitForSelector("#transactions", WAIT);
  check((await listedGids(page)).length === 50, "an operator lists");
});

await scenario("token", async (page, context) => {
  await open(page, "#/transactions", "list");
  const sent = [];
  page.on("request", (r) => r.url().includes("/api/v1/") && sent.push(r.headers()["authorization"] || ""));
  await page.fill("#token", "s3cret-operator-token");
  await page.click("#token-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#token-state").textContent.includes("token set"), null, WAIT);
  await page.waitForSelector("#transactions", WAIT);
  check(sent.length > 0 && sent.every((h) => h === "Bearer s3cret-operator-token"), "every API call carries the token: " + JSON.stringify(sent));
  check((await page.inputValue("#token")) === "", "the field is emptied, the token not shown");
  check((await page.evaluate(() => sessionStorage.getItem("pledge.token"))) === "s3cret-operator-token", "kept in sessionStorage");
  check((await page.evaluate(() => localStorage.length)) === 0, "nothing in localStorage");
  const other = await context.browser().newContext();
  const fresh = await other.newPage();
  await fresh.goto(base + "/console/");
  check((await fresh.evaluate(() => sessionStorage.getItem("pledge.token"))) === null, "another session does not see it");
  await other.close();
  await page.click("#token-forget");
  check((await page.evaluate(() => sessionStorage.getItem("pledge.token"))) === null, "forgotten");
});

await scenario("force-skip-op", async (page) => {
  // The stuck saga's compensation was done by hand: an operator skips it, after a dry run, and the
  // saga ends aborted; its timeline shows the skip as the operator's, the service's answers as they were.
  await open(page, "#/transactions/stuck-payment-1", "tx:stuck-payment-1");
  await page.selectOption("#force-action", "skip-op");
  await page.selectOption("#force-op", "reserve\u0000compensate");
  await page.fill("#force-reason", "OPS-45: refunded by hand");
  await page.click("#force-dry-run");
  await page.waitForSelector("#dry-run-result", WAIT);
  const dry = await page.textContent("#dry-run-result");
  check(dry.includes("reserve's compensate is recorded as done by hand"), "the dry run says what it records: " + dry);
  check((await api("/api/v1/transactions/stuck-payment-1")).body.status === "aborting", "still aborting after the dry run");
  await page.click("#force-apply");
  await page.waitForSelector("#applied-result", WAIT);
  await until("the saga is aborted", async () => ((await api("/api/v1/transactions/stuck-payment-1")).body.status === "aborted" ? true : (await api("/api/v1/transactions/stuck-payment-1")).body.status));
  await reopen(page, "#/transactions/stuck-payment-1", "tx:stuck-payment-1");
  await page.waitForSelector('#timeline-entries li[data-kind="operator"]', WAIT);
  const entries = await page.$$eval("#timeline-entries li", (lis) => lis.map((li) => ({ kind: li.dataset.kind, text: li.textContent })));
  check(entries.some((e) => e.kind === "operator" && e.text.includes("operator: force skip-op on branch reserve") && e.text.includes("compensate recorded as done by hand; reason: OPS-45: refunded by hand")), "the timeline shows the skip: " + JSON.stringify(entries));
  check(!entries.some((e) => e.kind === "answer" && e.text.includes("compensate on branch reserve") && e.text.includes("done")), "no answer of the service's claims the compensation done: " + JSON.stringify(entries));
  check(entries.some((e) => e.kind === "operator" && e.text.includes("operator: retry")), "the earlier retry is there too: " + JSON.stringify(entries));
});

await scenario("rates", async (page) => {
  // Live rates: after two samples of the counts the committed count shows a rate; commits made
  // meanwhile show as a rate above zero in the sample that counts them.
  await open(page, "#/transactions", "list");
  await page.waitForFunction(() => /\/s$/.test(document.querySelector("#count-committed .muted")?.textContent || ""), null, WAIT);
  const before = Number(await page.textContent("#count-committed b"));
  for (let i = 1; i <= 3; i++) {
    const gid = "rate-order-" + i;
    const created = await api("/api/v1/transactions", "POST", {
      gid,
      mode: "saga",
      branches: [{ branchId: "only", action: services + "/ok", compensate: services + "/ok", payload: {} }],
    });
    check(created.status === 201, "created " + gid + ": " + JSON.stringify(created.body));
  }
  await page.waitForFunction(
    (n) => Number(document.querySelector("#count-committed b")?.textContent) >= n + 3 && parseFloat(document.querySelector("#count-committed .muted")?.textContent) > 0,
    before,
    WAIT,
  );
});

await browser.close();
process.exit(failures === 0 ? 0 : 1);
