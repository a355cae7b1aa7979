// The two editions of the book: English (book/book) and 中文 (book/book/zh-CN).
//
// 1. The language switcher (theme/header.hbs) leads to the same page in the other edition, at
//    the same #anchor, and sits in the menu bar.
// 2. The Chinese edition's search: mdBook's own search does not segment Chinese (it cuts at
//    spaces, so 僵尸进程 matches only a run of text that starts with it), so `cargo lab book` builds it without it and indexes it with Pagefind's extended
//    build instead (book/book/zh-CN/pagefind/). This adds a search button and box that use it.
(function () {
  "use strict";
  var root = typeof path_to_root === "string" ? path_to_root : "";

  function switcher() {
    var nav = document.querySelector("nav.proclab-lang");
    var link = nav && nav.querySelector("a");
    if (!link) return;
    var page = (nav.getAttribute("data-path") || "index.md").replace(/\.md$/, ".html");
    // The static href is the other edition's index.html: its directory is that edition's root.
    var other = link.getAttribute("href").replace(/index\.html$/, "");
    link.setAttribute("href", other + page);
    link.addEventListener("click", function () {
      link.setAttribute("href", other + page + window.location.hash);
    });
    var buttons = document.querySelector("#mdbook-menu-bar .right-buttons");
    if (buttons) {
      nav.classList.add("in-menu");
      buttons.insertBefore(nav, buttons.firstChild);
    }
  }

  function chineseSearch() {
    var lang = document.documentElement.getAttribute("lang") || "";
    if (lang.toLowerCase().indexOf("zh") !== 0) return;
    if (document.getElementById("mdbook-searchbar")) return; // built with mdBook's search
    var bar = document.getElementById("mdbook-menu-bar");
    if (!bar) return;
    var panel = document.createElement("div");
    panel.id = "proclab-search";
    panel.className = "proclab-search";
    panel.hidden = true;
    bar.parentNode.insertBefore(panel, bar.nextSibling);

    var button = document.createElement("button");
    button.type = "button";
    button.id = "proclab-search-toggle";
    button.className = "icon-button";
    button.title = "搜索（按 / 或 s）";
    button.setAttribute("aria-label", "搜索");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "proclab-search");
    button.innerHTML =
      '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none" ' +
      'stroke="currentColor" stroke-width="2"><circle cx="6.5" cy="6.5" r="5"/>' +
      '<path d="M10.2 10.2 15 15" stroke-linecap="round"/></svg>';
    var left = bar.querySelector(".left-buttons");
    if (left) left.appendChild(button);

    var loaded = false;
    function fail(text) {
      panel.innerHTML = "";
      var p = document.createElement("p");
      p.className = "proclab-search-note";
      p.textContent = text;
      panel.appendChild(p);
    }
    function load(then) {
      if (loaded) return then();
      loaded = true;
      if (window.location.protocol === "file:") {
        fail("搜索需要通过 HTTP 打开本书（例如 python3 -m http.server -d book/book 后访问 http://localhost:8000/zh-CN/）：浏览器不允许从 file:// 读取搜索索引。");
        return;
      }
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = root + "pagefind/pagefind-ui.css";
      document.head.appendChild(css);
      var js = document.createElement("script");
      js.src = root + "pagefind/pagefind-ui.js";
      js.onload = function () {
        // Results link under this edition's root, wherever the book is served.
        // (An absolute bundle path: Pagefind import()s from it, and "pagefind/" alone would be
        // a bare module name.)
        var base = new URL(root || "./", window.location.href).pathname;
        new window.PagefindUI({
          element: "#proclab-search",
          bundlePath: base + "pagefind/",
          baseUrl: base,
          showSubResults: true,
          showImages: false,
          resetStyles: false,
        });
        then();
      };
      js.onerror = function () {
        fail("没有搜索索引：本版本不是用 `cargo lab book` 构建的（它用 Pagefind 为中文版建立索引）。");
      };
      document.head.appendChild(js);
    }
    function focusInput() {
      var input = panel.querySelector("input");
      if (input) input.focus();
    }
    function toggle(open) {
      panel.hidden = !open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) load(focusInput);
    }
    button.addEventListener("click", function () {
      toggle(panel.hidden);
    });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
      if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && (e.key === "/" || e.key === "s")) {
        e.preventDefault();
        toggle(true);
      } else if (e.key === "Escape" && !panel.hidden) {
        toggle(false);
        button.focus();
      }
    });
  }

  switcher();
  chineseSearch();
})();
