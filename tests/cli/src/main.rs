//! `cargo lab`: the kit's command line. See `cargo lab --help`.

mod book;
mod catalogue;
mod edition;
mod figures;
mod grade;
mod hints;
mod judge;
mod labs;
mod reset;
mod run;
mod site;
mod style;
mod timing;
mod tour;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// proclab: labs on processes, signals and the Linux kernel.
///
/// A student edits labs/NN-topic/src/main.rs and runs `cargo lab check N`.
/// An instructor runs `cargo lab verify` once per machine.
#[derive(Parser)]
#[command(name = "cargo lab", bin_name = "cargo lab", version)]
struct Cli {
    /// Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = style::Choice::Auto, value_name = "WHEN")]
    color: style::Choice,
    /// The language of the messages, hints and lab sheets: en or zh (中文). Default: the locale
    /// (LC_ALL, LC_MESSAGES, LANG: zh_* is Chinese).
    #[arg(long, global = true, value_enum, value_name = "LANG")]
    lang: Option<LangChoice>,
    #[command(subcommand)]
    command: Command,
}

/// `--lang` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LangChoice {
    En,
    Zh,
}

/// The language of the messages: `--lang`, else the locale.
fn language(choice: Option<LangChoice>) -> i18n::Lang {
    match choice {
        Some(LangChoice::En) => i18n::Lang::En,
        Some(LangChoice::Zh) => i18n::Lang::Zh,
        None => i18n::Lang::from_locale(|name| std::env::var(name).ok()),
    }
}

/// `--lang` as given on a command line clap could not parse (for the language of its complaint).
fn language_of_args() -> i18n::Lang {
    let args: Vec<String> = std::env::args().collect();
    let given = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--lang=")
            .map(str::to_string)
            .or_else(|| (a == "--lang").then(|| args.get(i + 1).cloned()).flatten())
    });
    match given.as_deref() {
        Some("zh") => i18n::Lang::Zh,
        Some("en") => i18n::Lang::En,
        _ => language(None),
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the labs, their titles, your last verdict, how many are done and the next one.
    ///
    /// Example: `cargo lab list`.
    List,
    /// Run a lab's spec against your code (labs/NN-*) and explain the verdict: the process
    /// tree it expected and the one it saw, and the hint for the test that failed.
    ///
    /// Example: `cargo lab check 2` (also 02, lab02 or 02-zombie).
    Check {
        /// Lab number, e.g. 2.
        lab: String,
    },
    /// Check a lab again each time you save its source (Ctrl-C to stop).
    ///
    /// Example: `cargo lab watch 2`, with your editor in another window.
    Watch {
        /// Lab number, e.g. 2.
        lab: String,
    },
    /// Show the next hint for a lab (one more each time).
    ///
    /// Example: `cargo lab hint 2`; `cargo lab hint 2 --reset` starts over.
    Hint {
        /// Lab number, e.g. 2.
        lab: String,
        /// Show every hint at once.
        #[arg(long)]
        all: bool,
        /// Start again from the first hint.
        #[arg(long)]
        reset: bool,
    },
    /// Run the reference solution in the sandbox and narrate what happens to the process tree.
    ///
    /// Example: `cargo lab demo 2`, or `cargo lab demo 4 post` for the tests named *post*.
    Demo {
        /// Lab number, e.g. 2.
        lab: String,
        /// Only the spec tests whose name contains this text.
        filter: Option<String>,
    },
    /// Instructors: prove every solution passes its spec and every untouched starter fails its
    /// spec by an assertion (not a compile error, not a timeout); run the wrong-answer
    /// catalogues; check the book as built.
    ///
    /// Example: `cargo lab verify`, or `cargo lab verify --repeat 20` to hunt races (every
    /// solution's spec 20 times).
    Verify {
        /// Run each solution's spec this many times.
        #[arg(long, default_value_t = 1, value_name = "N")]
        repeat: u32,
    },
    /// Instructors: run the wrong-answer catalogues (tests/wrong/labNN/*.rs): every wrong answer
    /// must be rejected by its `rejected-by` test, by an assertion; every right one accepted.
    /// Each is built in a scratch copy of the lab (target/proclab/judge), never in labs/.
    ///
    /// Example: `cargo lab judge 4` (lab 04 only), `cargo lab judge` (all; verify does this too).
    Judge {
        /// Only these labs (default: all).
        labs: Vec<String>,
    },
    /// Run every lab's reference scenario here and print the posts' claims beside what this
    /// machine showed: holds, fails or partly.
    ///
    /// Example: `cargo lab tour`.
    Tour,
    /// Instructors: build the book, English (book/book) and 中文 (book/book/zh-CN, from
    /// book/po/zh-CN.po, searched by Pagefind), and check it as readers get it: no mdBook
    /// warning, every link and #anchor of the built HTML resolves, the language switcher on
    /// every page, includes by ANCHOR only; the catalogue: messages.pot current, the translated
    /// share per chapter, no fuzzy or untranslated message in a chapter of po/complete.txt.
    ///
    /// Example: `cargo lab book`, then open book/book/index.html.
    Book,
    /// Put a lab's starter back (asks first; a copy of your version is kept).
    ///
    /// Example: `cargo lab reset 2`, or `cargo lab reset 2 --yes` without the question.
    Reset {
        /// Lab number, e.g. 2.
        lab: String,
        /// Don't ask.
        #[arg(long)]
        yes: bool,
    },
    /// Instructors: grade labs/ headless — every lab's spec, points from grading.toml —
    /// and write a Gradescope results.json, a JUnit XML report and `Score X/Y`. Exits 0 only
    /// when every test passes (GitHub Classroom's command grader).
    ///
    /// Example: `cargo lab grade`, `cargo lab grade 2 4 --out /autograder/results`.
    Grade {
        /// Only these labs (default: all).
        labs: Vec<String>,
        /// Where to write results.json and junit.xml (default: target/proclab/grade).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Instructors: draw the book's figures (book/src/figures/labNN-*.svg) from real runs of the
    /// reference solutions: the process tree at each look, who signalled whom, the timeline.
    ///
    /// Example: `cargo lab figures` (all), `cargo lab figures 5`, `cargo lab figures --check`
    /// (draw again and fail if a committed figure differs: CI runs it).
    Figures {
        /// Only these labs' figures (default: all).
        labs: Vec<String>,
        /// Draw into a scratch directory and compare with the committed figures.
        #[arg(long)]
        check: bool,
    },
    /// Say what keeps each lab inside its sandbox on this machine: which layers the kernel
    /// offers (Landlock, PID namespace, seccomp), which are in use, and what each one stops.
    ///
    /// Example: `cargo lab doctor`; `PROCLAB_LAYERS=seccomp cargo test` runs with one layer.
    Doctor,
}

/// The command line in the student's language: the summary, the examples, each command's
/// one-line description and the options' help from the catalogue (each command's own `--help`
/// beyond its first line stays as its doc comment says, in English).
fn command() -> clap::Command {
    use i18n::t;
    let mut c = Cli::command()
        .about(t!("help-about"))
        .long_about(t!("help-long-about"))
        .after_help(t!("help-examples"))
        .mut_arg("color", |a| a.help(t!("help-color")))
        .mut_arg("lang", |a| a.help(t!("help-lang")));
    for (name, about) in [
        ("list", t!("help-list")),
        ("check", t!("help-check")),
        ("watch", t!("help-watch")),
        ("hint", t!("help-hint")),
        ("demo", t!("help-demo")),
        ("verify", t!("help-verify")),
        ("judge", t!("help-judge")),
        ("tour", t!("help-tour")),
        ("book", t!("help-book")),
        ("reset", t!("help-reset")),
        ("grade", t!("help-grade")),
        ("figures", t!("help-figures")),
        ("doctor", t!("help-doctor")),
    ] {
        c = c.mut_subcommand(name, |s| s.about(about));
    }
    c
}

fn main() -> ExitCode {
    // `cargo lab list | head` ends quietly when head has read enough, as other commands do,
    // instead of panicking on the closed pipe (Rust ignores SIGPIPE by default; the children
    // we start get the default back from std either way).
    // SAFETY: at the start of main, before any thread: SIG_DFL is no handler at all.
    let _ = unsafe {
        nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl)
    };
    // The language first: `--help` and clap's complaints are in it too.
    i18n::set(language_of_args());
    let cli = match command().try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if matches!(e.kind(), DisplayHelpOnMissingArgumentOrSubcommand | MissingSubcommand) {
                eprintln!("cargo lab: {}", i18n::t!("cli-which-command"));
                return ExitCode::from(2);
            }
            eprintln!("cargo lab: {}", i18n::t!("cli-bad-arguments", message = one_line(&e.to_string())));
            return ExitCode::from(2);
        }
    };
    style::init(cli.color);
    i18n::set(language(cli.lang));
    // The specs' failure reports are in the student's language for the student's commands;
    // the instructors' commands read them, and keep them in English.
    let students = matches!(
        cli.command,
        Command::List
            | Command::Check { .. }
            | Command::Watch { .. }
            | Command::Hint { .. }
            | Command::Demo { .. }
            | Command::Tour
            | Command::Reset { .. }
    );
    run::set_report_language(if students { i18n::current() } else { i18n::Lang::En });
    run::stop_children_on_interrupt();
    let result = match cli.command {
        Command::List => run::list(),
        Command::Check { lab } => labs::find(&lab).and_then(|l| run::check(&l)),
        Command::Watch { lab } => labs::find(&lab).and_then(|l| run::watch(&l)),
        Command::Hint { lab, all, reset } => labs::find(&lab).and_then(|l| run::hint(&l, all, reset)),
        Command::Demo { lab, filter } => labs::find(&lab).and_then(|l| run::demo(&l, filter.as_deref())),
        Command::Verify { repeat } => run::verify(repeat),
        Command::Tour => run::tour(),
        Command::Judge { labs } => judge::command(&labs),
        Command::Book => site::command(),
        Command::Doctor => run::doctor(),
        Command::Figures { labs, check } => figures::command(check, &labs),
        Command::Reset { lab, yes } => labs::find(&lab).and_then(|l| reset::reset(&l, yes)),
        Command::Grade { labs, out } => grade::grade(&labs, out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo lab: {e}");
            ExitCode::from(2)
        }
    }
}

/// clap's message up to its usage block, on one line.
fn one_line(msg: &str) -> String {
    let words: Vec<&str> = msg
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = words.join(" ");
    let text = text.trim_start_matches("error: ");
    if text.is_empty() { "bad arguments".into() } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// In English the catalogue's help says what the doc comments say: the commands' one-line
    /// descriptions and the options' help cannot drift apart from them.
    #[test]
    fn the_english_help_of_the_catalogue_is_the_doc_comments() {
        i18n::set(i18n::Lang::En);
        let (derived, shown) = (super::Cli::command(), super::command());
        let text = |s: Option<&clap::builder::StyledStr>| s.map(|s| s.to_string()).unwrap_or_default();
        assert_eq!(
            text(derived.get_about()).trim_end_matches('.'),
            text(shown.get_about()).trim_end_matches('.')
        );
        assert_eq!(text(derived.get_long_about()), text(shown.get_long_about()));
        for sub in derived.get_subcommands() {
            let other = shown.find_subcommand(sub.get_name()).expect("the same commands");
            assert_eq!(text(sub.get_about()), text(other.get_about()), "cargo lab {}", sub.get_name());
        }
        for arg in derived.get_arguments() {
            let other = shown.get_arguments().find(|a| a.get_id() == arg.get_id()).expect("the same options");
            assert_eq!(text(arg.get_help()), text(other.get_help()), "--{}", arg.get_id());
        }
    }
}
