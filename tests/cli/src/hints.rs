//! Which hint helps with which test. A spec tags a test with a comment line just above it:
//!
//! ```text
//! // hint: 2
//! #[test]
//! fn a_handler_that_stops_at_0_returns_while_another_child_is_alive() { … }
//! ```
//!
//! `cargo lab check` then prints, for the first test that fails, the hint tagged on it
//! (hint 1 for a test without a tag).

/// The hint number tagged on spec test fn `test` (libtest's name: `fn_name` or
/// `fn_name::case_2_x`), if the spec tags it.
pub fn hint_for(spec: &str, test: &str) -> Option<usize> {
    let name = test.split("::").next().unwrap_or(test);
    let mut tagged: Option<usize> = None;
    for line in spec.lines() {
        let l = line.trim();
        if let Some(n) = l.strip_prefix("// hint:").and_then(|n| n.trim().parse().ok()) {
            tagged = Some(n);
        } else if let Some(rest) = l.strip_prefix("fn ").or_else(|| l.strip_prefix("pub fn ")) {
            let fn_name = rest.split(['(', '<', ' ']).next().unwrap_or("");
            if fn_name == name {
                return tagged;
            }
            tagged = None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "// hint: 2\n/// docs\n#[test]\nfn reaps_all() {\n}\n\n#[test]\nfn untagged() {}\n// hint: 3\n#[rstest]\n#[case::one(1)]\nfn cases(#[case] n: u8) {}\n";

    #[test]
    fn a_tag_above_the_attributes_and_docs_belongs_to_the_fn() {
        assert_eq!(hint_for(SPEC, "reaps_all"), Some(2));
        assert_eq!(hint_for(SPEC, "cases::case_1_one"), Some(3));
    }

    #[test]
    fn an_untagged_or_unknown_test_has_no_hint_of_its_own() {
        assert_eq!(hint_for(SPEC, "untagged"), None);
        assert_eq!(hint_for(SPEC, "nowhere"), None);
    }
}
