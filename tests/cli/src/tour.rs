//! `cargo lab tour`'s judgement of one claim: the verdict the specs computed from what they
//! observed on this machine, beside the word the lab sheet expects. Pure (no process is run
//! here), so that a test can feed it other observations and see the verdict change.

use crate::labs::Claim;
use harness::Verdict;
use i18n::t;

/// What the specs recorded for one claim (`sc.claim_verdict`), in the order they ran.
#[derive(Clone, Debug, Default)]
pub struct Records(pub Vec<(Verdict, String)>);

impl Records {
    /// The records of `id` in the text of a `PROCLAB_CLAIMS` file (lines the specs appended).
    pub fn of(id: &str, file: &str) -> Records {
        Records(
            file.lines()
                .filter_map(harness::parse_claim_record)
                .filter(|(i, _, _)| i == id)
                .map(|(_, v, e)| (v, e))
                .collect(),
        )
    }
}

/// One claim judged: the verdict computed here, the sheet's, and what to print.
pub struct Judged {
    pub computed: Option<Verdict>,
    pub expected: Option<Verdict>,
    pub lines: Vec<String>,
}

impl Judged {
    /// The computed verdict is not the sheet's (or nothing was observed).
    pub fn differs(&self) -> bool {
        self.computed.is_none() || self.computed != self.expected
    }
}

/// A sheet's cell as a terminal shows it: no code ticks, no emphasis stars.
fn plain(cell: &str) -> String {
    cell.replace(['`', '*'], "")
}

fn word(v: Option<Verdict>) -> String {
    match v {
        Some(Verdict::Holds) => t!("tour-holds"),
        Some(Verdict::Fails) => t!("tour-fails"),
        Some(Verdict::Partly) => t!("tour-partly"),
        None => "?".into(),
    }
}

/// What a verdict cell says after its verdict word: `holds, but each child stays a zombie
/// until the next poll: median ≈ half the period` gives everything from "but" on (the detail
/// may have colons of its own); None for a bare word.
fn verdict_detail(cell: &str) -> Option<&str> {
    let cell = cell.trim();
    // The sheets' words: English, and the Chinese of the catalogue, longest first (部分成立
    // and 不成立 both end in 成立).
    let words = ["tour-partly", "tour-fails", "tour-holds"]
        .map(|key| i18n::text_in(i18n::Lang::Zh, key, &[]))
        .into_iter()
        .chain(["holds", "partly", "fails"].map(String::from));
    let rest = words.into_iter().find_map(|w| cell.strip_prefix(w.as_str())).unwrap_or(cell);
    let rest = rest.trim_start_matches([':', '：', ',', '，', ';', '；', ' ']).trim();
    (!rest.is_empty()).then_some(rest)
}

/// Judges `claim` (the English sheet's row: its verdict word is the expectation) from the
/// records; `shown` is the same row in the reader's language (the claim's text and the
/// verdict's detail are printed from it).
pub fn judge(claim: &Claim, shown: &Claim, records: &Records) -> Judged {
    let computed = Verdict::combine(records.0.iter().map(|r| r.0));
    let expected = Verdict::from_word(&claim.verdict);
    let detail =
        verdict_detail(&shown.verdict).map(|d| t!("tour-detail", detail = plain(d))).unwrap_or_default();
    let mut lines = vec![t!("tour-claim", post = claim.post, claim = plain(&shown.claim))];
    let sheet = format!("{}{detail}", word(expected));
    let Some(here) = computed else {
        lines.push(format!("  {}", t!("tour-not-confirmed", sheet = sheet)));
        return Judged { computed, expected, lines };
    };
    let differs = computed != expected;
    lines.push(format!(
        "  {}",
        if differs {
            t!("tour-differs", here = word(Some(here)), sheet = sheet)
        } else {
            t!("tour-verdict", here = word(Some(here)), sheet = sheet)
        }
    ));
    // One record per verdict seen (the first), then how many more runs said the same: where
    // the verdict is mixed, the evidence of each side is shown.
    let mut kinds: Vec<Verdict> = Vec::new();
    for (v, _) in &records.0 {
        if !kinds.contains(v) {
            kinds.push(*v);
        }
    }
    let mixed = kinds.len() > 1;
    for v in kinds {
        let same: Vec<&String> = records.0.iter().filter(|r| r.0 == v).map(|r| &r.1).collect();
        let more = if same.len() > 1 { t!("tour-more-runs", count = same.len() - 1) } else { String::new() };
        let text = if mixed {
            t!("tour-seen-as", verdict = word(Some(v)), observed = same[0].as_str())
        } else {
            t!("tour-seen", observed = same[0].as_str())
        };
        lines.push(format!("    {text}{more}"));
    }
    Judged { computed, expected, lines }
}

/// The tour's closing sentences, true of `judged` whatever it holds.
pub fn closing(judged: &[&Judged], broken: usize, secs: &str) -> Vec<String> {
    let count = |v: Verdict| judged.iter().filter(|j| j.computed == Some(v)).count();
    let unseen = judged.iter().filter(|j| j.computed.is_none()).count();
    let differ = judged.iter().filter(|j| j.computed.is_some() && j.differs()).count();
    let mut out = vec![t!(
        "tour-summary",
        total = judged.len(),
        holds = count(Verdict::Holds),
        fails = count(Verdict::Fails),
        partly = count(Verdict::Partly),
        secs = secs
    )];
    out.push(if differ == 0 {
        t!("tour-all-agree", agree = judged.len() - unseen)
    } else {
        t!("tour-some-differ", agree = judged.len() - unseen - differ, differ = differ)
    });
    if unseen > 0 {
        out.push(t!("tour-unobserved", unseen = unseen));
    }
    if broken > 0 {
        out.push(t!("tour-broken", broken = broken));
    }
    if unseen == 0 && broken == 0 {
        out.push(t!("tour-computed"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdicts_detail_is_all_that_follows_its_word() {
        assert_eq!(
            verdict_detail(
                "holds, but each child stays a zombie until the next poll: median ≈ half the period"
            ),
            Some("but each child stays a zombie until the next poll: median ≈ half the period")
        );
        assert_eq!(
            verdict_detail("partly: for the mechanism (PyCharm: not checked)"),
            Some("for the mechanism (PyCharm: not checked)")
        );
        assert_eq!(verdict_detail("部分成立：不过要循环调用 `waitpid`"), Some("不过要循环调用 `waitpid`"));
        assert_eq!(verdict_detail("fails"), None);
    }

    fn row(verdict: &str) -> Claim {
        Claim {
            id: "orphan-pid1".into(),
            post: "002".into(),
            claim: "如果父进程结束了子进程没有结束,那么子进程就会寄托给pid为1的进程来管理 — *the orphan goes to pid 1*".into(),
            verdict: verdict.into(),
        }
    }

    /// What two specs wrote: adoption by the sandbox (a subreaper, not pid 1) and by pid 1.
    fn file(first: Verdict, second: Verdict) -> String {
        harness::claim_record(
            "sol03",
            "orphan-pid1",
            first,
            "orphan 5 adopted by the subreaper 4711, not pid 1",
        ) + &harness::claim_record("sol03", "other", Verdict::Fails, "not this claim")
            + &harness::claim_record(
                "sol03",
                "orphan-pid1",
                second,
                "orphan 3 adopted by pid 1 (no subreaper)",
            )
    }

    #[test]
    fn the_verdict_is_computed_from_the_records_and_agrees_with_the_sheet() {
        i18n::set(i18n::Lang::En);
        let sheet = row("partly: to the nearest child subreaper, else pid 1");
        let records = Records::of("orphan-pid1", &file(Verdict::Fails, Verdict::Holds));
        assert_eq!(records.0.len(), 2);
        let j = judge(&sheet, &sheet, &records);
        assert_eq!(j.computed, Some(Verdict::Partly));
        assert!(!j.differs());
        let text = j.lines.join("\n");
        assert!(text.contains("here: PARTLY"), "{text}");
        assert!(!text.contains("differs here"), "{text}");
        // Both sides of a mixed verdict show their evidence.
        assert!(text.contains("FAILS: orphan 5 adopted by the subreaper 4711"), "{text}");
        assert!(text.contains("HOLDS: orphan 3 adopted by pid 1"), "{text}");
    }

    /// A machine where no subreaper adopted the orphan (a container without one): every record
    /// holds, the verdict changes, and the tour says it differs here, with the evidence.
    #[test]
    fn another_observation_changes_the_verdict_and_says_it_differs_here() {
        i18n::set(i18n::Lang::En);
        let sheet = row("partly: to the nearest child subreaper, else pid 1");
        let records = Records::of("orphan-pid1", &file(Verdict::Holds, Verdict::Holds));
        let j = judge(&sheet, &sheet, &records);
        assert_eq!(j.computed, Some(Verdict::Holds));
        assert!(j.differs());
        let text = j.lines.join("\n");
        assert!(text.contains("here: HOLDS"), "{text}");
        assert!(text.contains("differs here"), "{text}");
        assert!(text.contains("sheet: PARTLY (to the nearest child subreaper, else pid 1)"), "{text}");
        assert!(text.contains("orphan 5 adopted by the subreaper 4711"), "{text}");
        assert!(text.contains("(+1 more runs)"), "{text}");
        // The closing sentences count it, and no longer say that everything agrees.
        let agree = judge(&sheet, &sheet, &Records::of("orphan-pid1", &file(Verdict::Fails, Verdict::Holds)));
        let end = closing(&[&j, &agree], 0, "1.0").join("\n");
        assert!(end.contains("2 claims, as computed here: 1 hold, 0 fail, 1 hold only partly"), "{end}");
        assert!(end.contains("1 agree"), "{end}");
        assert!(end.contains("1 differ"), "{end}");
        let all = closing(&[&agree], 0, "1.0").join("\n");
        assert!(all.contains("all 1 agree"), "{all}");
    }

    #[test]
    fn a_claim_nothing_observed_is_not_confirmed_and_the_closing_says_so() {
        i18n::set(i18n::Lang::En);
        let sheet = row("holds");
        let j = judge(&sheet, &sheet, &Records::default());
        assert_eq!(j.computed, None);
        assert!(j.lines.join("\n").contains("NOT OBSERVED"), "{:?}", j.lines);
        let end = closing(&[&j], 0, "1.0").join("\n");
        assert!(end.contains("1 claim(s) were not observed"), "{end}");
        assert!(!end.contains("Every verdict above was computed"), "{end}");
    }
}
