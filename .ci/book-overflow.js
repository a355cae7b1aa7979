// Injected into a copy of each built page by .ci/book-overflow: opens every <details>
// (speaker notes, collapsed demos), then reports every element that sticks out to the right of
// the content column (<main>) without a scrolling or clipping box around it inside <main>.
// The page's own CSS clips the body (overflow-x: clip), so such content is simply cut off.
(function () {
  function describe(el) {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.className && typeof el.className === "string") s += "." + el.className.trim().split(/\s+/).join(".");
    const text = (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 70);
    return s + ' "' + text + '"';
  }
  function heading(el) {
    // The nearest heading before el: where in the page the problem is.
    let h = null;
    for (const x of document.querySelectorAll("main h1, main h2, main h3")) {
      if (x.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) h = x;
    }
    return h ? h.textContent.trim().slice(0, 60) : "(top)";
  }
  function run() {
    document.querySelectorAll("details").forEach((d) => (d.open = true));
    const main = document.querySelector("main");
    const out = [];
    if (!main) {
      out.push("NOMAIN");
    } else {
      const mr = main.getBoundingClientRect();
      out.push("MAIN " + Math.round(mr.width));
      const reported = new Set();
      for (const el of main.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.right <= mr.right + 1) continue;
        let a = el.parentElement;
        let contained = false;
        while (a && a !== main) {
          if (reported.has(a)) { contained = true; break; }
          const ox = getComputedStyle(a).overflowX;
          if (ox !== "visible" && a.getBoundingClientRect().right <= mr.right + 1) { contained = true; break; }
          a = a.parentElement;
        }
        if (contained) continue;
        reported.add(el);
        out.push("BAD " + Math.round(r.right - mr.right) + " px past the column, under \"" + heading(el) + "\": " + describe(el));
      }
      const doc = document.documentElement;
      if (doc.scrollWidth > window.innerWidth + 1) out.push("BAD the page itself is " + doc.scrollWidth + " px wide in a " + window.innerWidth + " px window");
    }
    const pre = document.createElement("pre");
    pre.id = "proclab-overflow";
    pre.textContent = out.join("\n");
    document.body.appendChild(pre);
  }
  if (document.readyState === "complete") run();
  else window.addEventListener("load", () => setTimeout(run, 50));
})();
