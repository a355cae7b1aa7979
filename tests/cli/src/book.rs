//! Checks of the instructors' book's sources that mdbook itself does not make: every relative
//! link points at a file of the book and every `#fragment` at a heading; every `{{#include}}`
//! names an ANCHOR that exists (never line numbers, which silently show the wrong lines after
//! an edit); every lab the book mentions exists. The built site is checked by `site.rs`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// mdBook's heading ids: lower case, spaces to '-', other punctuation dropped.
pub fn slug(heading: &str) -> String {
    let text = heading.trim_start_matches('#').trim();
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.extend(c.to_lowercase());
        } else if c == ' ' {
            out.push('-');
        }
    }
    out
}

fn headings(text: &str) -> HashSet<String> {
    let mut in_code = false;
    let mut ids = HashSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            // An explicit id (`## Title {#id}`) wins: it keeps anchors the same in every
            // language of the book, whatever the translated heading says.
            match line.trim_end().strip_suffix('}').and_then(|l| l.rsplit_once("{#")) {
                Some((_, id)) => ids.insert(id.to_string()),
                None => ids.insert(slug(line)),
            };
        }
    }
    ids
}

/// Relative link targets in a markdown text (outside code blocks and inline code).
pub fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Drop inline code spans so `a](b)` inside backticks is not a link.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = rest[..end].split_whitespace().next().unwrap_or("").to_string();
            rest = &rest[end..];
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                out.push(target);
            }
        }
    }
    out
}

fn md_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                md_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
}

/// Broken links of the book under `src`, as "file: link (why)".
pub fn broken_links(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    md_files(src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let rel = file.strip_prefix(src).unwrap_or(file).display().to_string();
        for link in links(&text) {
            let (path, frag) = match link.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() { file.clone() } else { file.parent().unwrap_or(src).join(path) };
            // A chapter may link to the .html that mdBook makes of a .md.
            let target = if target.extension().is_some_and(|x| x == "html") {
                target.with_extension("md")
            } else {
                target
            };
            if !target.exists() {
                broken.push(format!("{rel}: {link} (no such file)"));
                continue;
            }
            let inside = target
                .canonicalize()
                .ok()
                .zip(src.canonicalize().ok())
                .is_some_and(|(t, s)| t.starts_with(s));
            if !inside {
                broken.push(format!("{rel}: {link} (outside the book: a 404 in the built site)"));
                continue;
            }
            if let Some(f) = frag {
                if target.extension().is_some_and(|x| x == "md") {
                    let t = std::fs::read_to_string(&target).unwrap_or_default();
                    if !headings(&t).contains(f) {
                        broken.push(format!("{rel}: {link} (no heading #{f})"));
                    }
                }
            }
        }
    }
    broken
}

/// Every `{{#include path[:selector]}}` (and `#rustdoc_include`) of the sources: (file, path,
/// selector) with the line it is on.
pub fn includes(text: &str) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("{{#") {
            rest = &rest[i + 3..];
            let Some(end) = rest.find("}}") else { break };
            let body = &rest[..end];
            rest = &rest[end..];
            let Some(arg) = body.strip_prefix("include ").or_else(|| body.strip_prefix("rustdoc_include "))
            else {
                continue;
            };
            let arg = arg.trim();
            let (path, sel) = match arg.split_once(':') {
                Some((p, s)) => (p.to_string(), Some(s.to_string())),
                None => (arg.to_string(), None),
            };
            out.push((n + 1, path, sel));
        }
    }
    out
}

/// Includes by line numbers, includes of missing files, and anchors missing from their file.
pub fn include_problems(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    md_files(src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let rel = file.strip_prefix(src).unwrap_or(file).display().to_string();
        for (line, path, sel) in includes(&text) {
            let target = file.parent().unwrap_or(src).join(&path);
            let Ok(body) = std::fs::read_to_string(&target) else {
                problems.push(format!("{rel}:{line}: includes {path}, which does not exist"));
                continue;
            };
            let Some(sel) = sel else { continue };
            if sel.chars().next().is_some_and(|c| c.is_ascii_digit()) || sel.starts_with(':') {
                problems.push(format!(
                    "{rel}:{line}: includes {path}:{sel} by line numbers — name an ANCHOR instead (line numbers show the wrong lines after an edit)"
                ));
                continue;
            }
            let has = |marker: &str| {
                body.lines().any(|l| {
                    l.split(marker).nth(1).is_some_and(|r| r.split_whitespace().next() == Some(sel.as_str()))
                })
            };
            if !has("ANCHOR:") || !has("ANCHOR_END:") {
                problems.push(format!(
                    "{rel}:{line}: includes {path}:{sel}, but {path} has no ANCHOR: {sel} … ANCHOR_END: {sel}"
                ));
            }
        }
    }
    problems
}

/// Lab chapters (`labs/*.md`) that do not link the glossary (`../glossary.md`).
pub fn chapters_without_glossary(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    md_files(&src.join("labs"), &mut files);
    files.sort();
    files
        .iter()
        .filter(|f| {
            !links(&std::fs::read_to_string(f).unwrap_or_default())
                .iter()
                .any(|l| l.starts_with("../glossary.md"))
        })
        .map(|f| {
            format!(
                "{}: no link to the glossary (../glossary.md)",
                f.strip_prefix(src).unwrap_or(f).display()
            )
        })
        .collect()
}

/// Labs the book mentions ("lab 13", "labs 10 and 16", "Lab 07") that have no directory in
/// `labs/`: a "see lab N" that leads nowhere.
pub fn missing_labs(src: &Path, existing: &[u32]) -> Vec<String> {
    let mut files = Vec::new();
    md_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let rel = file.strip_prefix(src).unwrap_or(file).display().to_string();
        let mut missing: Vec<u32> =
            lab_mentions(&text).into_iter().filter(|n| !existing.contains(n)).collect();
        missing.sort();
        missing.dedup();
        for n in missing {
            out.push(format!("{rel}: mentions lab {n:02}, which does not exist (no labs/{n:02}-*)"));
        }
    }
    out
}

/// Lab numbers mentioned in prose: "lab 7", "Lab 07", "labs 10 and 16", "labs 05–07" (both
/// ends), "(lab 13)". Not `lab07`-style package names, not `labs/…` paths.
pub fn lab_mentions(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let lower = text.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("lab") {
        let before = lower.len() - rest.len() + i;
        rest = &rest[i + 3..];
        let prev = lower[..before].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '/' || c == '-') {
            continue;
        }
        let tail = rest.strip_prefix('s').unwrap_or(rest);
        let Some(tail) = tail.strip_prefix(' ') else { continue };
        // A run of numbers joined by ", ", " and ", "–", "-", " or ".
        let mut t = tail;
        loop {
            let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
            if digits.is_empty() || digits.len() > 2 {
                break;
            }
            out.push(digits.parse().unwrap_or(0));
            t = &t[digits.len()..];
            let Some(next) =
                [", ", " and ", "–", "-", " or ", ","].iter().find_map(|sep| t.strip_prefix(sep))
            else {
                break;
            };
            t = next;
        }
    }
    out.retain(|&n| n > 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_mentions_in_prose() {
        assert_eq!(lab_mentions("see lab 13, and Lab 07; labs 10 and 16"), vec![13, 7, 10, 16]);
        assert_eq!(lab_mentions("labs 05–07 (lab 9)"), vec![5, 7, 9]);
        assert_eq!(
            lab_mentions("cargo test -p lab07; labs/07-x; proclab 3; the lab sheet"),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn includes_by_anchor_and_by_line() {
        let md = "a {{#include ../x.rs:handler}} b\n{{#include demos/d.txt:7:9}}\n{{#include demos/e.txt}}";
        assert_eq!(
            includes(md),
            vec![
                (1, "../x.rs".to_string(), Some("handler".to_string())),
                (2, "demos/d.txt".to_string(), Some("7:9".to_string())),
                (3, "demos/e.txt".to_string(), None),
            ]
        );
    }

    #[test]
    fn every_chapter_links_the_glossary() {
        let src = crate::labs::root().join("book/src");
        let missing = chapters_without_glossary(&src);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn the_book_includes_only_by_anchor() {
        let src = crate::labs::root().join("book/src");
        let problems = include_problems(&src);
        assert!(problems.is_empty(), "includes in the book:\n{}", problems.join("\n"));
    }

    #[test]
    fn explicit_heading_ids_win() {
        let ids = headings("# A title {#a-title}\n## Zwei Wörter {#two-words}\n## plain heading\n");
        assert!(
            ids.contains("a-title") && ids.contains("two-words") && ids.contains("plain-heading"),
            "{ids:?}"
        );
    }

    #[test]
    fn slugs_like_mdbook() {
        assert_eq!(slug("## What Linux really does"), "what-linux-really-does");
        assert_eq!(slug("# Lab 02 — Zombie: a child"), "lab-02--zombie-a-child");
        assert_eq!(slug("### `waitpid` and SIGCHLD"), "waitpid-and-sigchld");
    }

    #[test]
    fn finds_relative_links_outside_code() {
        let md = "See [a](a.md#x) and [web](https://x.org).\n`[no](code.md)`\n```\n[no](block.md)\n```\n[b](../b.md)";
        assert_eq!(links(md), vec!["a.md#x".to_string(), "../b.md".to_string()]);
    }

    #[test]
    fn the_book_has_no_broken_link() {
        let src = crate::labs::root().join("book/src");
        let broken = broken_links(&src);
        assert!(broken.is_empty(), "broken links in the book:\n{}", broken.join("\n"));
    }
}
