//! A process's memory as the kernel accounts it: `/proc/PID/smaps_rollup`. Right after
//! `fork()` parent and child map the same physical pages (copy-on-write): every such page is
//! *shared* and counts half in each one's Pss. A page one of them writes becomes *private* to
//! the writer (a copy) — and to the other, now its only user. Specs never read `/proc/<pid>`
//! themselves (the scenario's pids are not the runner's): they ask [`Scenario::smaps_rollup`].

use super::Scenario;

/// The totals of `/proc/PID/smaps_rollup`, in KiB (the kernel's unit there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Resident pages, shared or not, each counted whole.
    pub rss_kib: u64,
    /// Proportional set size: each resident page divided by the number of processes mapping it.
    pub pss_kib: u64,
    pub shared_clean_kib: u64,
    /// Written pages that another process maps too (after fork: the parent's touched memory).
    pub shared_dirty_kib: u64,
    pub private_clean_kib: u64,
    /// Written pages this process alone maps (after a copy-on-write: the writer's copies).
    pub private_dirty_kib: u64,
    /// Resident anonymous memory (heap, stack, anonymous mappings).
    pub anonymous_kib: u64,
}

impl Memory {
    /// Parses the text of `smaps_rollup` (the header line, then `Key:  value kB` lines).
    pub fn parse(text: &str) -> Option<Memory> {
        let mut m = Memory::default();
        let mut seen = 0;
        for line in text.lines() {
            let Some((key, rest)) = line.split_once(':') else { continue };
            let Some(kib) = rest.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()) else {
                continue;
            };
            let field = match key.trim() {
                "Rss" => &mut m.rss_kib,
                "Pss" => &mut m.pss_kib,
                "Shared_Clean" => &mut m.shared_clean_kib,
                "Shared_Dirty" => &mut m.shared_dirty_kib,
                "Private_Clean" => &mut m.private_clean_kib,
                "Private_Dirty" => &mut m.private_dirty_kib,
                "Anonymous" => &mut m.anonymous_kib,
                _ => continue,
            };
            *field = kib;
            seen += 1;
        }
        (seen >= 2).then_some(m)
    }

    /// One line for reports and demos, in MiB.
    pub fn describe(&self) -> String {
        let mib = |k: u64| k as f64 / 1024.0;
        format!(
            "Rss {:.1} MiB, Pss {:.1}, Shared_Dirty {:.1}, Private_Dirty {:.1}",
            mib(self.rss_kib),
            mib(self.pss_kib),
            mib(self.shared_dirty_kib),
            mib(self.private_dirty_kib)
        )
    }
}

impl Scenario {
    /// `/proc/PID/smaps_rollup` of one process of the scenario now (`pid` in the scenario's
    /// numbering), or `None` if it has ended (a zombie has no memory left to show).
    pub fn smaps_rollup(&self, pid: i32) -> Option<Memory> {
        let host = self.host_pid(pid)?;
        let text = std::fs::read_to_string(format!("/proc/{host}/smaps_rollup")).ok()?;
        // The host pid still names the same process (not reaped and reused meanwhile).
        self.proc(pid).filter(|p| p.host_pid == host)?;
        Memory::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::Memory;

    #[test]
    fn parses_the_kernels_rollup() {
        let text = "55d2c7a00000-7ffd3c5e9000 ---p 00000000 00:00 0                          [rollup]\n\
                    Rss:               42148 kB\n\
                    Pss:               21330 kB\n\
                    Pss_Dirty:         19540 kB\n\
                    Shared_Clean:       3200 kB\n\
                    Shared_Dirty:      38916 kB\n\
                    Private_Clean:        16 kB\n\
                    Private_Dirty:        16 kB\n\
                    Referenced:        42148 kB\n\
                    Anonymous:         38932 kB\n\
                    Swap:                  0 kB\n";
        let m = Memory::parse(text).expect("parsed");
        assert_eq!(m.rss_kib, 42148);
        assert_eq!(m.pss_kib, 21330);
        assert_eq!(m.shared_dirty_kib, 38916);
        assert_eq!(m.private_dirty_kib, 16);
        assert_eq!(m.anonymous_kib, 38932);
        assert!(m.describe().starts_with("Rss 41.2 MiB, Pss 20.8"));
    }

    #[test]
    fn reads_this_process() {
        let text = std::fs::read_to_string("/proc/self/smaps_rollup").expect("smaps_rollup (Linux >= 4.14)");
        let m = Memory::parse(&text).expect("parsed");
        assert!(m.rss_kib > 0 && m.pss_kib <= m.rss_kib, "{m:?}");
    }

    #[test]
    fn rejects_what_is_not_a_rollup() {
        assert_eq!(Memory::parse(""), None);
        assert_eq!(Memory::parse("Name:\tbash\nState:\tS (sleeping)\n"), None);
    }
}
