use super::model::{End, From, Record, State, To, renumber};
use super::*;
use std::collections::BTreeMap;

/// A process in a look: (pid, ppid, pgid, state, wchan).
type P<'a> = (i32, i32, i32, &'a str, &'a str);
/// A look: (kind, text, time, processes).
type Look<'a> = (&'a str, &'a str, i64, &'a [P<'a>]);

/// A record as the harness writes it, from a compact description: `looks` are (kind, text,
/// [(pid, ppid, pgid, state, wchan)]), `trace` lines are "<pid> <t> <record>".
fn record(root: i32, looks: &[Look], sent: &str, trace: &[&str]) -> Record {
    let marks: Vec<String> = looks
        .iter()
        .map(|(kind, text, t, procs)| {
            let tree: Vec<String> = procs
                .iter()
                .map(|(pid, ppid, pgid, state, wchan)| {
                    format!(
                        r#"{{"pid":{pid},"ppid":{ppid},"pgid":{pgid},"tpgid":-1,"state":"{state}","wchan":"{wchan}","comm":"lab"}}"#
                    )
                })
                .collect();
            let text = serde_json::to_string(text).unwrap();
            format!(r#"{{"t":{t},"kind":"{kind}","text":{text},"tree":[{}]}}"#, tree.join(","))
        })
        .collect();
    let trace: Vec<String> = trace
        .iter()
        .map(|l| {
            let mut w = l.splitn(3, ' ');
            let (pid, t, line) = (w.next().unwrap(), w.next().unwrap(), w.next().unwrap());
            let line = serde_json::to_string(line).unwrap();
            format!(r#"{{"pid":{pid},"t":{t},"line":{line}}}"#)
        })
        .collect();
    let json = format!(
        r#"{{"lab":"sol99","test":"a_test","layers":"pidns,seccomp","root":{root},"marks":[{}],"sent":[{sent}],"keys":[],"trace":[{}]}}"#,
        marks.join(","),
        trace.join(",")
    );
    Record::parse(&json).unwrap()
}

const SPEC: Spec = Spec { lab: 99, name: "test", test: "a_test", title: "a test" };

/// The same story twice: a parent forks two workers, the spec SIGTERMs the parent, whose handler
/// signals its group; the workers exit and the parent reaps them. Only the kernel's numbers
/// differ (`shift` moves the workers' pids, as the sandbox's threads do when they start first).
fn story(shift: i32, order_swapped: bool) -> Record {
    let (p, a, b) = (2, 3 + shift, 4 + shift);
    let alive: &[P] = &[
        (1, 0, 1, "S", ""),
        (p, 1, p, "S", "do_wait"),
        (a, p, p, "S", "hrtimer_nanosleep"),
        (b, p, p, "R", ""),
    ];
    let gone: &[P] = &[(1, 0, 1, "S", ""), (p, 1, p, "S", "wait_for_partner")];
    let (first, second) = if order_swapped { (b, a) } else { (a, b) };
    let trace = [
        format!("1 5 spawn {p}"),
        format!("{p} 6 role parent"),
        format!("{a} 7 role worker"),
        format!("{b} 8 role worker"),
        format!("1 31 signal {p} 15 group {p} kill"),
        format!("1 32 signal {first} 10 pid {p} kill"),
        format!("1 33 signal {second} 10 pid {p} kill"),
    ];
    let trace: Vec<&str> = trace.iter().map(String::as_str).collect();
    record(
        1,
        &[
            ("show", "at work", 10, alive),
            ("ok", "a wait that succeeded", 15, alive),
            ("step", &format!("kill -TERM {p} (the parent) and its 2 workers"), 20, alive),
            ("step", "the parent reaps them", 40, gone),
            ("end", "the end", 50, gone),
        ],
        &format!(r#"{{"t":30,"sig":15,"pid":{p}}}"#),
        &trace,
    )
}

#[test]
fn pids_are_renumbered_in_fork_order_depth_first() {
    let r = record(
        1,
        &[(
            "show",
            "x",
            1,
            &[
                (1, 0, 1, "S", ""),
                (2, 1, 2, "S", ""),
                (9, 2, 2, "S", ""),
                (5, 2, 2, "S", ""),
                (7, 5, 2, "S", ""),
                (6, 9, 2, "S", ""),
            ],
        )],
        "",
        &["1 0 spawn 2"],
    );
    let num = r.numbering();
    // 2 forked 5 then 9; 5 forked 7, 9 forked 6 (concurrently: 6 got the lower pid).
    assert_eq!(
        num.iter().map(|(&p, &n)| (p, n)).collect::<Vec<_>>(),
        vec![(1, 1), (2, 2), (5, 3), (6, 6), (7, 4), (9, 5)]
    );
}

#[test]
fn the_same_story_with_other_pids_draws_the_same_figure() {
    let a = render(&SPEC, &story(0, false)).unwrap();
    let b = render(&SPEC, &story(17, false)).unwrap();
    let c = render(&SPEC, &story(17, true)).unwrap();
    assert_eq!(a, b, "the kernel's own numbers leak into the figure");
    assert_eq!(a, c, "the order of two concurrent replies leaks into the figure");
    assert!(
        a.contains("kill -TERM 2 (the parent) and its 2 workers"),
        "step text renumbered where it should not be"
    );
}

#[test]
fn looks_are_the_settled_ones_merged_when_alike() {
    let fig = story(0, false).figure();
    // show + step 1's start are alike (one column, "start"), the wait's tree is not drawn,
    // step 2's start and the end are alike ("step 1–2" in progress).
    let labels: Vec<String> = fig.columns.iter().map(|c| c.label()).collect();
    assert_eq!(labels, vec!["start", "steps 1–2"]);
    let parent = fig.columns[0].get(2).unwrap();
    assert_eq!((parent.state, parent.wait), (State::Alive, Some("in wait")));
    assert_eq!(fig.columns[0].get(3).unwrap().wait, None, "a sleep is not drawn: it flickers");
    assert_eq!(fig.columns[1].get(2).unwrap().state, State::Paused);
    assert_eq!(fig.steps, vec!["kill -TERM 2 (the parent) and its 2 workers", "the parent reaps them"]);
}

#[test]
fn signals_sit_between_looks_in_causal_order_and_groups_reach_their_members() {
    let fig = story(0, true).figure();
    let between = &fig.gaps[1];
    let who: Vec<(From, To, i32)> = between.signals.iter().map(|s| (s.from, s.to, s.sig)).collect();
    assert_eq!(
        who,
        vec![
            (From::Spec, To::Proc(2), 15),
            (From::Proc(2), To::Group(2), 15),
            (From::Proc(3), To::Proc(2), 10),
            (From::Proc(4), To::Proc(2), 10),
        ]
    );
    assert_eq!(between.signals[1].reaches, vec![2, 3, 4]);
    assert_eq!(between.ends, vec![(3, End::Vanished), (4, End::Vanished)]);
    let flows = fig.flows();
    assert_eq!(flows.len(), 4);
}

#[test]
fn pids_in_step_texts_are_renumbered_only_where_they_are_pids() {
    let num: BTreeMap<i32, usize> = [(1, 1), (2, 2), (5, 3), (6, 4), (7, 5), (10, 6)].into_iter().collect();
    let r = |s: &str| renumber(s, &num);
    assert_eq!(
        r("kill -TERM 5 (child 0): its handler calls killpg(2, SIGKILL)"),
        "kill -TERM 3 (child 0): its handler calls killpg(2, SIGKILL)"
    );
    assert_eq!(r("kill -TERM -7: SIGTERM to every member"), "kill -TERM -5: SIGTERM to every member");
    assert_eq!(r("its handler sends SIGTERM to group 7"), "its handler sends SIGTERM to group 5");
    assert_eq!(
        r("workers 0 and 2 ([5, 7]) are SIGKILLed; worker 1 (6) gets SIGTERM"),
        "workers 0 and 2 ([3, 5]) are SIGKILLed; worker 1 (4) gets SIGTERM"
    );
    assert_eq!(
        r("the parent forks 10 children; kill -15 child 6; 10 ms; 7.5"),
        "the parent forks 10 children; kill -15 child 6; 10 ms; 7.5"
    );
    assert_eq!(r("head 10 has exited"), "head 6 has exited");
}

/// Every number after x=, width=, and in the paths' coordinates that is an x.
fn xs_of(svg: &str) -> Vec<f64> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let mut xs = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let x = n.attribute("x").and_then(|v| v.parse::<f64>().ok());
        let w = n.attribute("width").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        if let Some(x) = x {
            xs.push(x);
            xs.push(x + w);
        }
        if let Some(d) = n.attribute("d") {
            let nums: Vec<f64> = d
                .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            // Absolute commands only (M, L, C, V, H come in x y pairs but V/H): check the Ms.
            if d.starts_with('M') {
                xs.extend(nums.first());
            }
        }
    }
    xs
}

#[test]
fn figures_stay_inside_the_750_px_column_and_are_well_formed() {
    let svg = render(&SPEC, &story(3, false)).unwrap();
    assert!(svg.starts_with("<svg ") && svg.contains("width=\"750\""), "{}", &svg[..200]);
    for x in xs_of(&svg) {
        assert!((0.0..=750.0).contains(&x), "x = {x} is outside the canvas");
    }
    assert!(!svg.contains("\n\n"), "a blank line would end the Markdown HTML block the SVG is included in");
    assert!(!svg.contains("<?xml"), "inline SVG needs no XML declaration");
}

#[test]
fn a_timeline_too_wide_for_the_page_is_refused_not_overflowed() {
    // 40 different signals between two looks cannot fit in 750 px.
    let procs: &[P] = &[(1, 0, 1, "S", ""), (2, 1, 2, "S", ""), (3, 2, 2, "S", "")];
    let lines: Vec<String> = (0..40)
        .map(|i| format!("1 {} signal 2 {} pid 3 kill", 20 + i, 1 + i))
        .chain(["1 0 spawn 2".to_string()])
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = record(1, &[("step", "a", 10, procs), ("end", "b", 100, procs)], "", &lines);
    let err = render(&SPEC, &r).unwrap_err();
    assert!(err.contains("too many signals"), "{err}");
}

#[test]
fn a_signal_sent_again_between_two_looks_is_drawn_once() {
    // A loop that signals "until it is gone" goes round as often as the scheduler lets it.
    let procs: &[P] = &[(1, 0, 1, "S", ""), (2, 1, 2, "S", ""), (3, 2, 2, "S", "")];
    let few: Vec<&str> = vec!["1 0 spawn 2", "1 20 signal 2 15 pid 3 kill", "1 21 signal 2 15 pid 3 kill"];
    let many: Vec<&str> = vec![
        "1 0 spawn 2",
        "1 20 signal 2 15 pid 3 kill",
        "1 21 signal 2 15 pid 3 kill",
        "1 22 signal 2 15 pid 3 kill",
        "1 23 signal 2 15 pid 3 kill",
    ];
    let looks: &[Look] = &[("step", "a", 10, procs), ("end", "b", 100, &procs[..2])];
    let (a, b) = (record(1, looks, "", &few), record(1, looks, "", &many));
    assert_eq!(a.figure().gaps[1].signals.len(), 1);
    assert_eq!(render(&SPEC, &a).unwrap(), render(&SPEC, &b).unwrap());
}

#[test]
fn alike_looks_with_a_signal_between_them_stay_two_columns() {
    // Lab 07's story: a cascade of SIGTERMs, and after it the same tree — that is the news.
    let procs: &[P] = &[(1, 0, 1, "S", ""), (2, 1, 2, "S", ""), (3, 2, 2, "S", "")];
    let looks: &[Look] = &[("step", "a", 10, procs), ("step", "b", 30, procs), ("end", "c", 50, procs)];
    let r = record(1, looks, r#"{"t":35,"sig":15,"pid":2}"#, &["1 0 spawn 2", "1 40 signal 2 15 pid 3 kill"]);
    let fig = r.figure();
    let labels: Vec<String> = fig.columns.iter().map(|c| c.label()).collect();
    assert_eq!(labels, vec!["start–step 1", "step 2"]);
    // The first two looks, alike with nothing between them, are one column; the spec's kill
    // and the lab's reply lie between it and the end's look.
    assert_eq!(fig.gaps[1].signals.len(), 2, "{:?}", fig.gaps);
    assert!(render(&SPEC, &r).unwrap().contains("the same tree as 1"));
}

#[test]
fn a_ctrl_c_typed_on_the_terminal_signals_the_foreground_group() {
    let json = r#"{"lab":"sol99","test":"t","layers":"seccomp","root":1,
        "marks":[{"t":10,"kind":"step","text":"^C","tree":[
            {"pid":1,"ppid":0,"pgid":1,"tpgid":-1,"state":"S","wchan":"","comm":"sandbox"},
            {"pid":2,"ppid":1,"pgid":2,"tpgid":2,"state":"S","wchan":"","comm":"lab"},
            {"pid":3,"ppid":2,"pgid":2,"tpgid":2,"state":"S","wchan":"","comm":"lab"}]}],
        "sent":[],"keys":[{"t":20,"keys":"\u0003"}],"trace":[{"pid":1,"t":0,"line":"spawn 2"}]}"#;
    let fig = Record::parse(json).unwrap().figure();
    let s = &fig.gaps[1].signals[0];
    assert_eq!((s.from, s.to, s.sig, s.how.as_str()), (From::Terminal, To::Group(2), 2, "^C"));
    assert_eq!(s.reaches, vec![2, 3]);
}

#[test]
fn text_is_escaped() {
    assert_eq!(svg::esc("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    let procs: &[P] = &[(1, 0, 1, "S", ""), (2, 1, 2, "S", "")];
    let r =
        record(1, &[("step", "kill <&> \"x\"", 10, procs)], "", &["1 0 spawn 2", "2 1 role <the & \"one\">"]);
    let svg = render(&SPEC, &r).unwrap();
    assert!(svg.contains("2 &lt;the &amp; &quot;one&quot;&gt;"), "{svg}");
    assert!(svg.contains("kill &lt;&amp;&gt; &quot;x&quot;"));
    roxmltree::Document::parse(&svg).expect("well-formed");
}

#[test]
fn the_check_finds_a_stale_a_missing_and_an_orphaned_figure() {
    let base = std::env::temp_dir().join(format!("proclab-figures-test-{}", std::process::id()));
    let (drawn, committed) = (base.join("drawn"), base.join("committed"));
    std::fs::create_dir_all(&drawn).unwrap();
    std::fs::create_dir_all(&committed).unwrap();
    let a = Spec { lab: 98, name: "a", test: "t", title: "t" };
    let b = Spec { lab: 98, name: "b", test: "t", title: "t" };
    let specs = [&a, &b];
    for s in specs {
        std::fs::write(drawn.join(s.file()), "<svg>\nsame\n</svg>\n").unwrap();
        std::fs::write(committed.join(s.file()), "<svg>\nsame\n</svg>\n").unwrap();
    }
    assert!(compare(&drawn, &committed, &specs, true).is_empty());
    std::fs::write(committed.join(b.file()), "<svg>\nstale\n</svg>\n").unwrap();
    std::fs::write(committed.join("lab97-gone.svg"), "<svg/>").unwrap();
    let problems = compare(&drawn, &committed, &specs, true);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("lab98-b.svg differs") && problems[0].contains("line 2"), "{problems:?}");
    assert!(problems[1].contains("lab97-gone.svg is drawn by no scenario"), "{problems:?}");
    std::fs::remove_file(committed.join(a.file())).unwrap();
    assert!(compare(&drawn, &committed, &specs, false).iter().any(|p| p.contains("lab98-a.svg is missing")));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn every_figure_names_a_test_of_its_labs_spec() {
    for s in FIGURES {
        let spec = std::fs::read_to_string(root().join(format!("tests/lab{:02}.rs", s.lab))).unwrap();
        let name = s.test.split("::").next().unwrap();
        assert!(
            spec.contains(&format!("fn {name}(")),
            "{}: tests/lab{:02}.rs has no fn {name}",
            s.file(),
            s.lab
        );
    }
    let mut files: Vec<String> = FIGURES.iter().map(Spec::file).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), FIGURES.len(), "two figures write the same file");
}
