//! Checks of the instructors' book that mdbook itself does not make: every relative link
//! points at a file that exists, and every `#fragment` at a heading that exists.

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
            ids.insert(slug(line));
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

#[cfg(test)]
mod tests {
    use super::*;

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
