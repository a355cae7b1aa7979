//! Where the labs are and what their sheets say.

use std::path::{Path, PathBuf};

/// The kit being worked on, found at run time: `PROCLAB_ROOT`, else the nearest directory at or
/// above the current one that holds the kit (a `Cargo.toml` and `labs/`), else the kit this binary
/// was built in. Never only the compile-time path: a kit copied or moved after a build must judge
/// its own `labs/`, not the old folder's.
pub fn root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        if let Some(r) = std::env::var_os("PROCLAB_ROOT") {
            return PathBuf::from(r);
        }
        let cwd = std::env::current_dir().unwrap_or_default();
        if let Some(found) = cwd.ancestors().find(|d| is_kit(d)) {
            return found.to_path_buf();
        }
        // Run from elsewhere: the kit whose target/ holds this binary.
        if let Some(found) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.ancestors().find(|d| is_kit(d)).map(Path::to_path_buf))
        {
            return found;
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| "../..".into())
    })
    .clone()
}

/// A directory that holds a proclab kit: the workspace manifest and the labs.
fn is_kit(dir: &Path) -> bool {
    dir.join("labs").is_dir()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.contains("[workspace]") && t.contains("labs/*"))
}

/// One lab: `labs/NN-topic` and `solutions/NN-topic`.
#[derive(Clone, Debug)]
pub struct Lab {
    pub number: u32,
    /// e.g. "02-zombie"
    pub dir: String,
    /// From the sheet's first line, e.g. "Zombie: a child nobody has waited for".
    pub title: String,
}

impl Lab {
    pub fn starter(&self) -> String {
        format!("lab{:02}", self.number)
    }
    pub fn solution(&self) -> String {
        format!("sol{:02}", self.number)
    }
    pub fn sheet(&self) -> PathBuf {
        root().join("labs").join(&self.dir).join("README.md")
    }
    pub fn sheet_text(&self) -> String {
        std::fs::read_to_string(self.sheet()).unwrap_or_default()
    }
    /// The hints of the sheet, in order (each `### Hint N` section).
    /// `labs/NN-topic/hints.md`: the hints live apart from the sheet, so that reading the sheet
    /// does not give them away; `cargo lab hint` rations them.
    pub fn hints_file(&self) -> PathBuf {
        root().join("labs").join(&self.dir).join("hints.md")
    }
    pub fn hints(&self) -> Vec<String> {
        hints_of(&std::fs::read_to_string(self.hints_file()).unwrap_or_default())
    }
    /// Claim ids of the sheet's claims table.
    pub fn claim_ids(&self) -> Vec<String> {
        claims_of(&self.sheet_text()).into_iter().map(|c| c.id).collect()
    }

    /// `labs/NN-topic/<stem>.<suffix>.md` in the student's language (`README.zh-CN.md`) when
    /// the language is not English and the translation exists, else `<stem>.md`.
    fn here(&self, stem: &str) -> PathBuf {
        let dir = root().join("labs").join(&self.dir);
        if let Some(suffix) = i18n::current().file_suffix() {
            let translated = dir.join(format!("{stem}.{suffix}.md"));
            if translated.is_file() {
                return translated;
            }
        }
        dir.join(format!("{stem}.md"))
    }

    /// The lab sheet in the student's language (the English one if it is not translated).
    pub fn sheet_here(&self) -> PathBuf {
        self.here("README")
    }

    /// The title in the student's language (from the translated sheet's first line).
    pub fn title_here(&self) -> String {
        let t = title_of(&std::fs::read_to_string(self.sheet_here()).unwrap_or_default());
        if t.is_empty() { self.title.clone() } else { t }
    }

    /// The hints file the student's language asks for (`hints.zh-CN.md` in Chinese), whether
    /// or not it exists.
    pub fn hints_file_here(&self) -> PathBuf {
        match i18n::current().file_suffix() {
            Some(suffix) => root().join("labs").join(&self.dir).join(format!("hints.{suffix}.md")),
            None => self.hints_file(),
        }
    }

    /// The hints in the student's language, and the file they came from: the translated hints
    /// when they exist, else the English ones.
    pub fn hints_here(&self) -> (Vec<String>, PathBuf) {
        let file = self.here("hints");
        let hints = hints_of(&std::fs::read_to_string(&file).unwrap_or_default());
        if hints.is_empty() && file != self.hints_file() {
            return (self.hints(), self.hints_file());
        }
        (hints, file)
    }

    /// Each claim of the English sheet, with the same row (by id) of the sheet in the
    /// student's language, or the English row again where the translation lacks it.
    pub fn claims_here(&self) -> Vec<(Claim, Claim)> {
        let shown = claims_of(&std::fs::read_to_string(self.sheet_here()).unwrap_or_default());
        claims_of(&self.sheet_text())
            .into_iter()
            .map(|c| {
                let s = shown.iter().find(|s| s.id == c.id).cloned().unwrap_or_else(|| c.clone());
                (c, s)
            })
            .collect()
    }
}

/// A row of a lab sheet's claims table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    pub post: String,
    pub claim: String,
    pub verdict: String,
}

/// Every lab with a directory in labs/, by number.
pub fn all() -> Vec<Lab> {
    let mut labs = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root().join("labs")) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((num, _)) = name.split_once('-') else { continue };
            let Ok(number) = num.parse::<u32>() else { continue };
            let sheet = std::fs::read_to_string(e.path().join("README.md")).unwrap_or_default();
            labs.push(Lab { number, dir: name, title: title_of(&sheet) });
        }
    }
    labs.sort_by_key(|l| l.number);
    labs
}

/// The lab the user named: "2", "02", "lab02", "02-zombie".
pub fn find(arg: &str) -> Result<Lab, String> {
    let labs = all();
    let names = if labs.is_empty() {
        i18n::t!("lab-none-found")
    } else {
        labs.iter()
            .map(|l| format!("{:02} {}", l.number, l.dir.split_once('-').map(|(_, t)| t).unwrap_or(&l.dir)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let digits: String = arg
        .trim_start_matches("lab")
        .trim_start_matches("sol")
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let n: u32 = digits.parse().map_err(|_| i18n::t!("lab-not-a-number", arg = arg, names = names))?;
    labs.into_iter().find(|l| l.number == n).ok_or_else(|| i18n::t!("lab-no-such", number = n, names = names))
}

pub(crate) fn title_of(sheet: &str) -> String {
    let first = sheet.lines().next().unwrap_or("").trim_start_matches('#').trim();
    // "Lab 02 — Title", also "实验 02 —— 标题" (a Chinese dash is two em dashes).
    match first.split_once('—') {
        Some((_, t)) => t.trim_start_matches('—').trim().to_string(),
        None => first.to_string(),
    }
}

fn anchored<'a>(text: &'a str, name: &str) -> &'a str {
    let start = format!("ANCHOR: {name}");
    let end = format!("ANCHOR_END: {name}");
    let Some(s) = text.find(&start) else { return "" };
    let body = &text[s..];
    let body = &body[body.find('\n').map(|i| i + 1).unwrap_or(body.len())..];
    match body.find(&end) {
        // Drop the line holding the end anchor (`<!-- ANCHOR_END: … -->`).
        Some(e) => &body[..body[..e].rfind('\n').map(|i| i + 1).unwrap_or(0)],
        None => body,
    }
}

pub fn hints_of(sheet: &str) -> Vec<String> {
    let body = anchored(sheet, "hints");
    let mut hints: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.starts_with("### ") {
            hints.push(String::new());
        } else if let Some(h) = hints.last_mut() {
            h.push_str(line);
            h.push('\n');
        }
    }
    hints.into_iter().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect()
}

pub fn claims_of(sheet: &str) -> Vec<Claim> {
    anchored(sheet, "claims")
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .map(|l| l.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>())
        .filter(|c| c.len() >= 4 && c[0] != "id" && !c[0].starts_with('-'))
        .map(|c| Claim { id: c[0].clone(), post: c[1].clone(), claim: c[2].clone(), verdict: c[3].clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: &str = "# Lab 02 — Zombie: a child\n\n## Hints\n<!-- ANCHOR: hints -->\n### Hint 1\nfirst\n\n### Hint 2\nsecond\nline\n<!-- ANCHOR_END: hints -->\n## Claims\n<!-- ANCHOR: claims -->\n| id | post | claim | verdict |\n|----|------|-------|---------|\n| z-vis | 002 | A child is `Z`. | holds |\n<!-- ANCHOR_END: claims -->\n";

    #[test]
    fn reads_title_hints_and_claims_from_a_sheet() {
        assert_eq!(title_of(SHEET), "Zombie: a child");
        assert_eq!(hints_of(SHEET), vec!["first".to_string(), "second\nline".to_string()]);
        let c = claims_of(SHEET);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id, "z-vis");
        assert_eq!(c[0].verdict, "holds");
    }

    #[test]
    fn reads_a_translated_sheet_alike() {
        let zh = "# 实验 02 —— 僵尸进程：没人等待的子进程\n\n<!-- ANCHOR: claims -->\n| id | 文章 | 说法 | 结论 |\n|----|----|----|----|\n| zombie-pid1 | 002 | 父进程先结束时，子进程交给 pid 1。 | 部分成立：交给最近的子进程收割者 |\n<!-- ANCHOR_END: claims -->\n";
        assert_eq!(title_of(zh), "僵尸进程：没人等待的子进程");
        let c = claims_of(zh);
        assert_eq!(c.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["zombie-pid1"]);
        assert_eq!(c[0].verdict.split_once([':', '：']).map(|(_, d)| d), Some("交给最近的子进程收割者"));
    }

    /// The verdict a claims row gives in either language: holds / 成立, partly / 部分成立,
    /// fails / 不成立 (the words the tour prints in Chinese), whatever detail follows.
    fn verdict_of(cell: &str) -> Option<harness::Verdict> {
        use harness::Verdict;
        harness::Verdict::from_word(cell).or_else(|| {
            let cell = cell.trim_start();
            // The longest word first: 部分成立 and 不成立 both end in 成立.
            [(Verdict::Partly, "tour-partly"), (Verdict::Fails, "tour-fails"), (Verdict::Holds, "tour-holds")]
                .into_iter()
                .find(|(_, key)| cell.starts_with(&i18n::text_in(i18n::Lang::Zh, key, &[])))
                .map(|(v, _)| v)
        })
    }

    #[test]
    fn verdict_words_of_both_languages() {
        use harness::Verdict;
        assert_eq!(verdict_of("holds: once waitpid returns"), Some(Verdict::Holds));
        assert_eq!(verdict_of("成立"), Some(Verdict::Holds));
        assert_eq!(verdict_of("部分成立：交给最近的子进程收割者"), Some(Verdict::Partly));
        assert_eq!(verdict_of("不成立：父进程被 SIGKILL"), Some(Verdict::Fails));
        assert_eq!(verdict_of("待定"), None);
    }

    /// Every lab has its Chinese sheet and hints, and they match the English: a title line
    /// (`# 实验 NN —— …`), the same claim ids (the tour shows the translated rows by id) with
    /// the same verdict (holds / 成立, partly / 部分成立, fails / 不成立), and the same number of
    /// hints (a spec's `// hint: N` tag names the Nth hint in both languages).
    #[test]
    fn translations_of_sheets_and_hints_match_the_english() {
        let mut problems = Vec::new();
        let labs = all();
        assert!(labs.len() >= 16, "{labs:?}");
        for lab in labs {
            let dir = root().join("labs").join(&lab.dir);
            match std::fs::read_to_string(dir.join("README.zh-CN.md")) {
                Err(e) => problems.push(format!("{}/README.zh-CN.md: {e}", lab.dir)),
                Ok(zh) => problems.extend(sheet_problems(&lab, &zh)),
            }
            match std::fs::read_to_string(dir.join("hints.zh-CN.md")) {
                Err(e) => problems.push(format!("{}/hints.zh-CN.md: {e}", lab.dir)),
                Ok(zh) => {
                    let (n_en, n_zh) = (lab.hints().len(), hints_of(&zh).len());
                    if n_en != n_zh {
                        problems
                            .push(format!("{}/hints.zh-CN.md: {n_zh} hints, hints.md has {n_en}", lab.dir));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "translations out of step with the English:\n{}", problems.join("\n"));
    }

    /// What a Chinese sheet gets wrong against lab `lab`'s English one.
    fn sheet_problems(lab: &Lab, zh: &str) -> Vec<String> {
        let file = format!("{}/README.zh-CN.md", lab.dir);
        let mut problems = Vec::new();
        let first = zh.lines().next().unwrap_or("");
        let heading = format!("# 实验 {:02} —— ", lab.number);
        if !first.starts_with(&heading) || title_of(zh).is_empty() {
            problems.push(format!("{file}: the first line is {first:?}, not a title {heading:?}…"));
        }
        let en = claims_of(&lab.sheet_text());
        let zh = claims_of(zh);
        let mut en_ids: Vec<&str> = en.iter().map(|c| c.id.as_str()).collect();
        let mut zh_ids: Vec<&str> = zh.iter().map(|c| c.id.as_str()).collect();
        en_ids.sort();
        zh_ids.sort();
        if en_ids != zh_ids {
            problems.push(format!("{file}: claim ids {zh_ids:?}, the English sheet has {en_ids:?}"));
        }
        for c in &en {
            let Some(z) = zh.iter().find(|z| z.id == c.id) else { continue };
            let (v_en, v_zh) = (verdict_of(&c.verdict), verdict_of(&z.verdict));
            if v_en.is_none() || v_en != v_zh {
                problems.push(format!(
                    "{file}: claim {}: verdict {:?}, the English sheet says {:?}",
                    c.id,
                    z.verdict.chars().take(12).collect::<String>(),
                    c.verdict.chars().take(12).collect::<String>()
                ));
            }
        }
        problems
    }

    /// The check can fail: a missing title, a missing or extra claim, a verdict that differs.
    #[test]
    fn a_translated_sheet_out_of_step_is_caught() {
        let lab = Lab { number: 2, dir: "02-zombie".into(), title: String::new() };
        let en = claims_of(&lab.sheet_text());
        assert!(en.len() >= 2);
        let row = |id: &str, verdict: &str| format!("| {id} | 002 | 论断 | {verdict} |\n");
        let zh_word = |v: &str| match verdict_of(v) {
            Some(harness::Verdict::Holds) => "成立",
            Some(harness::Verdict::Partly) => "部分成立：细节",
            _ => "不成立：细节",
        };
        let sheet = |title: &str, rows: &[String]| {
            format!(
                "{title}\n\n<!-- ANCHOR: claims -->\n| id | 博文 | 论断 | 结论 |\n|--|--|--|--|\n{}<!-- ANCHOR_END: claims -->\n",
                rows.concat()
            )
        };
        let good: Vec<String> = en.iter().map(|c| row(&c.id, zh_word(&c.verdict))).collect();
        let title = "# 实验 02 —— 僵尸进程：没人等待的子进程";
        assert_eq!(sheet_problems(&lab, &sheet(title, &good)), Vec::<String>::new());
        assert_eq!(sheet_problems(&lab, &sheet("实验 02", &good)).len(), 1, "no title line");
        assert_eq!(sheet_problems(&lab, &sheet(title, &good[1..])).len(), 1, "a claim missing");
        let mut other = good.clone();
        let wrong = if zh_word(&en[0].verdict) == "成立" { "不成立：细节" } else { "成立" };
        other[0] = row(&en[0].id, wrong);
        let found = sheet_problems(&lab, &sheet(title, &other));
        assert!(found.len() == 1 && found[0].contains(&en[0].id), "{found:?}");
    }

    #[test]
    fn finds_labs_by_any_reasonable_name() {
        let l = find("2").unwrap();
        assert_eq!(l.dir, "02-zombie");
        assert_eq!(find("02").unwrap().number, 2);
        assert_eq!(find("lab02").unwrap().number, 2);
        assert_eq!(find("02-zombie").unwrap().number, 2);
        assert!(find("99").unwrap_err().contains("there is no lab 99"));
        assert!(find("x").unwrap_err().contains("not a lab number"));
    }
}
