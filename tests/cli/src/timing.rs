//! Workshop timings live in one place: each lab sheet's **Time.** line (`<!-- ANCHOR: time -->`).
//! The book's speaker notes include it; whatever still restates it — a chapter's "Timing:"
//! line, a row of the workshop plans — must agree with it, and every plan must add up.

use std::path::Path;

/// A lab's minutes: "**Time.** 25 minutes (5 predict, 15 exercise, 5 discussion)."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    pub total: u32,
    pub predict: u32,
    pub exercise: u32,
    pub discussion: u32,
}

/// The number just before `word` in `text` ("15 exercise" → 15), ignoring "min" in between.
fn number_before(text: &str, word: &str) -> Option<u32> {
    let i = text.find(word)?;
    let head = text[..i].trim_end();
    let head = head.strip_suffix("min").unwrap_or(head).trim_end();
    let digits: String = head.chars().rev().take_while(|c| c.is_ascii_digit()).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// The sheet's Time line.
pub fn sheet_time(sheet: &str) -> Option<Time> {
    let line = sheet.lines().find(|l| l.starts_with("**Time.**"))?;
    Some(Time {
        total: number_before(line, "minutes")?,
        predict: number_before(line, "predict")?,
        exercise: number_before(line, "exercise")?,
        discussion: number_before(line, "discussion")?,
    })
}

/// A restatement in prose: "5 min predict, 15 min exercise, 5 min discussion — 25 min".
fn prose_time(line: &str) -> Option<Time> {
    let total = line.rsplit('—').next().and_then(|t| number_before(t, "min"))?;
    Some(Time {
        total,
        predict: number_before(line, "predict")?,
        exercise: number_before(line, "exercise")?,
        discussion: number_before(line, "discussion")?,
    })
}

fn cells(row: &str) -> Vec<String> {
    row.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect()
}

/// Every disagreement, as "where: what".
pub fn problems(root: &Path, labs: &[crate::labs::Lab]) -> Vec<String> {
    let mut out = Vec::new();
    let mut times = std::collections::HashMap::new();
    for lab in labs {
        let sheet = lab.sheet_text();
        if sheet.is_empty() {
            continue; // no sheet yet: `cargo lab verify` says so
        }
        match sheet_time(&sheet) {
            Some(t) if t.predict + t.exercise + t.discussion == t.total => {
                times.insert(lab.number, t);
            }
            Some(t) => out.push(format!(
                "labs/{}/README.md: the Time line's parts do not add up to {}",
                lab.dir, t.total
            )),
            None => out.push(format!(
                "labs/{}/README.md: no **Time.** line (N minutes (P predict, E exercise, D discussion))",
                lab.dir
            )),
        }
        let chapter = root.join(format!("book/src/labs/{}.md", lab.dir));
        let text = std::fs::read_to_string(&chapter).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("min predict")) {
            if let (Some(said), Some(t)) = (prose_time(line), times.get(&lab.number)) {
                if said != *t {
                    out.push(format!(
                        "book/src/labs/{}.md: its notes say {said:?}, the sheet's Time line {t:?} (include the sheet's `time` anchor instead)",
                        lab.dir
                    ));
                }
            }
        }
    }
    let workshops = std::fs::read_to_string(root.join("book/src/workshops.md")).unwrap_or_default();
    out.extend(plan_problems(&workshops, &times));
    out
}

/// The workshop page: its lab-times table and its plans, against the sheets.
pub fn plan_problems(text: &str, times: &std::collections::HashMap<u32, Time>) -> Vec<String> {
    let mut out = Vec::new();
    let mut plan: Option<(String, u32)> = None; // (title, minute the next block starts)
    let mut section = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_string();
            plan = None;
            continue;
        }
        let c = cells(line);
        if !line.starts_with('|') || c.len() < 4 || c[0].starts_with('-') {
            continue;
        }
        // Lab times: | 01 fork | 5 | 15 | 5 | 25 | lab sheet |
        let lab_no: Option<u32> = c[0].split_whitespace().next().and_then(|n| n.parse().ok());
        if let (Some(n), true) = (lab_no, c.len() >= 5) {
            let nums: Vec<Option<u32>> = c[1..5].iter().map(|x| x.parse().ok()).collect();
            if let (Some(t), [Some(p), Some(e), Some(d), Some(total)]) = (times.get(&n), nums.as_slice()) {
                let row = Time { total: *total, predict: *p, exercise: *e, discussion: *d };
                if row != *t {
                    out.push(format!("workshops.md, lab times: lab {n:02} says {row:?}, its sheet {t:?}"));
                }
            }
            continue;
        }
        // Plans: | 0:10 | Lab 01 fork | predict 5 · exercise 15 · discuss 5 | 25 |
        let Some((h, m)) = c[0].split_once(':') else { continue };
        let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else { continue };
        let start = h * 60 + m;
        let Ok(minutes) = c[3].trim_matches('*').parse::<u32>() else { continue };
        let (title, next) = plan.get_or_insert_with(|| (section.clone(), start));
        if start != *next {
            out.push(format!(
                "workshops.md, {title}: the block \"{}\" starts at {}, but the one before ends at {}:{:02}",
                c[1],
                c[0],
                *next / 60,
                *next % 60
            ));
        }
        let parts: Vec<u32> = c[2]
            .split('·')
            .filter_map(|a| a.split_whitespace().last().and_then(|n| n.parse().ok()))
            .collect();
        if !parts.is_empty() && parts.iter().sum::<u32>() != minutes {
            out.push(format!(
                "workshops.md, {title}: \"{}\" lists {:?}, which is not {minutes} min",
                c[1], parts
            ));
        }
        if let Some(n) = c[1]
            .strip_prefix("Lab ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
        {
            if let (Some(t), false) = (times.get(&n), c[1].contains("demo only")) {
                let p = c[2]
                    .split('·')
                    .find_map(|a| a.trim().strip_prefix("predict "))
                    .and_then(|x| x.parse().ok());
                let e = c[2]
                    .split('·')
                    .find_map(|a| a.trim().strip_prefix("exercise "))
                    .and_then(|x| x.parse().ok());
                let d = c[2]
                    .split('·')
                    .find_map(|a| a.trim().strip_prefix("discuss "))
                    .and_then(|x| x.parse().ok());
                if (p, e, d, minutes) != (Some(t.predict), Some(t.exercise), Some(t.discussion), t.total) {
                    out.push(format!("workshops.md, {title}: lab {n:02} is planned as \"{}\" = {minutes} min, its sheet says {t:?}", c[2]));
                }
            }
        }
        *next = start + minutes;
    }
    // "Sum: 10 + 25 + … = **90 min**" lines: the stated total is the blocks' sum.
    let mut current = String::new();
    let mut sums: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = h.trim().to_string();
        }
        let c = cells(line);
        if line.starts_with('|') && c.len() >= 4 && c[0].contains(':') {
            if let Ok(m) = c[3].trim_matches('*').parse::<u32>() {
                *sums.entry(current.clone()).or_default() += m;
            }
        }
        if let Some(rest) = line.strip_prefix("Sum: ") {
            let stated = rest.split("**").nth(1).and_then(|t| number_before(t, "min"));
            let blocks = sums.get(&current).copied().unwrap_or(0);
            if stated != Some(blocks) {
                out.push(format!(
                    "workshops.md, {current}: the Sum line says {stated:?} min, the blocks add up to {blocks}"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_a_sheets_time_line() {
        let t =
            sheet_time("# Lab\n\n**Time.** 25 minutes (5 predict, 15 exercise, 5 discussion).\n").unwrap();
        assert_eq!(t, Time { total: 25, predict: 5, exercise: 15, discussion: 5 });
        assert_eq!(
            prose_time("- Timing: 5 min predict, 15 min exercise, 5 min discussion — 25 min."),
            Some(t)
        );
    }

    #[test]
    fn plans_must_add_up_and_agree_with_the_sheets() {
        let times = HashMap::from([(1, Time { total: 25, predict: 5, exercise: 15, discussion: 5 })]);
        let good = "## Lab times\n| 01 fork | 5 | 15 | 5 | 25 | lab sheet |\n\n## 90 minutes\n| start | block | a | min |\n|---|---|---|---|\n| 0:00 | Welcome | talk 5 · check 5 | 10 |\n| 0:10 | Lab 01 fork | predict 5 · exercise 15 · discuss 5 | 25 |\n\nSum: 10 + 25 = **35 min** ✓\n";
        assert_eq!(plan_problems(good, &times), Vec::<String>::new());
        let bad = good
            .replace(
                "| 0:10 | Lab 01 fork | predict 5 · exercise 15",
                "| 0:11 | Lab 01 fork | predict 5 · exercise 10",
            )
            .replace("| 01 fork | 5 | 15 |", "| 01 fork | 5 | 10 |");
        let p = plan_problems(&bad, &times);
        assert_eq!(p.len(), 4, "{p:#?}");
    }
}
