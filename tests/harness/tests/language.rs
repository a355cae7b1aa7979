//! The failure report in the student's language (`cargo lab --lang zh` passes `PROCLAB_LANG=zh`
//! to the specs): the same lines in the same order in English and in Chinese — only the words
//! differ —, the marker `── proclab:` the same in both, the tree as `/proc` shows it.
//! Each test chooses the language of its own thread (`i18n::set_for_this_thread`), so these run
//! side by side with the other suites.

use harness::prelude::*;
use i18n::Lang;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

fn failure_of(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the spec should have failed");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

/// A hang (the probe loops; the spec waits for a note it never writes) in `lang`.
fn hang(lang: Lang) -> String {
    i18n::set_for_this_thread(Some(lang));
    failure_of(|| {
        let mut sc = Scenario::start(probe(), &["hang"]);
        sc.set_deadline(Duration::from_millis(300));
        sc.when_stuck(Where::Busy, "does your loop ever end?");
        sc.step("the probe starts its loop");
        sc.role("probe");
        sc.note(2, "something never noted");
    })
}

/// A child that fell through into its parent's code, caught by the parts check, in `lang`.
fn stranger(lang: Lang) -> String {
    i18n::set_for_this_thread(Some(lang));
    failure_of(|| {
        let sc = Scenario::start(probe(), &["fall-through"]);
        sc.role("probe");
        sc.role("kid");
        sc.paused("the parent's work");
        sc.until("both wait at the pause", |t| t.lab_procs().filter(|q| q.at_pause()).count() == 2);
    })
}

/// Each line's indentation and whether it draws a process of the tree: the report's layout.
/// A line indented to start under the text of "expected: " (its width in `lang`) is marked so.
fn layout(report: &str, lang: Lang) -> Vec<(Option<usize>, bool)> {
    let label = i18n::width(&i18n::text_in(lang, "report-expected", &[("what", String::new())]));
    report
        .lines()
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            ((indent != label).then_some(indent), l.contains("  pgid "))
        })
        .collect()
}

#[test]
fn a_hang_reads_the_same_in_english_and_in_chinese() {
    let (en, zh) = (hang(Lang::En), hang(Lang::Zh));
    i18n::set_for_this_thread(Some(Lang::En));
    for r in [&en, &zh] {
        assert!(r.contains("── proclab: harness-probe"), "the marker is the same in every language:\n{r}");
    }
    assert!(en.contains("\nexpected: after 0.3 s, the probe ("), "{en}");
    assert!(
        en.contains("keeps running") && en.contains("\n          still waiting for: process 2 notes"),
        "{en}"
    );
    assert!(zh.contains("\n预期：0.3 秒后，probe 进程（"), "{zh}");
    assert!(zh.contains("一直在运行") && zh.contains("——does your loop ever end?"), "{zh}");
    // The second line of the headline starts under the text of the first: "预期：" is 6 columns.
    assert!(zh.contains("\n      仍在等待：进程 2 记下“something never noted”（已等 300 毫秒）"), "{zh}");
    assert!(zh.contains("\n步骤：\n  1. the probe starts its loop\n"), "{zh}");
    assert!(zh.contains("\n跟踪记录：\n") && zh.contains(" 是 probe\n"), "{zh}");
    assert!(!zh.contains("expected:") && !zh.contains("observed") && !zh.contains("trace:"), "{zh}");
    assert_eq!(layout(&en, Lang::En), layout(&zh, Lang::Zh), "the same lines in both languages:\n{en}\n{zh}");
}

#[test]
fn a_stranger_reads_the_same_in_english_and_in_chinese() {
    let (en, zh) = (stranger(Lang::En), stranger(Lang::Zh));
    i18n::set_for_this_thread(Some(Lang::En));
    assert!(en.contains("expected: only the process(es)") && en.contains("stopped there too"), "{en}");
    assert!(zh.contains("预期：只有进程") && zh.contains("也停在了那里"), "{zh}");
    assert!(zh.contains("（是不是子进程一路执行进了父进程的代码？）"), "{zh}");
    assert_eq!(layout(&en, Lang::En), layout(&zh, Lang::Zh), "the same lines in both languages:\n{en}\n{zh}");
}
