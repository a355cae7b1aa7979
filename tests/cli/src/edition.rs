//! The Chinese edition (中文版) of the book, built beside the English one by `cargo lab book`:
//! the tools it needs (mdbook-i18n-helpers for gettext, Pagefind for a search that segments
//! Chinese), its build into `<out>/zh-CN`, its search index, and checks on the built HTML that
//! mdBook does not make: the language switcher on every page of both editions, and Markdown
//! that a translation left unparsed (`**…**` or `_…_` shown as such between Chinese characters).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const I18N_VERSION: &str = "0.4.0";

/// `$PATH` with `~/.cargo/bin` at the end: mdbook looks for its preprocessor (mdbook-gettext)
/// and renderer (mdbook-xgettext) there, where `cargo install` put them.
pub fn path_with_cargo_bin() -> OsString {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".cargo/bin"));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A program on `$PATH` or in `~/.cargo/bin`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&path_with_cargo_bin()).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The Pagefind version book/package.json pins (`npm install --prefix book` installs it).
pub fn pinned_pagefind(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("book/package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["devDependencies"]["pagefind"].as_str().map(str::to_string)
}

/// Pagefind as pinned: book/node_modules/.bin/pagefind, else `pagefind` on `$PATH`, at the
/// version of book/package.json.
pub fn find_pagefind(root: &Path) -> Result<PathBuf, String> {
    let pinned = pinned_pagefind(root).unwrap_or_else(|| "?".into());
    let install = format!(
        "install it with `npm install --prefix book` (Pagefind {pinned}, pinned in book/package.json; its extended build segments Chinese)"
    );
    let local = root.join("book/node_modules/.bin/pagefind");
    let bin = if local.is_file() {
        local
    } else {
        find_tool("pagefind").ok_or(format!("pagefind not found: {install}"))?
    };
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().trim_start_matches("pagefind ").to_string();
    if version != pinned {
        return Err(format!("{} is Pagefind {version}, the book pins {pinned}: {install}", bin.display()));
    }
    Ok(bin)
}

/// What the Chinese edition needs and this machine lacks, each with how to install it.
pub fn missing_tools(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for t in ["mdbook-gettext", "mdbook-xgettext"] {
        if find_tool(t).is_none() {
            out.push(format!(
                "{t} not found: the Chinese edition (book/po) needs mdbook-i18n-helpers {I18N_VERSION}: install it with `cargo install mdbook-i18n-helpers --locked --version {I18N_VERSION}`"
            ));
            break;
        }
    }
    if let Err(e) = find_pagefind(root) {
        out.push(e);
    }
    out
}

/// The chapters of the book (SUMMARY.md's links), as the pages mdBook makes of them.
pub fn chapter_pages(root: &Path) -> Vec<String> {
    let summary = std::fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap_or_default();
    crate::book::links(&summary)
        .into_iter()
        .filter_map(|l| l.strip_suffix(".md").map(|p| format!("{p}.html")))
        .collect()
}

/// Indexes the chapters of the Chinese edition in `site_zh` with Pagefind (extended: it
/// segments Chinese): `site_zh/pagefind/`, which theme/edition.js searches. Only the chapters'
/// `<main>`: not the sidebar, not index.html (the first chapter again) or print.html (all of them).
pub fn index(root: &Path, site_zh: &Path) -> Result<(), String> {
    let pagefind = find_pagefind(root)?;
    let pages = chapter_pages(root);
    let glob = format!("{{{}}}", pages.join(","));
    let output = Command::new(&pagefind)
        .arg("--site")
        .arg(site_zh)
        .args(["--root-selector", "main", "--glob", &glob])
        .output()
        .map_err(|e| format!("cannot run pagefind: {e}"))?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let indexed = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Indexed ").and_then(|r| r.strip_suffix(" pages")))
        .and_then(|n| n.trim().parse::<usize>().ok());
    if !output.status.success() || indexed != Some(pages.len()) {
        return Err(format!(
            "pagefind indexed {} of the {} chapters of the Chinese edition:\n{}",
            indexed.map_or("none".into(), |n| n.to_string()),
            pages.len(),
            text.trim_end()
        ));
    }
    Ok(())
}

/// Every page of both editions (`site`, `site/zh-CN`) has the language switcher, and the page
/// it stands for (`data-path`) exists in the other edition: the same page, there.
pub fn switcher_problems(site: &Path) -> Vec<String> {
    let zh = site.join("zh-CN");
    if !zh.is_dir() {
        return vec![format!("no Chinese edition in {}", zh.display())];
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for (here, there, lang) in [(site, zh.as_path(), "en"), (zh.as_path(), site, "zh-CN")] {
        let mut pages = Vec::new();
        crate::site::html_files(here, here, &mut pages);
        pages.sort();
        for page in pages {
            if page.starts_with("zh-CN") || page.ends_with("toc.html") {
                continue;
            }
            let html = std::fs::read_to_string(here.join(&page)).unwrap_or_default();
            let shown =
                if lang == "en" { page.display().to_string() } else { format!("zh-CN/{}", page.display()) };
            let Some(at) = html.find("<nav class=\"proclab-lang\"") else {
                problems.push(format!("{shown}: no language switcher (book/theme/header.hbs)"));
                continue;
            };
            let tag = &html[at..html[at..].find('>').map_or(html.len(), |e| at + e)];
            let Some(path) = tag.split("data-path=\"").nth(1).and_then(|r| r.split('"').next()) else {
                problems.push(format!("{shown}: the language switcher names no page (data-path)"));
                continue;
            };
            let target = Path::new(path).with_extension("html");
            if !there.join(&target).is_file() {
                problems.push(format!(
                    "{shown}: the language switcher leads to {}, which the other edition does not have",
                    target.display()
                ));
            }
            checked += 1;
        }
    }
    if checked == 0 {
        problems.push("no page of the built book was checked for the language switcher".into());
    }
    problems
}

/// Markdown shown as text on a built page: emphasis that did not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct Residue {
    pub page: String,
    /// The marked text with a few characters around it, as the reader sees it.
    pub snippet: String,
    /// The text between the markers.
    pub inner: String,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
        || "“”‘’…—".contains(c)
}

/// The reader's text of an HTML fragment, one line per block, without code, scripts or figures.
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    const SKIP: [&str; 5] = ["pre", "code", "script", "style", "svg"];
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[1..end.saturating_sub(1)];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        rest = &rest[end..];
        if !tag.starts_with('/') && SKIP.contains(&name.as_str()) {
            let close = format!("</{name}>");
            rest = rest.find(&close).map_or("", |c| &rest[c + close.len()..]);
            out.push(' ');
            continue;
        }
        if [
            "p",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "td",
            "th",
            "tr",
            "div",
            "blockquote",
            "br",
            "dt",
            "dd",
            "figcaption",
            "summary",
            "details",
        ]
        .contains(&name.as_str())
        {
            out.push('\n');
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Emphasis markers left as text in `text` (one page's visible text): `**…**`, `*…*`, `_…_`.
/// A `_` between letters or digits (SIG_IGN) is not a marker.
pub fn residue_in(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let marker: &[char] = if c == '*' && chars.get(i + 1) == Some(&'*') {
                &['*', '*']
            } else if c == '*' {
                &['*']
            } else if c == '_'
                && !chars.get(i.wrapping_sub(1)).is_some_and(|p| p.is_ascii_alphanumeric() || *p == '_')
                && chars.get(i + 1) != Some(&'_')
            {
                &['_']
            } else {
                i += 1;
                continue;
            };
            let open_end = i + marker.len();
            // The closing marker on the same line, with something between.
            let close = (open_end + 1..chars.len()).find(|&j| {
                chars[j..].starts_with(marker)
                    && !(marker == ['_']
                        && chars.get(j + 1).is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_'))
                    && !(marker == ['_'] && chars[j - 1] == '_')
                    && !(marker == ['*'] && chars.get(j + 1) == Some(&'*'))
            });
            let between_ok = |j: usize| {
                let inner: String = chars[open_end..j].iter().collect();
                !inner.trim().is_empty() && !inner.starts_with(' ') && inner.chars().count() <= 80
            };
            match close {
                Some(j) if between_ok(j) => {
                    let inner: String = chars[open_end..j].iter().collect();
                    let cjk_near = inner.chars().any(is_cjk)
                        || chars.get(i.wrapping_sub(1)).is_some_and(|&p| is_cjk(p))
                        || chars.get(j + marker.len()).is_some_and(|&n| is_cjk(n));
                    if marker.len() == 2 || cjk_near {
                        let from = i.saturating_sub(8);
                        let to = (j + marker.len() + 8).min(chars.len());
                        out.push((chars[from..to].iter().collect::<String>().trim().to_string(), inner));
                    }
                    i = j + marker.len();
                }
                _ if marker.len() == 2 => {
                    let to = (i + 20).min(chars.len());
                    out.push((
                        chars[i.saturating_sub(8)..to].iter().collect::<String>().trim().to_string(),
                        String::new(),
                    ));
                    i = open_end;
                }
                _ => i = open_end,
            }
        }
    }
    out
}

/// The emphasis left as text on the chapters of the Chinese edition in `site_zh`.
pub fn residue(root: &Path, site_zh: &Path) -> Vec<Residue> {
    let mut out = Vec::new();
    for page in chapter_pages(root) {
        let html = std::fs::read_to_string(site_zh.join(&page)).unwrap_or_default();
        let main = html.split("<main>").nth(1).and_then(|m| m.split("</main>").next()).unwrap_or("");
        for (snippet, inner) in residue_in(&visible_text(main)) {
            out.push(Residue { page: page.clone(), snippet, inner });
        }
    }
    out
}

/// The messages of the page's chapter in zh-CN.po whose translation has the residue's text
/// between emphasis markers (else, for a longer text, anywhere), as `msgid "…"`.
pub fn messages_for(r: &Residue, po: &[crate::catalogue::Entry]) -> Vec<String> {
    let inner = r.inner.trim();
    let chapter = format!("src/{}", r.page.trim_end_matches(".html"));
    let mine: Vec<&crate::catalogue::Entry> =
        po.iter().filter(|e| e.files.iter().any(|f| f.trim_end_matches(".md") == chapter)).collect();
    let marked = |e: &&&crate::catalogue::Entry| {
        ["*", "_"].iter().any(|m| e.msgstr.contains(&format!("{m}{inner}{m}")))
    };
    let mut hits: Vec<&&crate::catalogue::Entry> = mine.iter().filter(marked).collect();
    if hits.is_empty() && inner.chars().count() >= 4 {
        hits = mine.iter().filter(|e| e.msgstr.contains(inner)).collect();
    }
    hits.into_iter()
        .filter(|_| !inner.is_empty())
        .map(|e| {
            let id: String = e.msgid.split_whitespace().collect::<Vec<_>>().join(" ");
            let id = if id.chars().count() > 60 {
                format!("{}…", id.chars().take(60).collect::<String>())
            } else {
                id
            };
            format!("msgid \"{id}\"")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_emphasis_left_as_text_beside_chinese() {
        let text = visible_text(
            "<p>那么进程组是谁*创建*的？</p><p>它是**“孤儿”**。</p><p>这是 <em>强调</em>，\
             <code>**kwargs</code> 与 SIG_IGN、os._exit、在__init__方法 不算</p><p>两个_僵尸_进程</p>\
             <pre><code>a * b * c</code></pre><p>2 * 3 * 4 = 24</p>",
        );
        let found: Vec<String> = residue_in(&text).into_iter().map(|(_, inner)| inner).collect();
        assert_eq!(found, vec!["创建", "“孤儿”", "僵尸"], "{text}");
    }

    #[test]
    fn an_unclosed_double_star_is_residue_too() {
        let found = residue_in("它是**孤儿");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn the_switcher_must_lead_to_the_same_page() {
        let dir = std::env::temp_dir().join(format!("proclab-switcher-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let nav = |p: &str| {
            format!("<nav class=\"proclab-lang\" aria-label=\"x\" data-path=\"{p}\"><a>x</a></nav>")
        };
        for (f, t) in [
            ("index.html", nav("index.md")),
            ("labs/a.html", nav("labs/a.md")),
            ("labs/b.html", nav("labs/b.md")),
            ("zh-CN/index.html", nav("index.md")),
            ("zh-CN/labs/a.html", nav("labs/a.md")),
            ("zh-CN/labs/c.html", "<p>no switcher</p>".to_string()),
        ] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        let problems = switcher_problems(&dir);
        assert_eq!(
            problems,
            vec![
                "labs/b.html: the language switcher leads to labs/b.html, which the other edition does not have",
                "zh-CN/labs/c.html: no language switcher (book/theme/header.hbs)",
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_chapter_is_a_page() {
        let pages = chapter_pages(&crate::labs::root());
        assert!(
            pages.contains(&"labs/02-zombie.html".to_string())
                && pages.contains(&"glossary.html".to_string())
        );
        assert!(pages.iter().all(|p| p.ends_with(".html") && !p.contains(',')), "{pages:?}");
    }
}
