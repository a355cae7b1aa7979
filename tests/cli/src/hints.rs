//! Which hint helps with which test. A spec tags a test with a comment line just above it:
//!
//! ```text
//! // hint: 2
//! #[test]
//! fn a_handler_that_stops_at_0_returns_while_another_child_is_alive() { … }
//! ```
//!
//! `cargo lab check` then prints, for the first test that fails, the hint tagged on it
//! (hint 1 for a test without a tag).
//!
//! [`render`] shows a hint's Markdown as a terminal reads it: no `*` or backtick markers,
//! fenced code indented without its fences.

/// The hint number tagged on spec test fn `test` (libtest's name: `fn_name` or
/// `fn_name::case_2_x`), if the spec tags it.
pub fn hint_for(spec: &str, test: &str) -> Option<usize> {
    let name = test.split("::").next().unwrap_or(test);
    let mut tagged: Option<usize> = None;
    for line in spec.lines() {
        let l = line.trim();
        if let Some(n) = l.strip_prefix("// hint:").and_then(|n| n.trim().parse().ok()) {
            tagged = Some(n);
        } else if let Some(rest) = l.strip_prefix("fn ").or_else(|| l.strip_prefix("pub fn ")) {
            let fn_name = rest.split(['(', '<', ' ']).next().unwrap_or("");
            if fn_name == name {
                return tagged;
            }
            tagged = None;
        }
    }
    None
}

/// A hint's Markdown as a terminal shows it: emphasis without its stars (`**bold**` in the
/// terminal's bold when colour is on), inline code without its backticks (cyan when colour is
/// on; set off from Chinese by a space), fenced code indented by four columns without the
/// fence lines, a blank line on each side.
pub fn render(markdown: &str) -> String {
    render_styled(markdown, crate::style::on())
}

fn render_styled(markdown: &str, styled: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut prose = String::new();
    let mut in_code = false;
    let mut after_code = false;
    let flush = |prose: &mut String, out: &mut Vec<String>| {
        if !prose.is_empty() {
            out.extend(inline(prose.trim_end_matches('\n'), styled).split('\n').map(str::to_string));
            prose.clear();
        }
    };
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            flush(&mut prose, &mut out);
            if !in_code && out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            after_code = in_code;
            in_code = !in_code;
        } else if in_code {
            out.push(if line.trim().is_empty() {
                String::new()
            } else {
                format!("    {}", paint_code(line, styled))
            });
        } else {
            if after_code && !line.trim().is_empty() {
                out.push(String::new());
            }
            after_code = false;
            prose.push_str(line);
            prose.push('\n');
        }
    }
    flush(&mut prose, &mut out);
    out.join("\n")
}

fn paint_code(text: &str, styled: bool) -> String {
    if styled { format!("\x1b[36m{text}\x1b[39m") } else { text.to_string() }
}

/// A CJK ideograph (not a full-width punctuation mark): Chinese text sets Latin code apart
/// from it by a space, and drops the spaces the Markdown needed around emphasis.
fn ideograph(c: Option<&char>) -> bool {
    c.is_some_and(|&c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
}

/// How many `c` in a row start at `i`.
fn run(chars: &[char], i: usize, c: char) -> usize {
    chars[i..].iter().take_while(|&&x| x == c).count()
}

/// Where the run of exactly `n` backticks that closes a code span opened before `from` starts.
fn closing_ticks(chars: &[char], from: usize, n: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let m = run(chars, i, '`');
            if m == n {
                return Some(i);
            }
            i += m;
        } else {
            i += 1;
        }
    }
    None
}

/// Where the run of exactly `n` stars that closes emphasis opened before `from` starts: after
/// a character that is not white space, outside code spans.
fn closing_stars(chars: &[char], from: usize, n: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                let m = run(chars, i, '`');
                i = closing_ticks(chars, i + m, m).map_or(i + m, |e| e + m);
            }
            '*' => {
                let m = run(chars, i, '*');
                if m == n && i > from && !chars[i - 1].is_whitespace() {
                    return Some(i);
                }
                i += m;
            }
            _ => i += 1,
        }
    }
    None
}

/// Emphasis and code spans of a run of prose (which may span lines).
fn inline(text: &str, styled: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                let n = run(&chars, i, '`');
                let Some(end) = closing_ticks(&chars, i + n, n) else {
                    out.extend(&chars[i..i + n]);
                    i += n;
                    continue;
                };
                let mut code: String = chars[i + n..end].iter().collect();
                if code.len() > 2 && code.starts_with(' ') && code.ends_with(' ') {
                    code = code[1..code.len() - 1].to_string();
                }
                if ideograph(out.chars().last().as_ref()) {
                    out.push(' ');
                }
                out.push_str(&paint_code(&code, styled));
                i = end + n;
                if ideograph(chars.get(i)) {
                    out.push(' ');
                }
            }
            '*' => {
                let n = run(&chars, i, '*');
                let opens = n <= 2 && chars.get(i + n).is_some_and(|c| !c.is_whitespace());
                let Some(end) = closing_stars(&chars, i + n, n).filter(|_| opens) else {
                    out.extend(&chars[i..i + n]);
                    i += n;
                    continue;
                };
                let inner = &chars[i + n..end];
                // " *之前* " in Chinese: the spaces were there for the Markdown only.
                let before = out.chars().rev().nth(1);
                if out.ends_with(' ') && ideograph(before.as_ref()) && ideograph(inner.first()) {
                    out.pop();
                }
                let text = inline(&inner.iter().collect::<String>(), styled);
                out.push_str(&if n == 2 && styled { format!("\x1b[1m{text}\x1b[22m") } else { text });
                i = end + n;
                if chars.get(i) == Some(&' ') && ideograph(inner.last()) && ideograph(chars.get(i + 1)) {
                    i += 1;
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "// hint: 2\n/// docs\n#[test]\nfn reaps_all() {\n}\n\n#[test]\nfn untagged() {}\n// hint: 3\n#[rstest]\n#[case::one(1)]\nfn cases(#[case] n: u8) {}\n";

    #[test]
    fn a_tag_above_the_attributes_and_docs_belongs_to_the_fn() {
        assert_eq!(hint_for(SPEC, "reaps_all"), Some(2));
        assert_eq!(hint_for(SPEC, "cases::case_1_one"), Some(3));
    }

    #[test]
    fn an_untagged_or_unknown_test_has_no_hint_of_its_own() {
        assert_eq!(hint_for(SPEC, "untagged"), None);
        assert_eq!(hint_for(SPEC, "nowhere"), None);
    }

    const HINT: &str = "A zombie is released by *waiting* for it: **only** the parent can.\n`waitpid(child,\nNone)` blocks.\n\n```rust\nlet status = waitpid(child, None)?;\n\nprintln!(\"{status:?}\"); // *p\n```\nand add `use nix::sys::wait::waitpid;` at the top. 2 * 3 is not emphasis.";

    #[test]
    fn a_hint_reads_as_text_on_a_terminal() {
        assert_eq!(
            render_styled(HINT, false),
            "A zombie is released by waiting for it: only the parent can.\n\
             waitpid(child,\nNone) blocks.\n\n    \
             let status = waitpid(child, None)?;\n\n    \
             println!(\"{status:?}\"); // *p\n\n\
             and add use nix::sys::wait::waitpid; at the top. 2 * 3 is not emphasis."
        );
    }

    #[test]
    fn colour_shows_bold_and_code_in_the_terminals_styles() {
        let shown = render_styled(HINT, true);
        assert!(shown.contains("by waiting for it: \x1b[1monly\x1b[22m the parent"), "{shown}");
        assert!(shown.contains("\n    \x1b[36mlet status = waitpid(child, None)?;\x1b[39m\n"), "{shown}");
        assert!(shown.contains("add \x1b[36muse nix::sys::wait::waitpid;\x1b[39m at"), "{shown}");
        assert!(!shown.contains('`') && !shown.contains("**"), "{shown}");
    }

    #[test]
    fn chinese_keeps_code_apart_and_loses_the_spaces_around_emphasis() {
        assert_eq!(
            render_styled("要在 fork *之前* 清空缓冲区：用它替换`on_sigchld`中的调用（`waitpid`）。", false),
            "要在 fork 之前清空缓冲区：用它替换 on_sigchld 中的调用（waitpid）。"
        );
        assert_eq!(render_styled("shell 在 **两边** 都调用", false), "shell 在两边都调用");
    }

    /// Every hint of every lab, in both languages, loses its markers (none is left unmatched).
    #[test]
    fn no_hint_of_the_kit_shows_markdown_markers() {
        for lab in crate::labs::all() {
            let dir = crate::labs::root().join("labs").join(&lab.dir);
            for file in ["hints.md", "hints.zh-CN.md"] {
                let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
                for (n, hint) in crate::labs::hints_of(&text).iter().enumerate() {
                    let shown = render_styled(hint, false);
                    let prose: String =
                        shown.lines().filter(|l| !l.starts_with("    ")).collect::<Vec<_>>().join("\n");
                    assert!(
                        !prose.contains('`') && !prose.contains("**") && !prose.contains("*"),
                        "{}/{file} hint {}:\n{shown}",
                        lab.dir,
                        n + 1
                    );
                }
            }
        }
    }
}
