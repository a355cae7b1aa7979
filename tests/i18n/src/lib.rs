//! proclab's one message catalogue: every sentence `cargo lab` and the harness's failure report
//! say to a student, in English (`locales/en.ftl`) and in Chinese (`locales/zh.ftl`), as
//! [Fluent](https://projectfluent.org) messages. A test checks that every key has both
//! languages with the same variables, and that every key the kit's sources use exists.
//!
//! The language: [`set`] (`cargo lab --lang en|zh`, or the locale: [`Lang::from_locale`]),
//! else `PROCLAB_LANG` (what `cargo lab` passes to the specs it runs), else English; a spec
//! that starts a scenario also follows the locale ([`adopt_locale`]).
//!
//! ```text
//! i18n::text_in(Lang::Zh, "verdict-hint-more", &[("lab", "2".into())])  // "（更多提示：cargo lab hint 2）"
//! t!("verdict-hint-more", lab = 2)                                       // "(more: cargo lab hint 2)" in English
//! ```

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// The English catalogue.
pub const EN_FTL: &str = include_str!("../locales/en.ftl");
/// The Chinese catalogue.
pub const ZH_FTL: &str = include_str!("../locales/zh.ftl");

/// A language of the kit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// `en` or `zh`: the value of `--lang` and of `PROCLAB_LANG`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The suffix of a translated file: `README.zh-CN.md`, `hints.zh-CN.md` (None for English).
    pub fn file_suffix(self) -> Option<&'static str> {
        match self {
            Lang::En => None,
            Lang::Zh => Some("zh-CN"),
        }
    }

    /// `en`, `zh`, `zh-CN`, `zh_TW.UTF-8`, `C`, `en_US.UTF-8` …: Chinese for any `zh` locale,
    /// English for any other (`C`, `POSIX` and unknown languages included); None for empty.
    pub fn parse(value: &str) -> Option<Lang> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        let language = v.split(['_', '-', '.', '@']).next().unwrap_or("").to_ascii_lowercase();
        Some(if language == "zh" { Lang::Zh } else { Lang::En })
    }

    /// The language of the messages as the locale says, looked up as `setlocale` does for
    /// `LC_MESSAGES`: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|name| var(name).and_then(|v| Lang::parse(&v)))
            .unwrap_or(Lang::En)
    }
}

/// 0: not set; 1: English; 2: Chinese.
static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Chooses the language of this process's messages.
pub fn set(lang: Lang) {
    CURRENT.store(if lang == Lang::Zh { 2 } else { 1 }, Ordering::Relaxed);
}

thread_local! {
    /// This thread's own choice, over the process's: 0 none, 1 English, 2 Chinese.
    static THREAD: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

/// Chooses the language of the messages this thread makes, over the process's choice (`None`
/// gives it back): tests that compare a report in both languages run side by side with others.
pub fn set_for_this_thread(lang: Option<Lang>) {
    THREAD.with(|t| t.set(lang.map_or(0, |l| if l == Lang::Zh { 2 } else { 1 })));
}

/// The language of this thread's messages: as [`set_for_this_thread`], else as [`set`], else
/// `PROCLAB_LANG`, else English.
pub fn current() -> Lang {
    let chosen = match THREAD.with(|t| t.get()) {
        0 => CURRENT.load(Ordering::Relaxed),
        n => n,
    };
    match chosen {
        1 => Lang::En,
        2 => Lang::Zh,
        _ => std::env::var("PROCLAB_LANG").ok().and_then(|v| Lang::parse(&v)).unwrap_or(Lang::En),
    }
}

/// Where neither [`set`] nor `PROCLAB_LANG` chose a language, takes the locale's
/// ([`Lang::from_locale`]). A spec does this when it starts a scenario, so that a student's
/// `cargo test -p lab02` under `LANG=zh_CN.UTF-8` reports in Chinese; the kit's own tests,
/// which read English messages, never call it.
pub fn adopt_locale() {
    if CURRENT.load(Ordering::Relaxed) == 0 && std::env::var_os("PROCLAB_LANG").is_none() {
        set(Lang::from_locale(|name| std::env::var(name).ok()));
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static ZH: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, ftl, id) = match lang {
        Lang::En => (&EN, EN_FTL, "en"),
        Lang::Zh => (&ZH, ZH_FTL, "zh-CN"),
    };
    cell.get_or_init(|| {
        let langid: unic_langid::LanguageIdentifier = id.parse().expect("a language id");
        let mut b = FluentBundle::new_concurrent(vec![langid]);
        // Terminal text: no Unicode isolation marks around the placeables.
        b.set_use_isolating(false);
        let res = FluentResource::try_new(ftl.to_string()).unwrap_or_else(|(res, _)| res);
        let _ = b.add_resource(res);
        b
    })
}

/// The message `key` in `lang`, its `{ $name }` placeables filled from `args`. A key missing
/// from `lang` falls back to English, then to the key itself (the catalogue's test forbids both).
pub fn text_in(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, FluentValue::from(value.as_str()));
    }
    for l in [lang, Lang::En] {
        let b = bundle(l);
        if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return b.format_pattern(pattern, Some(&fargs), &mut errors).into_owned();
        }
    }
    key.to_string()
}

/// The message `key` in the [`current`] language.
pub fn text(key: &str, args: &[(&str, String)]) -> String {
    text_in(current(), key, args)
}

/// `t!("key")` or `t!("key", name = value, …)`: the message in the current language; each
/// value is anything `Display` (numbers are shown as they are formatted, e.g. `format!("{:02}")`).
#[macro_export]
macro_rules! t {
    ($key:expr) => { $crate::text($key, &[]) };
    ($key:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::text($key, &[$((stringify!($name), ($value).to_string())),+])
    };
}

/// Columns `text` takes on a terminal: CJK ideographs, kana, hangul and full-width forms take
/// two, everything else one (enough for the kit's English and Chinese).
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// `text` in lines of at most `columns` terminal columns, each indented by `indent` spaces:
/// English breaks between words, Chinese also between two characters (never before a
/// full-width punctuation mark, which stays with the character before it).
pub fn wrap(text: &str, indent: usize, columns: usize) -> String {
    let room = columns.saturating_sub(indent).max(10);
    // Pieces that may not be split: a word with the space before it, or one wide character
    // with the punctuation that follows it.
    let mut pieces: Vec<String> = Vec::new();
    for (i, word) in text.split_whitespace().enumerate() {
        let mut first = true;
        for c in word.chars() {
            let wide = width(&c.to_string()) == 2;
            let punct =
                matches!(c, '，' | '。' | '、' | '；' | '：' | '？' | '！' | '）' | '”' | '’' | '》' | '」');
            let glue = punct
                || (!wide
                    && pieces.last().is_some_and(|p| !p.ends_with(|x: char| width(&x.to_string()) == 2)));
            if first {
                pieces.push(if i == 0 { c.to_string() } else { format!(" {c}") });
                first = false;
            } else if glue && !pieces.is_empty() {
                pieces.last_mut().expect("a piece").push(c);
            } else {
                pieces.push(c.to_string());
            }
        }
    }
    let mut out = String::new();
    let mut line = String::new();
    for piece in pieces {
        let bare = if line.is_empty() { piece.trim_start().to_string() } else { piece.clone() };
        if !line.is_empty() && width(&line) + width(&bare) > room {
            out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
            line = piece.trim_start().to_string();
        } else {
            line.push_str(&bare);
        }
    }
    if !line.is_empty() {
        out.push_str(&format!("{}{line}", " ".repeat(indent)));
    }
    out
}

/// The keys of a catalogue, each with the variables its message uses, sorted.
pub fn keys(ftl: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in ftl.lines() {
        let starts_key = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && line.contains(" =");
        if starts_key {
            if let Some(c) = current.take() {
                out.push(c);
            }
            let key = line.split(" =").next().unwrap_or("").trim().to_string();
            current = Some((key, Vec::new()));
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((_, vars)) = current.as_mut() {
            let mut rest = line;
            while let Some(i) = rest.find("{ $") {
                rest = &rest[i + 3..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                if !vars.contains(&name) {
                    vars.push(name);
                }
            }
        }
    }
    if let Some(c) = current.take() {
        out.push(c);
    }
    for (_, vars) in &mut out {
        vars.sort();
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_thread_may_speak_its_own_language() {
        use super::{Lang, current, set_for_this_thread};
        let other = std::thread::spawn(|| {
            set_for_this_thread(Some(Lang::Zh));
            current()
        });
        assert_eq!(other.join().unwrap(), Lang::Zh);
        set_for_this_thread(Some(Lang::En));
        assert_eq!(current(), Lang::En);
        set_for_this_thread(None);
    }

    #[test]
    fn the_examples_of_the_crate_doc_hold() {
        use super::{Lang, text_in};
        assert_eq!(
            text_in(Lang::Zh, "verdict-hint-more", &[("lab", "2".into())]),
            "（更多提示：cargo lab hint 2）"
        );
        assert_eq!(
            text_in(Lang::En, "verdict-hint-more", &[("lab", "2".into())]),
            "(more: cargo lab hint 2)"
        );
    }

    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn both_catalogues_parse_without_errors() {
        for (name, ftl) in [("en.ftl", EN_FTL), ("zh.ftl", ZH_FTL)] {
            if let Err((_, errors)) = FluentResource::try_new(ftl.to_string()) {
                panic!("{name} does not parse: {errors:?}");
            }
        }
    }

    #[test]
    fn every_key_has_both_languages_with_the_same_variables() {
        let en: BTreeMap<_, _> = keys(EN_FTL).into_iter().collect();
        let zh: BTreeMap<_, _> = keys(ZH_FTL).into_iter().collect();
        assert!(en.len() > 50, "the English catalogue has only {} keys", en.len());
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "keys without a Chinese message: {only_en:?}");
        assert!(only_zh.is_empty(), "keys without an English message: {only_zh:?}");
        for (k, vars) in &en {
            assert_eq!(vars, &zh[k], "{k}: the variables differ between en.ftl and zh.ftl");
        }
        for k in zh.keys() {
            // Translated, unless the message is only commands (the same in both languages) or
            // only placeables (`{ $who }{ $state }`: its words are other messages).
            let msg = text_in(Lang::Zh, k, &[]);
            let chinese = |c: char| matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}' | '“' | '”');
            let words: String = msg
                .split("{$")
                .enumerate()
                .map(|(i, p)| if i == 0 { p } else { p.split_once('}').map_or(p, |(_, rest)| rest) })
                .collect();
            assert!(
                msg.chars().any(chinese)
                    || msg == text_in(Lang::En, k, &[])
                    || !words.chars().any(|c| c.is_ascii_alphabetic()),
                "{k}: the Chinese message has no Chinese in it: {msg}"
            );
        }
    }

    /// Every `t!("key"` and `text("key"` of the kit's sources names a key of the catalogue,
    /// and every key of the catalogue is used somewhere.
    #[test]
    fn every_key_used_exists_and_every_key_is_used() {
        let mut used = std::collections::BTreeSet::new();
        for (f, text) in sources() {
            for pat in ["t!(", "text(", "text_in(Lang::En,", "text_in(Lang::Zh,", "text_in(lang,"] {
                let mut from = 0;
                while let Some(i) = text[from..].find(pat) {
                    let at = from + i;
                    from = at + pat.len();
                    // `t!(` itself, not `format!(` or `sheet_text(`.
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue;
                    }
                    let Some(rest) = text[from..].trim_start().strip_prefix('"') else { continue };
                    let key: String = rest.chars().take_while(|c| *c != '"').collect();
                    used.insert((key, f.display().to_string()));
                }
            }
        }
        let en: BTreeMap<_, _> = keys(EN_FTL).into_iter().collect();
        let missing: Vec<_> = used.iter().filter(|(k, _)| !en.contains_key(k)).collect();
        assert!(missing.is_empty(), "keys used but not in the catalogue: {missing:?}");
        let unused: Vec<_> = en.keys().filter(|k| !used.iter().any(|(u, _)| u == *k)).collect();
        assert!(unused.is_empty(), "keys of the catalogue no source uses: {unused:?}");
    }

    /// The `rs` files of `cargo lab` and of the harness.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        walk(&root.join("cli/src"), &mut files);
        walk(&root.join("harness/src"), &mut files);
        files.into_iter().map(|f| (f.clone(), std::fs::read_to_string(&f).unwrap())).collect()
    }

    /// The arguments of the macro call whose text starts at `rest` (just after `t!(`), split at
    /// the commas of its own level: `"key"`, `name = value`, …
    fn call_arguments(rest: &str) -> Vec<String> {
        let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
        let (mut args, mut cur) = (Vec::new(), String::new());
        for c in rest.chars() {
            if in_str {
                cur.push(c);
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    args.push(std::mem::take(&mut cur).trim().to_string());
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        args.push(cur.trim().to_string());
        args.retain(|a| !a.is_empty());
        args
    }

    /// Every sentence a lab's spec writes into its report — a step, an expectation, what a wait
    /// waits for, a picture's title, a claim's evidence — is written in both languages with
    /// `say!(en, zh)`, never as a bare literal or `format!` (English only).
    #[test]
    fn every_sentence_of_a_spec_is_said_in_both_languages() {
        // The method, and which of its arguments is the sentence.
        let sentence_at: &[(&str, usize)] = &[
            (".step(", 0),
            (".until(", 0),
            (".until_proc(", 0),
            (".until_stdout(", 0),
            (".stays(", 0),
            (".show(", 0),
            (".expect(", 1),
            (".expect_eq(", 2),
            (".claim_verdict(", 2),
            (".when_stuck(", 1),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut specs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("lab") && n.ends_with(".rs"))
            })
            .collect();
        specs.sort();
        assert_eq!(specs.len(), 16, "the 16 labs' specs in tests/: {specs:?}");
        let (mut problems, mut sentences) = (Vec::new(), 0);
        for spec in &specs {
            let text = std::fs::read_to_string(spec).unwrap();
            for &(method, index) in sentence_at {
                for (at, _) in text.match_indices(method) {
                    let args = call_arguments(&text[at + method.len()..]);
                    let Some(arg) = args.get(index) else { continue };
                    sentences += 1;
                    let bare = arg.trim_start_matches('&');
                    if bare.starts_with('"') || bare.starts_with("format!") {
                        let line = text[..at].lines().count();
                        let name = spec.file_name().unwrap().to_string_lossy();
                        problems.push(format!(
                            "{name}:{line}: {method}… {}",
                            arg.chars().take(60).collect::<String>()
                        ));
                    }
                }
            }
        }
        assert!(sentences > 500, "the scan found only {sentences} sentences: is it reading the specs?");
        assert!(problems.is_empty(), "English only — write say!(\"…\", \"…\"):\n{}", problems.join("\n"));
    }

    /// Every `t!("key", name = value, …)` of the sources passes exactly the variables its
    /// message uses, in both languages: a variable left out would print as `{$name}`.
    #[test]
    fn every_call_passes_the_variables_of_its_message() {
        let en: BTreeMap<_, _> = keys(EN_FTL).into_iter().collect();
        let mut problems = Vec::new();
        let mut calls = 0;
        for (file, text) in sources() {
            for (at, _) in text.match_indices("t!(") {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue;
                }
                let args = call_arguments(&text[at + 3..]);
                let Some(key) = args.first().and_then(|k| k.strip_prefix('"')?.strip_suffix('"')) else {
                    continue;
                };
                let Some(vars) = en.get(key) else { continue };
                calls += 1;
                let mut passed: Vec<String> = args[1..]
                    .iter()
                    .filter_map(|a| a.split_once('=').map(|(name, _)| name.trim().to_string()))
                    .collect();
                passed.sort();
                if &passed != vars {
                    let line = text[..at].lines().count();
                    problems.push(format!(
                        "{}:{line}: {key} gets {passed:?}, its message uses {vars:?}",
                        file.display()
                    ));
                }
            }
        }
        assert!(calls > 150, "only {calls} calls of t! found");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn call_arguments_split_at_their_own_commas_only() {
        assert_eq!(
            call_arguments(r#""k", a = f(x, y), b = "x, )", c = [1, 2]) + 1"#),
            ["\"k\"", "a = f(x, y)", "b = \"x, )\"", "c = [1, 2]"]
        );
    }

    #[test]
    fn chinese_wraps_between_characters_and_english_between_words() {
        assert_eq!(width("僵尸进程：a"), 11);
        assert_eq!(wrap("one two three four", 2, 12), "  one two\n  three four");
        // Ten columns of room: five characters a line, the full-width comma kept with the one before it.
        assert_eq!(wrap("子进程收割者，回收僵尸进程", 0, 10), "子进程收割\n者，回收僵\n尸进程");
        let text = "内核拒绝实验程序向其域之外的进程发送任何信号，无论通过哪个系统调用或 ABI（kill、tkill、tgkill、pidfd）。";
        for line in wrap(text, 4, 40).lines() {
            assert!(width(line) <= 40 && line.starts_with("    "), "{line:?}");
        }
        assert_eq!(
            wrap(text, 4, 40).replace("\n    ", "").trim_start(),
            text.replace(' ', "").replace("或ABI", "或 ABI")
        );
    }

    #[test]
    fn the_locale_decides_as_setlocale_does() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(Lang::from_locale(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_locale(env(&[("LANG", "zh_TW.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_locale(env(&[("LANG", "C.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_locale(env(&[])), Lang::En);
        assert_eq!(Lang::from_locale(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])), Lang::En);
        assert_eq!(
            Lang::from_locale(env(&[("LC_MESSAGES", "zh_CN.UTF-8"), ("LANG", "en_US.UTF-8")])),
            Lang::Zh
        );
        assert_eq!(Lang::from_locale(env(&[("LC_ALL", ""), ("LC_MESSAGES", "zh_SG")])), Lang::Zh);
        assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse(""), None);
    }

    #[test]
    fn placeables_are_filled_without_isolation_marks() {
        let s = text_in(Lang::En, "verdict-hint-more", &[("lab", "02".into())]);
        assert_eq!(s, "(more: cargo lab hint 02)");
        assert!(!s.contains('\u{2068}'));
    }
}
