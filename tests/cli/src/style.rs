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
