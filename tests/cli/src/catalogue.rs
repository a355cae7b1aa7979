//! The Chinese edition's message catalogue (book/po): is `messages.pot` the English of today's
//! `book/src`, how much of each chapter `zh-CN.po` translates, and does every chapter listed in
//! `po/complete.txt` have all its messages translated (none fuzzy, none missing)?
//!
//! A chapter's messages are those whose `#:` references name its file; a message shared by two
//! chapters (a heading quoted in the myths page) counts in both.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One message of a .po/.pot file (obsolete `#~` entries and the header are left out).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub msgid: String,
    pub msgstr: String,
    pub fuzzy: bool,
    /// The files of its `#:` references, without line numbers: `src/labs/01-fork.md`.
    pub files: Vec<String>,
}

impl Entry {
    pub fn translated(&self) -> bool {
        !self.fuzzy && !self.msgstr.is_empty()
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// The messages of a .po or .pot file.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for block in text.replace("\r\n", "\n").split("\n\n") {
        let (mut msgid, mut msgstr, mut fuzzy, mut files) =
            (None::<String>, None::<String>, false, Vec::new());
        let mut field: Option<&str> = None;
        for line in block.lines() {
            let line = line.trim_end();
            if let Some(refs) = line.strip_prefix("#:") {
                for r in refs.split_whitespace() {
                    let file = match r.rsplit_once(':') {
                        Some((f, n)) if n.chars().all(|c| c.is_ascii_digit()) => f,
                        _ => r,
                    };
                    if !files.iter().any(|f| f == file) {
                        files.push(file.to_string());
                    }
                }
            } else if let Some(flags) = line.strip_prefix("#,") {
                fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
            } else if line.starts_with('#') {
                field = None;
            } else if let Some(v) = line.strip_prefix("msgid ") {
                msgid = Some(unquote(v));
                field = Some("msgid");
            } else if let Some(v) = line.strip_prefix("msgstr ") {
                msgstr = Some(unquote(v));
                field = Some("msgstr");
            } else if line.starts_with('"') {
                let target = match field {
                    Some("msgid") => msgid.as_mut(),
                    Some("msgstr") => msgstr.as_mut(),
                    _ => None,
                };
                if let Some(t) = target {
                    t.push_str(&unquote(line));
                }
            } else if line.starts_with("msgctxt") || line.starts_with("msgid_plural") {
                field = None;
            }
        }
        if let (Some(msgid), Some(msgstr)) = (msgid, msgstr) {
            if !msgid.is_empty() {
                out.push(Entry { msgid, msgstr, fuzzy, files });
            }
        }
    }
    out
}

/// How far one chapter is translated.
#[derive(Debug, Default, Clone)]
pub struct Chapter {
    pub total: usize,
    pub translated: usize,
    pub fuzzy: Vec<String>,
    pub untranslated: Vec<String>,
}

/// Each chapter of the English (`pot`, as made from `book/src` today) with what `po` does for it:
/// a message counts as translated when `po` has it with a translation that is not fuzzy.
/// Chapters are named by their path under `src/` (`labs/01-fork.md`).
pub fn chapters(pot: &[Entry], po: &[Entry]) -> BTreeMap<String, Chapter> {
    let by_id: HashMap<&str, &Entry> = po.iter().map(|e| (e.msgid.as_str(), e)).collect();
    let mut out: BTreeMap<String, Chapter> = BTreeMap::new();
    for e in pot {
        let t = by_id.get(e.msgid.as_str());
        for file in &e.files {
            let name = file.strip_prefix("src/").unwrap_or(file).to_string();
            let c = out.entry(name).or_default();
            c.total += 1;
            match t {
                Some(t) if t.translated() => c.translated += 1,
                Some(t) if t.fuzzy => c.fuzzy.push(e.msgid.clone()),
                _ => c.untranslated.push(e.msgid.clone()),
            }
        }
    }
    out
}

/// The chapters listed in `complete.txt` (one path under `src/` a line; `#` comments).
pub fn complete_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn short(msgid: &str) -> String {
    let one: String = msgid.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 70 { format!("{}…", one.chars().take(70).collect::<String>()) } else { one }
}

/// The complete chapters that are not: a fuzzy or untranslated message, or no such chapter.
pub fn complete_problems(chapters: &BTreeMap<String, Chapter>, complete: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in complete {
        let Some(c) = chapters.get(name) else {
            out.push(format!(
                "po/complete.txt lists {name}, which has no message in the English book (no such chapter?)"
            ));
            continue;
        };
        if c.fuzzy.is_empty() && c.untranslated.is_empty() {
            continue;
        }
        let mut lines = vec![format!(
            "{name} is listed as complete in po/complete.txt, but {} of its {} messages are fuzzy and {} untranslated in po/zh-CN.po:",
            c.fuzzy.len(),
            c.total,
            c.untranslated.len()
        )];
        for m in c.fuzzy.iter().take(5) {
            lines.push(format!("  fuzzy: \"{}\"", short(m)));
        }
        for m in c.untranslated.iter().take(5) {
            lines.push(format!("  untranslated: \"{}\"", short(m)));
        }
        let more =
            (c.fuzzy.len().min(5) + c.untranslated.len().min(5)) < c.fuzzy.len() + c.untranslated.len();
        if more {
            lines.push("  …".into());
        }
        lines.push("  (translate them and drop the fuzzy flag, or take the chapter off the list)".into());
        out.push(lines.join("\n"));
    }
    out
}

/// The per-chapter report: `labs/01-fork.md  97/97 100% ✓ complete`, one line a chapter, then
/// the total.
pub fn share_lines(chapters: &BTreeMap<String, Chapter>, complete: &[String]) -> Vec<String> {
    let width = chapters.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    let mut lines = Vec::new();
    let (mut all, mut done) = (0, 0);
    for (name, c) in chapters {
        let pct = (c.translated * 100).checked_div(c.total).unwrap_or(100);
        let mark = if complete.contains(name) {
            "complete"
        } else if c.translated == c.total {
            "all translated (not yet listed complete)"
        } else {
            ""
        };
        let fuzzy = if c.fuzzy.is_empty() { String::new() } else { format!(", {} fuzzy", c.fuzzy.len()) };
        lines.push(
            format!("{name:<width$} {:>4}/{:<4} {pct:>3}%{fuzzy} {mark}", c.translated, c.total)
                .trim_end()
                .to_string(),
        );
        all += c.total;
        done += c.translated;
    }
    lines.push(format!(
        "{} of {} chapter messages translated ({}%); {} chapters listed complete",
        done,
        all,
        (done * 100).checked_div(all).unwrap_or(100),
        complete.len()
    ));
    lines
}

/// The English book's messages made afresh from `book/src` (mdbook-xgettext, the command of
/// po/README.md) into `dir/messages.pot`.
pub fn regenerate_pot(root: &Path, mdbook: &Path, dir: &Path) -> Result<PathBuf, String> {
    let _ = std::fs::remove_dir_all(dir);
    let output = Command::new(mdbook)
        .arg("build")
        .arg(root.join("book"))
        .arg("--dest-dir")
        .arg(dir)
        .env("MDBOOK_OUTPUT", r#"{"xgettext": {"pot-file": "messages.pot"}}"#)
        .env("PATH", crate::edition::path_with_cargo_bin())
        .output()
        .map_err(|e| format!("cannot run mdbook: {e}"))?;
    let pot = dir.join("messages.pot");
    if !output.status.success() || !pot.is_file() {
        return Err(format!(
            "could not make the English messages afresh (mdbook-xgettext):\n{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(pot)
}

/// Messages of `fresh` (today's English) missing from `committed`, and the reverse.
pub fn pot_drift(committed: &[Entry], fresh: &[Entry]) -> (Vec<String>, Vec<String>) {
    let c: HashSet<&str> = committed.iter().map(|e| e.msgid.as_str()).collect();
    let f: HashSet<&str> = fresh.iter().map(|e| e.msgid.as_str()).collect();
    let new = fresh.iter().filter(|e| !c.contains(e.msgid.as_str())).map(|e| e.msgid.clone()).collect();
    let gone = committed.iter().filter(|e| !f.contains(e.msgid.as_str())).map(|e| e.msgid.clone()).collect();
    (new, gone)
}

/// Checks the catalogue against the English of today and prints the translated share of each
/// chapter. Returns the problems: a stale messages.pot, a complete chapter that is not.
pub fn report(root: &Path, mdbook: &Path, scratch: &Path) -> Vec<String> {
    let po_dir = root.join("book/po");
    let read = |name: &str| std::fs::read_to_string(po_dir.join(name));
    let (Ok(pot_text), Ok(po_text)) = (read("messages.pot"), read("zh-CN.po")) else {
        return vec!["book/po/messages.pot or book/po/zh-CN.po is missing".into()];
    };
    let complete = complete_list(&read("complete.txt").unwrap_or_default());
    let committed = parse(&pot_text);
    let mut problems = Vec::new();
    let fresh = match regenerate_pot(root, mdbook, scratch) {
        Ok(p) => parse(&std::fs::read_to_string(p).unwrap_or_default()),
        Err(e) => return vec![e],
    };
    let (new, gone) = pot_drift(&committed, &fresh);
    if !new.is_empty() || !gone.is_empty() {
        let mut lines = vec![format!(
            "book/po/messages.pot is not the English of book/src: {} message(s) of book/src are not in it, {} in it are no longer in book/src",
            new.len(),
            gone.len()
        )];
        lines.extend(new.iter().take(3).map(|m| format!("  new: \"{}\"", short(m))));
        lines.extend(gone.iter().take(3).map(|m| format!("  gone: \"{}\"", short(m))));
        lines.push(format!(
            "  regenerate it (cp {} book/po/messages.pot, or the command in book/po/README.md), then: msgmerge --update --no-fuzzy-matching book/po/zh-CN.po book/po/messages.pot",
            scratch.join("messages.pot").display()
        ));
        problems.push(lines.join("\n"));
    }
    let po = parse(&po_text);
    let stale = {
        let f: HashSet<&str> = fresh.iter().map(|e| e.msgid.as_str()).collect();
        po.iter().filter(|e| !f.contains(e.msgid.as_str())).count()
    };
    let chapters = chapters(&fresh, &po);
    println!("中文版 (book/po/zh-CN.po), translated share per chapter:");
    for l in share_lines(&chapters, &complete) {
        println!("   {l}");
    }
    if stale > 0 {
        println!(
            "   note: {stale} message(s) of zh-CN.po are not in today's English (msgmerge keeps them as obsolete #~ entries)"
        );
    }
    problems.extend(complete_problems(&chapters, &complete));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(name: &str) -> String {
        std::fs::read_to_string(crate::labs::root().join("book/po").join(name)).unwrap()
    }

    #[test]
    fn parses_multiline_fuzzy_and_obsolete_entries() {
        let po = "msgid \"\"\nmsgstr \"\"\n\"Language: zh_CN\\n\"\n\n\
                  #: src/a.md:3 src/b.md:9\nmsgid \"\"\n\"two \"\n\"lines \\\"q\\\"\"\nmsgstr \"两行\"\n\n\
                  #: src/a.md:5\n#, fuzzy\nmsgid \"old\"\nmsgstr \"旧\"\n\n\
                  #: src/a.md\nmsgid \"none\"\nmsgstr \"\"\n\n\
                  #~ msgid \"gone\"\n#~ msgstr \"没了\"\n";
        let e = parse(po);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].msgid, "two lines \"q\"");
        assert_eq!(e[0].files, vec!["src/a.md", "src/b.md"]);
        assert!(e[0].translated() && !e[1].translated() && e[1].fuzzy && !e[2].translated());
        let c = chapters(&e, &e);
        assert_eq!((c["a.md"].total, c["a.md"].translated, c["a.md"].fuzzy.len()), (3, 1, 1));
        assert_eq!((c["b.md"].total, c["b.md"].translated), (1, 1));
    }

    /// The committed catalogue: every chapter listed complete is complete.
    #[test]
    fn the_complete_chapters_are_complete() {
        let (pot, po) = (parse(&real("messages.pot")), parse(&real("zh-CN.po")));
        let complete = complete_list(&real("complete.txt"));
        assert!(!complete.is_empty());
        let problems = complete_problems(&chapters(&pot, &po), &complete);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// One message of a complete chapter made fuzzy (as msgmerge does when its English changes),
    /// or emptied, or its English changed without a msgmerge: the check fails and names it.
    #[test]
    fn a_fuzzy_or_missing_entry_in_a_complete_chapter_fails() {
        let pot = parse(&real("messages.pot"));
        let po_text = real("zh-CN.po");
        let complete = complete_list(&real("complete.txt"));
        let chapter = complete.iter().find(|c| c.as_str() != "SUMMARY.md").expect("a complete chapter");
        let file = format!("src/{chapter}");
        let po = parse(&po_text);
        // A message of the chapter written on one line in zh-CN.po (`msgid "…"`), to flag there.
        let line = |e: &Entry| format!("msgid \"{}\"\n", e.msgid.replace('\\', "\\\\").replace('"', "\\\""));
        let victim = po
            .iter()
            .find(|e| e.files.contains(&file) && e.translated() && po_text.contains(&line(e)))
            .expect("a one-line message of the chapter")
            .clone();

        // Made fuzzy in the .po text itself, the way msgmerge marks it.
        let at = po_text.find(&line(&victim)).unwrap();
        let fuzzy_text = format!("{}#, fuzzy\n{}", &po_text[..at], &po_text[at..]);
        let fuzzy = parse(&fuzzy_text);
        assert!(fuzzy.iter().any(|e| e.msgid == victim.msgid && e.fuzzy));
        let problems = complete_problems(&chapters(&pot, &fuzzy), &complete);
        assert!(
            problems.iter().any(|p| p.contains(chapter.as_str()) && p.contains("fuzzy: \"")),
            "{problems:?}"
        );

        // Emptied.
        let mut emptied = po.clone();
        emptied.iter_mut().find(|e| e.msgid == victim.msgid).unwrap().msgstr.clear();
        let problems = complete_problems(&chapters(&pot, &emptied), &complete);
        assert!(
            problems.iter().any(|p| p.contains(chapter.as_str()) && p.contains("untranslated")),
            "{problems:?}"
        );

        // The English changed, zh-CN.po not merged: the new message has no translation.
        let mut changed = pot.clone();
        changed.iter_mut().find(|e| e.msgid == victim.msgid).unwrap().msgid.push_str(" (edited)");
        let problems = complete_problems(&chapters(&changed, &po), &complete);
        assert!(problems.iter().any(|p| p.contains(chapter.as_str())), "{problems:?}");

        // And the real catalogue passes (the test above is not vacuous).
        assert!(complete_problems(&chapters(&pot, &po), &complete).is_empty());
    }

    #[test]
    fn a_listed_chapter_that_does_not_exist_fails() {
        let pot = parse("#: src/a.md\nmsgid \"x\"\nmsgstr \"\"\n");
        let problems = complete_problems(&chapters(&pot, &pot), &["labs/99-nothing.md".to_string()]);
        assert!(problems[0].contains("no message"), "{problems:?}");
    }

    #[test]
    fn drift_both_ways() {
        let a = parse("#: src/a.md\nmsgid \"x\"\nmsgstr \"\"\n\n#: src/a.md\nmsgid \"y\"\nmsgstr \"\"\n");
        let b = parse("#: src/a.md\nmsgid \"x\"\nmsgstr \"\"\n\n#: src/a.md\nmsgid \"z\"\nmsgstr \"\"\n");
        assert_eq!(pot_drift(&a, &b), (vec!["z".to_string()], vec!["y".to_string()]));
    }
}
