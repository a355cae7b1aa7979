//! The sandbox's layers: what keeps a lab's signals inside its own scenario, which of them this
//! machine has, and which a run uses.
//!
//! - **landlock** — the lab runs in a Landlock domain scoped for signals (ABI ≥ 6, Linux ≥
//!   6.12): the kernel refuses any signal to a process outside the domain, whatever the system
//!   call or ABI (kill, tgkill, pidfds, 32-bit `int 0x80`, F_SETOWN/SIGIO).
//! - **pidns** — the scenario has a PID namespace of its own (with a user namespace, so no
//!   privilege is needed) whose pid 1 is the sandbox: the lab cannot name a process outside,
//!   cannot signal its init, and when init dies the kernel kills everything inside.
//! - **seccomp** — a filter hands every signal-sending system call to the sandbox, which lets it
//!   go on only for processes of the scenario; calls of any other ABI fail with ENOSYS.
//!
//! Every layer on its own keeps every route closed (the adversarial suite,
//! `tests/harness/tests/hostile.rs`, proves it layer by layer). By default a run uses Landlock
//! and the PID namespace where the machine has both — seccomp is then left out: it is the
//! floor for older kernels, and its supervisor's round trip on every signal the labs send was
//! almost all of the sandbox's cost (+11 % on labs 01–08, against +0.5 % for the other two) —
//! else every layer this machine has. `PROCLAB_LAYERS` names others (`landlock,pidns,seccomp`,
//! `all`, or `none` — no protection at all, for measurements only).

use std::fmt;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

pub const ALL: [&str; 3] = ["landlock", "pidns", "seccomp"];

/// One layer: available here (with a detail such as the ABI), or not (and why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub name: &'static str,
    pub available: Result<String, String>,
}

/// What the kernel and this user allow, asked once per process.
#[derive(Clone, Debug)]
pub struct Probe {
    pub layers: Vec<Layer>,
    /// The bound on a scenario's processes (what stops a fork bomb), or why there is none.
    pub bound: Result<String, String>,
}

impl Probe {
    pub fn get(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }
    pub fn available(&self) -> Vec<&'static str> {
        self.layers.iter().filter(|l| l.available.is_ok()).map(|l| l.name).collect()
    }
}

/// Runs `proclab-sandbox --probe` (namespaces, seccomp) and makes a Landlock ruleset with the
/// landlock crate, once per process.
pub fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let out = std::process::Command::new(env!("PROCLAB_SANDBOX"))
            .arg("--probe")
            .stdin(std::process::Stdio::null())
            .output();
        let text = match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => format!("landlock no {e}\npidns no {e}\nseccomp no {e}\nbound no {e}\n"),
        };
        let line = |name: &str| -> Result<String, String> {
            let l = text.lines().find_map(|l| l.strip_prefix(name).map(str::trim));
            match l {
                Some(rest) if rest.starts_with("ok") => Ok(rest[2..].trim().to_string()),
                Some(rest) => Err(rest.trim_start_matches("no").trim().to_string()),
                None => Err("the sandbox's probe said nothing".into()),
            }
        };
        let mut landlock = line("landlock");
        if landlock.is_ok() {
            if let Err(e) = landlock_ruleset() {
                landlock = Err(e);
            }
        }
        Probe {
            layers: vec![
                Layer { name: "landlock", available: landlock },
                Layer { name: "pidns", available: line("pidns") },
                Layer { name: "seccomp", available: line("seccomp") },
            ],
            bound: line("bound"),
        }
    })
}

/// A Landlock ruleset that scopes signals (hard requirement: an error where the kernel cannot).
pub fn landlock_ruleset() -> Result<OwnedFd, String> {
    use landlock::{CompatLevel, Compatible, Ruleset, RulesetAttr, Scope};
    let created = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .scope(Scope::Signal)
        .and_then(|r| r.create())
        .map_err(|e| format!("landlock: {e}"))?;
    Option::<OwnedFd>::from(created).ok_or_else(|| "landlock: no ruleset fd".to_string())
}

/// The layers a run uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen(pub Vec<&'static str>);

impl Chosen {
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(&name)
    }
}

impl fmt::Display for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { write!(f, "none") } else { write!(f, "{}", self.0.join(",")) }
    }
}

/// `PROCLAB_LAYERS` if set, else the default (see the module's doc). An error says what
/// cannot be had.
pub fn chosen() -> Result<Chosen, String> {
    choose(std::env::var("PROCLAB_LAYERS").ok().as_deref(), probe())
}

/// The choice, from the variable's value and the probe (a pure function, unit-tested).
pub fn choose(var: Option<&str>, probe: &Probe) -> Result<Chosen, String> {
    let wanted: Vec<&'static str> = match var.map(str::trim) {
        None | Some("") | Some("all") => {
            let have = probe.available();
            if have.is_empty() {
                return Err(i18n::t!("layers-none-available", why = why_not(probe)));
            }
            if var.map(str::trim) == Some("all") {
                if have.len() < ALL.len() {
                    return Err(format!("PROCLAB_LAYERS=all, but {}", why_not(probe)));
                }
                return Ok(Chosen(have));
            }
            // Landlock and the namespace each close every route; seccomp is the floor where
            // either is missing.
            if have.contains(&"landlock") && have.contains(&"pidns") {
                have.into_iter().filter(|&l| l != "seccomp").collect()
            } else {
                have
            }
        }
        Some("none") => vec![],
        Some(list) => {
            let mut v = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let Some(&known) = ALL.iter().find(|&&l| l == name) else {
                    return Err(format!(
                        "PROCLAB_LAYERS: unknown layer '{name}' (layers: landlock, pidns, seccomp; or all, none)"
                    ));
                };
                if let Some(Layer { available: Err(why), .. }) = probe.get(known) {
                    return Err(format!("PROCLAB_LAYERS asks for {known}, which this machine lacks: {why}"));
                }
                if !v.contains(&known) {
                    v.push(known);
                }
            }
            v
        }
    };
    Ok(Chosen(wanted))
}

fn why_not(probe: &Probe) -> String {
    probe
        .layers
        .iter()
        .filter_map(|l| l.available.as_ref().err().map(|e| format!("{}: {e}", l.name)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line for `cargo lab list`/`verify`: "sandbox layers: landlock ✓ pidns ✓ seccomp ✓".
pub fn summary() -> String {
    let p = probe();
    let marks: Vec<String> = p
        .layers
        .iter()
        .map(|l| format!("{} {}", l.name, if l.available.is_ok() { "✓" } else { "✗" }))
        .collect();
    let used = match chosen() {
        Ok(c) => i18n::t!("layers-using", layers = c),
        Err(e) => i18n::t!("layers-cannot-run", error = e),
    };
    i18n::t!("layers-summary", marks = marks.join("  "), used = used)
}

/// What `cargo lab doctor` prints: each layer, whether this machine has it, what it stops.
pub fn explain() -> String {
    use i18n::t;
    let p = probe();
    let what = |name: &str| match name {
        "landlock" => t!("layer-landlock"),
        "pidns" => t!("layer-pidns"),
        _ => t!("layer-seccomp"),
    };
    // The first column: as wide as the widest of its words, in the student's language.
    let limits = t!("layers-limits");
    let column = ALL.iter().map(|n| n.len()).chain([i18n::width(&limits)]).max().unwrap_or(8) + 2;
    let pad = |word: &str| format!("{word}{}", " ".repeat(column.saturating_sub(i18n::width(word))));
    let mut s = String::new();
    for l in &p.layers {
        let state = match &l.available {
            Ok(d) => t!("layer-available", detail = d),
            Err(e) => t!("layer-missing", error = e),
        };
        s.push_str(&format!("{}{state}\n{}\n", pad(l.name), i18n::wrap(&what(l.name), column, 96)));
    }
    s.push_str(&match &p.bound {
        Ok(b) => format!("{}{}\n", pad(&limits), t!("layers-bound", bound = b)),
        Err(e) => format!("{}{}\n", pad(&limits), t!("layers-no-bound", error = e)),
    });
    s.push_str(&match chosen() {
        Ok(c) if std::env::var_os("PROCLAB_LAYERS").is_some() => {
            format!("\n{}\n", t!("layers-run-with-var", layers = c))
        }
        Ok(c) if !c.has("seccomp") && p.get("seccomp").is_some_and(|l| l.available.is_ok()) => {
            format!("\n{}\n{}\n", t!("layers-run-with", layers = c), t!("layers-seccomp-left-out"))
        }
        Ok(c) => format!("\n{}\n", t!("layers-run-with", layers = c)),
        Err(e) => format!("\n{}\n", t!("layers-cannot", error = e)),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_with(ok: &[&'static str]) -> Probe {
        Probe {
            layers: ALL
                .iter()
                .map(|&n| Layer {
                    name: n,
                    available: if ok.contains(&n) { Ok("yes".into()) } else { Err("no".into()) },
                })
                .collect(),
            bound: Ok("1024".into()),
        }
    }

    #[test]
    fn by_default_landlock_and_the_namespace_or_else_every_available_layer() {
        assert_eq!(choose(None, &probe_with(&ALL)).unwrap().0, vec!["landlock", "pidns"]);
        assert_eq!(choose(Some(""), &probe_with(&ALL)).unwrap().0, vec!["landlock", "pidns"]);
        assert_eq!(choose(Some("all"), &probe_with(&ALL)).unwrap().0, ALL.to_vec());
        assert_eq!(
            choose(None, &probe_with(&["landlock", "seccomp"])).unwrap().0,
            vec!["landlock", "seccomp"]
        );
        assert_eq!(choose(None, &probe_with(&["pidns", "seccomp"])).unwrap().0, vec!["pidns", "seccomp"]);
        assert_eq!(choose(None, &probe_with(&["seccomp"])).unwrap().0, vec!["seccomp"]);
        assert!(choose(None, &probe_with(&[])).unwrap_err().contains("no sandbox layer"));
    }

    #[test]
    fn the_variable_picks_layers_and_refuses_what_is_missing() {
        let p = probe_with(&["landlock", "seccomp"]);
        assert_eq!(choose(Some("seccomp"), &p).unwrap().0, vec!["seccomp"]);
        assert_eq!(choose(Some("landlock, seccomp,landlock"), &p).unwrap().0, vec!["landlock", "seccomp"]);
        assert!(choose(Some("pidns"), &p).unwrap_err().contains("lacks"));
        assert!(choose(Some("all"), &p).unwrap_err().contains("pidns"));
        assert!(choose(Some("bogus"), &p).unwrap_err().contains("unknown layer"));
        assert_eq!(choose(Some("none"), &p).unwrap().0, Vec::<&str>::new());
    }

    #[test]
    fn this_machine_can_make_a_signal_scoped_ruleset_when_the_probe_says_so() {
        let p = probe();
        if p.get("landlock").is_some_and(|l| l.available.is_ok()) {
            assert!(landlock_ruleset().is_ok());
        }
    }
}
