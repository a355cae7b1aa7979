//! The scenario's pseudo-terminal (scenarios started with [`Scenario::start_with_terminal`]):
//! what a person at the keyboard does.

use super::Scenario;
use std::io::Write;

impl Scenario {
    /// Writes `keys` to the terminal (scenarios started with a terminal only): `"\x03"` is Ctrl-C.
    #[track_caller]
    pub fn type_keys(&self, keys: &[u8]) {
        let Some(mut t) = self.terminal.as_ref() else {
            self.fail("the scenario has a terminal (start it with Scenario::start_with_terminal)")
        };
        if let Err(e) = t.write_all(keys) {
            self.fail(&format!("keys can be typed on the terminal ({e})"));
        }
    }
}
