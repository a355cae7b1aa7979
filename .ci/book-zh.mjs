// The two editions in a real browser (headless Chromium), served over HTTP as readers get them:
//
// 1. The language switcher: on every page of both editions it sits in the menu bar and leads to
//    the same page of the other edition (which exists); followed from a #anchor, it keeps it.
// 2. The Chinese edition's search (Pagefind, extended build): each term is typed into the search
//    box of a Chinese page, every result page is loaded ("load more" until none is left), and every
//    chapter whose text contains the term must be among them.
//
// Usage: node .ci/book-zh.mjs BUILT_BOOK_DIR CHROMIUM [TERM …]   (run by .ci/book-zh)
// Prints one line per problem and exits 1 if there is any.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";

const [site, browser, ...given] = process.argv.slice(2);
const terms = given.length ? given : ["僵尸进程", "孤儿进程", "进程组", "信号处理"];
const started = Date.now();

function pages(dir, under = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!["zh-CN", "pagefind", "fonts", "css", "FontAwesome"].includes(rel)) out.push(...pages(dir, rel));
    } else if (e.name.endsWith(".html") && rel !== "toc.html") {
      out.push(rel);
    }
  }
  return out.sort();
}
const en = pages(site);
const zh = pages(path.join(site, "zh-CN"));
// The chapters (what Pagefind indexes): not index.html (the first chapter again), print.html
// (every chapter in one) or 404.html.
const chapters = zh.filter((p) => !["index.html", "print.html", "404.html"].includes(p));
// The switcher in the browser: one page of each kind and depth (cargo lab book checks every
// page's switcher in the built HTML; a page loads in about 0.25 s of a busy CI core).
const kinds = [/^index\.html$/, /^print\.html$/, /^404\.html$/, /^glossary\.html$/, /^labs\//, /^answers\/index\.html$/, /^answers\/\d/];
const sample = (list) => kinds.map((k) => list.find((p) => k.test(p))).filter(Boolean);

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
  ".wasm": "application/wasm", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
};

const probe = `<!doctype html><meta charset="utf-8"><title>probe</title>
<iframe id="f" style="width:1280px;height:900px;border:0"></iframe>
<script>
const CFG = ${JSON.stringify({ en: sample(en), zh: sample(zh), chapters, terms })};
const problems = [], notes = [];
const f = document.getElementById("f");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms) {
  const end = Date.now() + ms;
  for (;;) { const v = fn(); if (v) return v; if (Date.now() > end) return null; await sleep(25); }
}
function load(url, frame = f) {
  return new Promise((res) => { frame.onload = () => res(frame.contentWindow); frame.src = url; });
}
const cjk = "\\\\u3000-\\\\u303f\\\\u3400-\\\\u9fff\\\\uff00-\\\\uffef";
const joinCjk = new RegExp("([" + cjk + "])\\\\s+(?=[" + cjk + "])", "g");
function text(doc) {
  const main = doc.querySelector("main");
  if (!main) return "";
  main.querySelectorAll("script, style, template").forEach((e) => e.remove());
  return main.textContent.replace(joinCjk, "$1");
}
async function switcher(edition, page, frame) {
  const here = edition === "en" ? "/" : "/zh-CN/";
  const there = edition === "en" ? "/zh-CN/" : "/";
  const w = await load(here + page, frame);
  const a = await until(() => w.document.querySelector("#mdbook-menu-bar nav.proclab-lang a"), 5000);
  if (!a) { problems.push(here + page + ": no language switcher in the menu bar"); return; }
  const want = location.origin + there + page;
  if (a.href !== want) { problems.push(here + page + ": the switcher leads to " + a.href + ", not " + want); return; }
  const r = await fetch(a.href);
  if (!r.ok) problems.push(here + page + ": the switcher leads to " + a.href + ", which is " + r.status);
}
async function anchorKept() {
  // From a #anchor of a lab chapter, the switcher lands on the same anchor in the other edition.
  const page = CFG.chapters.find((p) => p.startsWith("labs/02"));
  for (const [here, there] of [["/", "/zh-CN/"], ["/zh-CN/", "/"]]) {
    let w = await load(here + page);
    const h = w.document.querySelector("main h2[id]");
    if (!h) { problems.push(here + page + ": no h2 with an id to follow"); continue; }
    w.location.hash = "#" + h.id;
    const a = await until(() => w.document.querySelector("#mdbook-menu-bar nav.proclab-lang a"), 5000);
    const landed = new Promise((res) => { f.onload = () => res(f.contentWindow); });
    a.click();
    w = await landed;
    const want = there + page + "#" + h.id;
    const got = w.location.pathname + w.location.hash;
    if (got !== want || !w.document.getElementById(h.id)) {
      problems.push(here + page + "#" + h.id + ": the switcher landed on " + got + ", not " + want);
    } else {
      notes.push("switcher from " + here + page + "#" + h.id + " landed on " + got);
    }
  }
}
async function search() {
  const truth = {};
  for (const p of CFG.chapters) {
    const html = await (await fetch("/zh-CN/" + p)).text();
    truth[p] = text(new DOMParser().parseFromString(html, "text/html"));
  }
  const w = await load("/zh-CN/index.html");
  const errors = [];
  w.addEventListener("error", (e) => errors.push(String(e.message || e)));
  w.addEventListener("unhandledrejection", (e) => errors.push(String(e.reason && e.reason.stack || e.reason)));
  const origError = w.console.error;
  w.console.error = (...a) => { errors.push(a.map(String).join(" ")); origError.apply(w.console, a); };
  const toggle = await until(() => w.document.getElementById("proclab-search-toggle"), 5000);
  if (!toggle) { problems.push("/zh-CN/index.html: no search button"); return; }
  toggle.click();
  const input = await until(() => w.document.querySelector("#proclab-search input"), 15000);
  if (!input) {
    const note = w.document.querySelector("#proclab-search");
    problems.push("/zh-CN/index.html: the search box did not appear (" + (note ? note.textContent.trim() : "no panel") + ")");
    return;
  }
  for (const term of CFG.terms) {
    input.focus();
    input.value = "";
    for (const ch of term) {  // typed, one character after the other
      input.value += ch;
      input.dispatchEvent(new w.InputEvent("input", { bubbles: true, data: ch, inputType: "insertText" }));
      await sleep(30);
    }
    const msg = await until(() => {
      const m = w.document.querySelector("#proclab-search .pagefind-ui__message");
      return m && m.textContent.includes(term) && /\\d/.test(m.textContent) ? m.textContent : null;
    }, 20000);
    if (!msg) {
      const panel = w.document.querySelector("#proclab-search");
      problems.push(term + ": the search showed no result count (the box says: " + (panel ? panel.textContent.replace(/\\s+/g, " ").trim().slice(0, 200) : "nothing") + ")");
      if (errors.length) problems.push("errors in the page: " + errors.join(" | ").slice(0, 600));
      continue;
    }
    const count = Number((msg.match(/\\d+/) || ["0"])[0]);
    const links = () => w.document.querySelectorAll("#proclab-search li.pagefind-ui__result > div > p.pagefind-ui__result-title a");
    // Pagefind shows a few results, more on "load more", and fills each in as it scrolls into
    // view: load and scroll until every counted result has its link.
    const items = () => w.document.querySelectorAll("#proclab-search li.pagefind-ui__result");
    const deadline = Date.now() + 30000;
    while (links().length < count && Date.now() < deadline) {
      const more = w.document.querySelector("#proclab-search button.pagefind-ui__button");
      if (more && items().length < count) more.click();
      items().forEach((li) => li.scrollIntoView());
      await sleep(50);
    }
    // (Pagefind links a directory's index.html as the directory: answers/ is answers/index.html.)
    const found = new Set([...links()].map((a) =>
      new URL(a.href).pathname.replace(/^\\/zh-CN\\//, "").replace(/(^|\\/)$/, "$1index.html")));
    const want = CFG.chapters.filter((p) => truth[p].includes(term));
    const missed = want.filter((p) => !found.has(p));
    const labs = want.filter((p) => p.startsWith("labs/"));
    if (!labs.length) problems.push(term + ": no lab chapter contains it (the test would prove nothing)");
    if (missed.length) problems.push(term + ": " + missed.length + " of the " + want.length + " pages that contain it not found: " + missed.join(", "));
    notes.push(term + ": " + found.size + " pages found (" + msg.trim() + "); all " + want.length + " that contain it among them (" + labs.length + " lab chapters)" + (missed.length ? " — NOT ALL" : ""));
  }
}
(async () => {
  try {
    const t0 = Date.now();
    // Four pages at a time, each in its own frame.
    const queue = CFG.en.map((p) => ["en", p]).concat(CFG.zh.map((p) => ["zh", p]));
    await Promise.all([0, 1, 2, 3].map(async () => {
      const frame = document.body.appendChild(document.createElement("iframe"));
      frame.style.cssText = "width:1280px;height:900px;border:0";
      for (let job; (job = queue.shift()); ) await switcher(job[0], job[1], frame);
      frame.remove();
    }));
    notes.push("switcher: " + (CFG.en.length + CFG.zh.length) + " pages checked (" + ((Date.now() - t0) / 1000).toFixed(1) + " s)");
    await anchorKept();
    await search();
  } catch (e) {
    problems.push("probe: " + (e && e.stack || e));
  }
  await fetch("/__report", { method: "POST", body: JSON.stringify({ problems, notes }) });
})();
</script>`;

let finish;
const report = new Promise((res) => (finish = res));
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.method === "POST" && url.pathname === "/__report") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => { res.end("ok"); finish(JSON.parse(body)); });
    return;
  }
  if (url.pathname === "/__probe.html") {
    res.writeHead(200, { "content-type": types[".html"] });
    res.end(probe);
    return;
  }
  let file = path.resolve(path.join(site, decodeURIComponent(url.pathname)));
  if (!file.startsWith(path.resolve(site))) { res.writeHead(403); res.end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end("not found"); return; }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    res.end(data);
  });
});
server.listen(0, "127.0.0.1", () => {
  const port = server.address().port;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "proclab-chromium-"));
  // Its own process group, so that it and its helpers end together (by its pid, below).
  const chromium = spawn(browser, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1400,1000",
    `--user-data-dir=${profile}`, "--remote-debugging-port=0", `http://127.0.0.1:${port}/__probe.html`,
  ], { stdio: "ignore", detached: true });
  const gone = new Promise((res) => chromium.on("exit", res));
  const timer = setTimeout(() => finish({ problems: ["no report from the browser within 240 s"], notes: [] }), 240000);
  report.then(async ({ problems, notes }) => {
    clearTimeout(timer);
    try { process.kill(-chromium.pid, "SIGTERM"); } catch {}
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    try { process.kill(-chromium.pid, "SIGKILL"); } catch {}
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
    for (const n of notes) console.log("  " + n);
    for (const p of problems) console.log("✗ " + p);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (problems.length) {
      console.log(`book-zh: ${problems.length} problem(s) (${secs} s)`);
      process.exit(1);
    }
    console.log(`book-zh: the switcher leads to the same page (${sample(en).length + sample(zh).length} pages of every kind, both editions); the Chinese search finds every chapter containing ${terms.join(", ")} (${secs} s)`);
    process.exit(0);
  });
});
