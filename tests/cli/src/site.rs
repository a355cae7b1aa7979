//! The instructors' book as readers get it: built by mdBook, then checked on the built HTML —
//! every `href` and `src` to a local file names a file of the site, and every `#fragment` an
//! `id` of the page it points into. (A link that resolves in the sources can still 404 in the
//! site: `../../tests/lab01.rs` from `book/src/myths.md` leaves the site altogether.)

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Builds `book/` into `out` with mdBook: the English edition there, the Chinese one
/// (po/zh-CN.po, by mdbook-i18n-helpers' gettext preprocessor) into `out/zh-CN`, which
/// Pagefind then indexes (mdBook's own search does not segment Chinese). Repository and "edit
/// this page" links are added when the kit is a clone with an `origin` remote on a forge
/// (never invented). Returns what is missing, or mdBook's warnings and errors, as the error.
/// The Chinese edition's title (the English one is book.toml's).
pub const ZH_TITLE: &str = "proclab —— 进程、信号与 Linux 内核，一个实验接一个实验";

pub fn build(root: &Path, out: &Path) -> Result<(), String> {
    let mdbook = find_mdbook().ok_or(
        "mdbook not found: install it with `cargo install mdbook --locked --version ^0.5` (the book was not checked)",
    )?;
    let missing = crate::edition::missing_tools(root);
    if !missing.is_empty() {
        return Err(format!("the book was not built (it has two editions):\n{}", missing.join("\n")));
    }
    let repo = repository_env(root);
    mdbook_build(&mdbook, root, out, &repo)?;
    // The Chinese edition: its own search (Pagefind, below) instead of mdBook's; its 404 page
    // served from /zh-CN/; "edit this page" opens the translations.
    let zh = out.join("zh-CN");
    let mut env: Vec<(&str, String)> = vec![
        ("MDBOOK_BOOK__LANGUAGE", "zh-CN".into()),
        ("MDBOOK_OUTPUT__HTML__SEARCH__ENABLE", "false".into()),
        ("MDBOOK_OUTPUT__HTML__SITE_URL", "/zh-CN/".into()),
        // book.toml's title is not a message of the catalogue: the Chinese edition's own.
        ("MDBOOK_BOOK__TITLE", ZH_TITLE.into()),
    ];
    for (k, v) in repo {
        let v =
            if k.ends_with("EDIT_URL_TEMPLATE") { v.replace("book/{path}", "book/po/zh-CN.po") } else { v };
        env.push((k, v));
    }
    mdbook_build(&mdbook, root, &zh, &env)?;
    crate::edition::index(root, &zh)
}

fn mdbook_build(mdbook: &Path, root: &Path, out: &Path, env: &[(&str, String)]) -> Result<(), String> {
    let mut cmd = Command::new(mdbook);
    cmd.arg("build").arg(root.join("book")).arg("--dest-dir").arg(out);
    cmd.env("PATH", crate::edition::path_with_cargo_bin());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(|e| format!("cannot run mdbook: {e}"))?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let complaints: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("[warn") || l.contains("[error"))
        .collect();
    if !output.status.success() || !complaints.is_empty() {
        return Err(format!("mdbook build printed warnings or errors:\n{}", text.trim_end()));
    }
    Ok(())
}

pub fn find_mdbook() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("mdbook")).collect::<Vec<_>>())
        .unwrap_or_default();
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/mdbook"));
    on_path.into_iter().chain(home).find(|p| p.is_file())
}

/// `MDBOOK_OUTPUT__HTML__GIT_REPOSITORY_URL` and `…EDIT_URL_TEMPLATE` for mdBook, from the
/// clone's `origin` remote when it is an https or scp-style URL of a forge; nothing otherwise.
pub fn repository_env(root: &Path) -> Vec<(&'static str, String)> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(url) = git(&["remote", "get-url", "origin"]).and_then(|u| web_url(&u)) else {
        return Vec::new();
    };
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD").unwrap_or("main".into());
    vec![
        ("MDBOOK_OUTPUT__HTML__GIT_REPOSITORY_URL", url.clone()),
        ("MDBOOK_OUTPUT__HTML__EDIT_URL_TEMPLATE", format!("{url}/edit/{branch}/book/{{path}}")),
    ]
}

/// The web address of a git remote: `https://host/owner/repo(.git)` or `git@host:owner/repo.git`.
pub fn web_url(remote: &str) -> Option<String> {
    let r = remote.trim().trim_end_matches('/').trim_end_matches(".git");
    if let Some(rest) = r.strip_prefix("https://") {
        // Drop credentials a remote URL may carry (user:token@host): never print them.
        let rest = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
        return rest.contains('/').then(|| format!("https://{rest}"));
    }
    let rest = r.strip_prefix("ssh://").unwrap_or(r);
    let (user_host, path) = rest.split_once(':').or_else(|| rest.split_once('/'))?;
    let host = user_host.rsplit_once('@').map(|(_, h)| h).unwrap_or(user_host);
    (host.contains('.') && path.contains('/') && !path.starts_with('/'))
        .then(|| format!("https://{host}/{path}"))
}

/// One page of the built site: its ids, and the local references it makes.
struct Page {
    ids: HashSet<String>,
    refs: Vec<String>,
    /// `<base href="/">` (mdBook's 404 page): references resolve from the site's root.
    base_root: bool,
}

fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        let pat = format!(" {attr}={quote}");
        let mut rest = html;
        while let Some(i) = rest.find(&pat) {
            rest = &rest[i + pat.len()..];
            let Some(end) = rest.find(quote) else { break };
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

/// `&amp;` and friends, and `%XX` escapes, as a browser resolves them.
fn decode(s: &str) -> String {
    let s = s
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) =
                std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse(html: &str) -> Page {
    let ids = attr_values(html, "id").into_iter().chain(attr_values(html, "name")).map(decode).collect();
    let refs =
        attr_values(html, "href").into_iter().chain(attr_values(html, "src")).map(str::to_string).collect();
    let base_root = html.contains("<base href=\"/\"");
    Page { ids, refs, base_root }
}

fn is_external(r: &str) -> bool {
    let lower = r.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("//")
        || ["mailto:", "javascript:", "data:", "tel:"].iter().any(|p| lower.starts_with(p))
}

/// `a/b/../c` → `a/c`; `None` if it climbs above the root.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => out = PathBuf::new(),
        }
    }
    Some(out)
}

/// The .html files under `dir`, as paths relative to `under`.
pub(crate) fn html_files(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                html_files(&p, under, out);
            } else if p.extension().is_some_and(|x| x == "html") {
                out.push(p.strip_prefix(under).unwrap_or(&p).to_path_buf());
            }
        }
    }
}

/// Every broken local reference of the built site in `site`, as "page: href (why)".
pub fn broken_links(site: &Path) -> Vec<String> {
    let mut files = Vec::new();
    html_files(site, site, &mut files);
    files.sort();
    let pages: HashMap<PathBuf, Page> = files
        .iter()
        .map(|f| (f.clone(), parse(&std::fs::read_to_string(site.join(f)).unwrap_or_default())))
        .collect();
    let mut broken = Vec::new();
    for file in &files {
        let page = &pages[file];
        let mut seen = HashSet::new();
        for r in &page.refs {
            if r.is_empty() || is_external(r) || !seen.insert(r.clone()) {
                continue;
            }
            let (path, frag) = match r.split_once('#') {
                Some((p, f)) => (p, Some(decode(f))),
                None => (r.as_str(), None),
            };
            let path = decode(path.split('?').next().unwrap_or(""));
            let target = if path.is_empty() {
                Some(file.clone())
            } else {
                let from = if page.base_root || path.starts_with('/') {
                    PathBuf::new()
                } else {
                    file.parent().map(Path::to_path_buf).unwrap_or_default()
                };
                normalize(&from.join(path.trim_start_matches('/')))
            };
            let Some(mut target) = target else {
                broken.push(format!(
                    "{}: {r} (leaves the site: a 404 when the book is served)",
                    file.display()
                ));
                continue;
            };
            if site.join(&target).is_dir() {
                target = target.join("index.html");
            }
            if !site.join(&target).is_file() {
                broken.push(format!("{}: {r} (no such file in the built book)", file.display()));
                continue;
            }
            if let Some(f) = frag.filter(|f| !f.is_empty()) {
                match pages.get(&target) {
                    Some(t) if t.ids.contains(&f) => {}
                    Some(_) => broken.push(format!(
                        "{}: {r} (no id \"{f}\" in {})",
                        file.display(),
                        target.display()
                    )),
                    None => {}
                }
            }
        }
    }
    broken
}

/// Builds the book into `out` and checks the result: the problems, empty when all is well.
pub fn check(root: &Path, out: &Path) -> Vec<String> {
    if let Err(e) = build(root, out) {
        return vec![e];
    }
    let mut problems = broken_links(out);
    problems.extend(leftover_directives(out));
    problems.extend(crate::edition::switcher_problems(out));
    problems
}

/// Checks the book's sources (includes by anchor, labs it mentions) and the site built into
/// `out` (mdBook's warnings, every link and anchor); prints a verdict line, or one line per
/// problem. Returns the number of problems.
pub fn report(root: &Path, out: &Path) -> usize {
    let src = root.join("book/src");
    let labs: Vec<u32> = crate::labs::all().iter().map(|l| l.number).collect();
    let mut problems = crate::book::broken_links(&src);
    problems.extend(crate::book::include_problems(&src));
    problems.extend(crate::book::missing_labs(&src, &labs));
    problems.extend(crate::book::chapters_without_glossary(&src));
    problems.extend(crate::timing::problems(root, &crate::labs::all()));
    let built = check(root, out);
    let was_built =
        out.join("zh-CN/index.html").is_file() && !built.iter().any(|p| p.contains("was not built"));
    problems.extend(built);
    if let (true, Some(mdbook)) = (was_built, find_mdbook()) {
        problems.extend(crate::catalogue::report(root, &mdbook, &root.join("target/proclab/book-pot")));
        residue_report(root, out);
    }
    if problems.is_empty() {
        println!(
            "book: both editions built without warnings into {} (中文版: zh-CN/, searched by Pagefind); every link and #anchor of the built pages resolves; every page has the language switcher to the same page; po/messages.pot is the English of book/src; every chapter of po/complete.txt is fully translated; every include names an ANCHOR; every lab it mentions exists; every chapter links the glossary; timings agree with the lab sheets",
            out.display()
        );
    } else {
        println!("✗ book: {} problem(s):", problems.len());
        for p in &problems {
            println!("   {}", p.replace('\n', "\n     "));
        }
    }
    problems.len()
}

/// Emphasis the Chinese pages show as text (a translation's `**…**` or `_…_` that did not parse
/// beside Chinese characters): listed by page and message for the translators, not a failure.
fn residue_report(root: &Path, out: &Path) {
    let found = crate::edition::residue(root, &out.join("zh-CN"));
    if found.is_empty() {
        println!("中文版: no Markdown left as text on its pages (no **, *…* or _…_ that failed to parse)");
        return;
    }
    let po =
        crate::catalogue::parse(&std::fs::read_to_string(root.join("book/po/zh-CN.po")).unwrap_or_default());
    println!(
        "中文版: {} emphasis marker(s) shown as text (Markdown that did not parse beside Chinese; see book/po/README.md):",
        found.len()
    );
    for r in &found {
        let msgs = crate::edition::messages_for(r, &po);
        println!(
            "   zh-CN/{}: “{}”{}",
            r.page,
            r.snippet,
            if msgs.is_empty() { String::new() } else { format!(" — {}", msgs.join("; ")) }
        );
    }
}

/// `cargo lab book`: build the book into book/book and check it.
pub fn command() -> Result<std::process::ExitCode, String> {
    let root = crate::labs::root();
    let out = root.join("book/book");
    if repository_env(&root).is_empty() {
        eprintln!(
            "book: no `origin` remote on a forge: built without repository and \"edit this page\" links"
        );
    }
    Ok(if report(&root, &out) == 0 {
        println!("open {}", out.join("index.html").display());
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// `{{#include …}}` and other mdBook directives left unexpanded in the built pages.
fn leftover_directives(site: &Path) -> Vec<String> {
    let mut files = Vec::new();
    html_files(site, site, &mut files);
    files.sort();
    files
        .iter()
        .filter(|f| std::fs::read_to_string(site.join(f)).unwrap_or_default().contains("{{#"))
        .map(|f| format!("{}: an mdBook directive ({{{{#…}}}}) was left unexpanded", f.display()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("proclab-site-test-{}-{}", std::process::id(), files.len()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn finds_missing_files_missing_ids_and_links_that_leave_the_site() {
        let dir = site(&[
            (
                "index.html",
                r##"<a href="labs/a.html#concept">ok</a> <a href="labs/a.html#nope">x</a>
                <a href="../../tests/lab01.rs">x</a> <a href="gone.html">x</a> <a href="#top">ok</a>
                <a href="https://example.org/x#y">ext</a> <h1 id="top">t</h1> <script src="book.js"></script>"##,
            ),
            (
                "labs/a.html",
                r#"<h2 id="concept">c</h2><a href="../index.html#top">ok</a><a href="%E4%B8%AD.html">ok</a>"#,
            ),
            ("labs/中.html", "<p>zh</p>"),
            ("book.js", ""),
            ("404.html", r#"<base href="/"><a href="labs/a.html#concept">ok</a>"#),
        ]);
        let mut broken = broken_links(&dir);
        broken.sort();
        assert_eq!(
            broken,
            vec![
                "index.html: ../../tests/lab01.rs (leaves the site: a 404 when the book is served)"
                    .to_string(),
                "index.html: gone.html (no such file in the built book)".to_string(),
                "index.html: labs/a.html#nope (no id \"nope\" in labs/a.html)".to_string(),
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn web_urls_of_remotes() {
        assert_eq!(
            web_url("https://github.com/o/proclab.git").as_deref(),
            Some("https://github.com/o/proclab")
        );
        assert_eq!(web_url("git@github.com:o/proclab.git").as_deref(), Some("https://github.com/o/proclab"));
        assert_eq!(
            web_url("ssh://git@gitlab.com/o/proclab").as_deref(),
            Some("https://gitlab.com/o/proclab")
        );
        assert_eq!(
            web_url("https://user:secret@github.com/o/p.git").as_deref(),
            Some("https://github.com/o/p")
        );
        assert_eq!(web_url("/srv/git/proclab"), None);
        assert_eq!(web_url("../proclab"), None);
    }
}
