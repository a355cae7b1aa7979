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

/// `text` padded with spaces to `columns` terminal columns (as `{:<columns}` does for ASCII).
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
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

    #[test]
    fn colour_only_on_a_terminal_and_never_under_no_color() {
        assert!(decide(Choice::Auto, false, true));
        assert!(!decide(Choice::Auto, true, true), "NO_COLOR wins over a terminal");
        assert!(!decide(Choice::Auto, false, false), "no colour into a pipe or file");
        assert!(decide(Choice::Always, true, false));
        assert!(!decide(Choice::Never, false, true));
    }
}
