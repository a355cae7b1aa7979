//! The spec's own sentences in both languages: `say!("English {x}", "中文 {x}")` is the
//! English or the Chinese text, formatted with the same captured variables, in the language of
//! the report ([`i18n::current`]: `cargo lab --lang zh`, `PROCLAB_LANG`, or a `zh_*` locale).
//! Both texts are written side by side in the spec, so neither can be missing; the report's
//! frame (headings, verdict, hints) comes from the catalogue in `tests/i18n`.
//!
//! ```text
//! sc.expect(t.zombie(child), &say!("child {child} is a zombie", "子进程 {child} 是僵尸进程"));
//! ```

/// True when the report speaks Chinese.
pub fn chinese() -> bool {
    i18n::current() == i18n::Lang::Zh
}

/// `say!("English", "中文")`, with `format!`'s arguments after the two texts if any (both texts
/// must use them all); the texts may capture variables by name (`{pid}`).
#[macro_export]
macro_rules! say {
    (@chinese($c:expr) $en:literal, $zh:literal $(,)?) => {
        if $c { format!($zh) } else { format!($en) }
    };
    (@chinese($c:expr) $en:literal, $zh:literal, $($arg:tt)+) => {
        if $c { format!($zh, $($arg)+) } else { format!($en, $($arg)+) }
    };
    ($en:literal, $zh:literal $(,)?) => {
        $crate::say!(@chinese($crate::say::chinese()) $en, $zh)
    };
    ($en:literal, $zh:literal, $($arg:tt)+) => {
        $crate::say!(@chinese($crate::say::chinese()) $en, $zh, $($arg)+)
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn say_picks_the_language_and_formats_both_texts_alike() {
        // The language is an argument here: the process's language is shared by every test.
        let pid = 7;
        assert_eq!(
            say!(@chinese(true) "child {pid} is a zombie", "子进程 {pid} 是僵尸进程"),
            "子进程 7 是僵尸进程"
        );
        assert_eq!(say!(@chinese(true) "{} of {}", "{1} 中的 {0}", 1, 3), "3 中的 1");
        assert_eq!(
            say!(@chinese(false) "child {pid} is a zombie", "子进程 {pid} 是僵尸进程"),
            "child 7 is a zombie"
        );
        assert_eq!(say!(@chinese(false) "{} of {}", "{1} 中的 {0}", 1, 3), "1 of 3");
        assert_eq!(say!("plain", "平常"), if super::chinese() { "平常" } else { "plain" });
    }
}
