//! Colour for the verdicts (✓ green, ✗ red), only where it helps: on a terminal, unless
//! `NO_COLOR` is set (https://no-color.org) or `--color never` is given; `--color always`
//! forces it (e.g. through `less -R`).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// `--color` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Decides once, from the option, `NO_COLOR` and whether stdout is a terminal.
pub fn init(choice: Choice) {
    ON.store(
        decide(
            choice,
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::io::stdout().is_terminal(),
        ),
        Ordering::Relaxed,
    );
}

fn decide(choice: Choice, no_color: bool, tty: bool) -> bool {
    match choice {
        Choice::Always => true,
        Choice::Never => false,
        Choice::Auto => tty && !no_color,
    }
}

/// Colours every ✓ green and every ✗ red in `text` (when colour is on).
pub fn paint(text: &str) -> String {
    if !ON.load(Ordering::Relaxed) {
        return text.to_string();
    }
    text.replace('✓', "\x1b[32m✓\x1b[0m").replace('✗', "\x1b[31m✗\x1b[0m")
}

/// `println!` with the verdict glyphs coloured (see [`paint`]).
#[macro_export]
macro_rules! say {
    () => { println!() };
    ($($t:tt)*) => { println!("{}", $crate::style::paint(&format!($($t)*))) };
}

/// Columns `text` takes on a terminal (CJK characters take two: [`i18n::width`]).
pub fn width(text: &str) -> usize {
    i18n::width(text)
}

/// `text` padded with spaces to `columns` terminal columns (as `{:<columns}` does for ASCII).
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

/// `text` in exactly `columns` terminal columns: padded with spaces, or, when it is wider, cut
/// and ended with '…' (a wide character that would straddle the edge is left out, the column
/// filled with a space), so that whatever follows starts in the same column on every row.
pub fn fit(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return pad(text, columns);
    }
    if columns == 0 {
        return String::new();
    }
    let room = columns - 1; // the '…' takes one
    let mut cut = String::new();
    let mut next = None;
    for c in text.chars() {
        if width(&cut) + width(c.encode_utf8(&mut [0; 4])) > room {
            next = Some(c);
            break;
        }
        cut.push(c);
    }
    // A Latin word cut in two goes whole ("pipe, a…" → "pipe…", "锁、d…" → "锁…"), unless
    // that loses much.
    let latin = |c: char| c.is_ascii_alphanumeric();
    if next.is_some_and(latin) && cut.ends_with(latin) {
        if let Some(start) = cut.rfind(|c: char| !latin(c)).filter(|&i| width(&cut[i..]) <= 12) {
            let end = start + cut[start..].chars().next().map_or(0, char::len_utf8);
            cut.truncate(end);
        }
    }
    // No dangling separator before the ellipsis ("a full pipe, …" reads as a list cut short).
    let kept = cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:，、；：".contains(c));
    pad(&format!("{kept}…"), columns)
}

/// Whether colour (and other terminal styling) is on: see [`init`].
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_takes_two_columns_a_character() {
        assert_eq!(width("lab"), 3);
        assert_eq!(width("僵尸进程：父进程"), 16);
        assert_eq!(pad("僵尸", 6), "僵尸  ");
        assert_eq!(pad("zombie", 3), "zombie");
    }

    /// Every title of `cargo lab list` ends in the same column, English or Chinese, long or short.
    #[test]
    fn fit_pads_or_cuts_to_the_same_column() {
        assert_eq!(fit("fork", 6), "fork  ");
        assert_eq!(fit("Pipes and SIGPIPE: who blocks", 12), "Pipes and…  ");
        assert_eq!(fit("Uncatchable signals", 8), "Uncatch…", "a word longer than the room is cut");
        assert_eq!(fit("who blocks, and who dies", 12), "who blocks… ", "no comma before the '…'");
        assert_eq!(fit("管道与 SIGPIPE", 7), "管道与…");
        // Ten columns: four characters (8), the '…', and a space where the fifth, two columns
        // wide, would straddle the edge.
        assert_eq!(fit("孤儿进程：父进程先退出", 10), "孤儿进程… ");
        assert_eq!(fit("孤儿进程", 8), "孤儿进程");
        assert_eq!(fit("孤儿进程、锁、daemon 进程", 16), "孤儿进程、锁…   ");
        for t in [
            "Pipes and SIGPIPE: who blocks on a full pipe, and who dies when nobody reads",
            "terminate() 与进程树的其余部分：孤儿进程、锁、daemon 进程",
            "管道与 SIGPIPE：谁在满了的管道上阻塞，没人读时谁会死",
            "fork",
            "",
        ] {
            for columns in [1, 7, 20, 48] {
                assert_eq!(width(&fit(t, columns)), columns, "{t:?} in {columns} columns");
            }
        }
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_under_no_color() {
        assert!(decide(Choice::Auto, false, true));
        assert!(!decide(Choice::Auto, true, true), "NO_COLOR wins over a terminal");
        assert!(!decide(Choice::Auto, false, false), "no colour into a pipe or file");
        assert!(decide(Choice::Always, true, false));
        assert!(!decide(Choice::Never, false, true));
    }
}
