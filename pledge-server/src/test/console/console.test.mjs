// The console's browser scenarios: Playwright (playwright-core) driving the system's headless
// Chromium against a running coordinator that ConsoleBrowserTest has seeded.
//
//   node console.test.mjs <coordinator base URL> <screenshot folder> <participants base URL>
//
// Prints "ok <scenario>" or "FAIL <scenario>: <why>" per scenario and exits non-zero if any failed.
// Each scenario gets a fresh browser context (so a fresh sessionStorage); an uncaught page error or a
// Content-Security-Policy violation fails the scenario it happens in.
import { chromium } from "playwright-core";
import path from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.log("FAIL usage: node console.test.mjs <base URL> <screenshot folder> <participants URL>");
  process.exit(2);
}
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

async function api(pathAndQuery) {
  const response = await fetch(base + pathAndQuery);
  return { status: response.status, body: await response.json() };
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
});

await scenario("dead-letters", async (page) => {
  await open(page, "#/dead-letters", "dead");
  await page.waitForSelector("#dead-letters-unavailable, #dead-letters-empty, #dead-table", WAIT);
  if (await page.$("#dead-letters-unavailable")) {
    const said = await page.textContent("#dead-letters-unavailable");
    check(said.includes("not available"), "says cleanly that dead letters are not available: " + said);
    check(!(await page.$("#redrive")), "no re-drive button where there is nothing to re-drive");
    return;
  }
  if (await page.$("#dead-letters-empty")) return;
  await page.check("#dead-table tbody tr:first-child input[type=checkbox]");
  await page.click("#redrive");
  check((await page.textContent("#redrive-result")).includes("reason"), "a re-drive asks for a reason");
  await page.fill("#redrive-reason", "OPS-43: the inbox is back");
  await page.click("#redrive");
  await page.waitForSelector("#redrive-answer", WAIT);
  check((await page.textContent("#redrive-answer")).startsWith("Re-driven"), await page.textContent("#redrive-answer"));
});

await scenario("audit", async (page) => {
  await open(page, "#/audit", "audit");
  await page.waitForSelector("#audit-unavailable, #audit-empty, #audit-table", WAIT);
  check((await page.getAttribute('nav a[data-page="audit"]', "aria-current")) === "page", "the menu shows where we are");
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

await browser.close();
process.exit(failures === 0 ? 0 : 1);
