//! Drawing a [`Figure`] as SVG, by hand, with a fixed layout 750 px wide (the book's content
//! column): the tree at each look (small multiples), who sent which signal to whom (the tree of
//! every process, arcs from sender to target), and the timeline (a lane per process; the looks
//! as columns; signals as arrows and ends as marks between them).
//!
//! The SVG is written to be included *inline* in a chapter (no blank line, ids and styles
//! scoped by the figure's id): text and lines take the page's colour (`var(--fg)`), so the
//! figure reads in mdBook's light and dark themes alike; opened on its own, it falls back to
//! dark grey on white. The text is monospaced (mdBook ships Source Code Pro), so widths can be
//! computed here without a font.

use super::model::{Column, End, Figure, From, Signal, State, To, signal_name};
use std::fmt::Write as _;

pub const WIDTH: f64 = 750.0;
const MARGIN: f64 = 8.0;
/// Advance of one character at 12 px and 10 px (monospace: 0.6 em).
const CH: f64 = 7.2;
const CH_S: f64 = 6.0;
const ROW: f64 = 20.0;
const BOX_H: f64 = 16.0;
const INDENT: f64 = 16.0;

/// Escapes text for SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A number for an attribute: one decimal at most, no "-0".
fn f(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

fn state_class(s: State) -> &'static str {
    match s {
        State::Alive => "alive",
        State::Paused => "paused",
        State::Stopped => "stopped",
        State::Zombie => "zombie",
    }
}

fn state_word(s: State) -> Option<&'static str> {
    match s {
        State::Alive => None,
        State::Paused => Some("paused"),
        State::Stopped => Some("stopped"),
        State::Zombie => Some("zombie"),
    }
}

/// Colour class of a signal's arrows.
fn sig_class(sig: i32) -> &'static str {
    match sig {
        9 => "kill",
        15 => "term",
        2 | 3 => "int",
        _ => "other",
    }
}

/// Colours that read on mdBook's light and dark backgrounds alike.
const STATE_COLORS: [(&str, &str); 4] =
    [("alive", "#2f9e44"), ("paused", "#4dabf7"), ("stopped", "#f59f00"), ("zombie", "#868e96")];
const SIG_COLORS: [(&str, &str); 4] =
    [("kill", "#e03131"), ("term", "#f76707"), ("int", "#9c36b5"), ("other", "#1098ad")];

/// The SVG being written, and its id (every id and style inside is scoped by it).
struct Pen {
    id: String,
    body: String,
    /// Largest x and y drawn (checked against the canvas in tests).
    max_x: f64,
    max_y: f64,
    min_x: f64,
}

impl Pen {
    fn touch(&mut self, x: f64, y: f64) {
        self.max_x = self.max_x.max(x);
        self.max_y = self.max_y.max(y);
        self.min_x = self.min_x.min(x);
    }
    fn text(&mut self, x: f64, y: f64, class: &str, s: &str) {
        let w = s.chars().count() as f64 * if class.split(' ').any(|c| c == "s") { CH_S } else { CH };
        self.touch(x + w, y);
        self.touch(x, y);
        let cls = if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") };
        let _ = write!(self.body, "<text x=\"{}\" y=\"{}\"{cls}>{}</text>", f(x), f(y), esc(s));
    }
    fn text_mid(&mut self, x: f64, y: f64, class: &str, s: &str) {
        let w = s.chars().count() as f64 * if class.split(' ').any(|c| c == "s") { CH_S } else { CH };
        self.text(x - w / 2.0, y, class, s);
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str) {
        self.touch(x + w, y + h);
        self.touch(x, y);
        let _ = write!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{class}\"/>",
            f(x),
            f(y),
            f(w),
            f(h)
        );
    }
    fn path(&mut self, d: &str, class: &str, marker: Option<&str>) {
        let m = marker.map(|m| format!(" marker-end=\"url(#{}-{m})\"", self.id)).unwrap_or_default();
        let _ = write!(self.body, "<path d=\"{d}\" class=\"{class}\"{m}/>");
    }
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str, marker: Option<&str>) {
        self.touch(x1.max(x2), y1.max(y2));
        self.touch(x1.min(x2), y1.min(y2));
        self.path(&format!("M{} {}L{} {}", f(x1), f(y1), f(x2), f(y2)), class, marker);
    }
    fn circle_num(&mut self, x: f64, y: f64, n: usize) {
        self.touch(x + 8.0, y + 8.0);
        let _ = write!(self.body, "<circle cx=\"{}\" cy=\"{}\" r=\"8\" class=\"num\"/>", f(x), f(y));
        self.text_mid(x, y + 3.5, "s numtext", &n.to_string());
    }
}

/// A process's box in a tree: its label, width and where it sits.
fn box_w(label: &str) -> f64 {
    label.chars().count() as f64 * CH + 10.0
}

/// One tree to draw: rows of (depth, process number, state, tags).
struct TreeRows {
    rows: Vec<(usize, usize, State, String)>,
}

/// The rows of a look, depth first by the look's own parents.
fn tree_rows(col: &Column) -> TreeRows {
    let present = |n: usize| col.get(n).is_some();
    let mut rows = Vec::new();
    let tops: Vec<usize> =
        col.tree.iter().filter(|p| !present(p.parent) || p.parent == p.n).map(|p| p.n).collect();
    fn walk(
        col: &Column,
        n: usize,
        depth: usize,
        rows: &mut Vec<(usize, usize, State, String)>,
        guard: usize,
    ) {
        let Some(p) = col.get(n) else { return };
        let parent_pgid = col.get(p.parent).map(|q| q.pgid);
        let mut tags = Vec::new();
        if let Some(w) = state_word(p.state) {
            tags.push(w.to_string());
        }
        if let Some(w) = p.wait.filter(|_| n != 1) {
            tags.push(w.to_string());
        }
        // The group, where it is news: not the lab's own group right under the sandbox.
        if n != 1 && parent_pgid.is_some_and(|g| g != p.pgid) && !(p.parent == 1 && p.pgid == n) {
            tags.push(format!("pg {}", p.pgid));
        }
        rows.push((depth, n, p.state, tags.join(" · ")));
        if guard > 64 {
            return;
        }
        let mut kids: Vec<usize> =
            col.tree.iter().filter(|c| c.parent == n && c.n != n).map(|c| c.n).collect();
        kids.sort();
        for k in kids {
            walk(col, k, depth + 1, rows, guard + 1);
        }
    }
    for t in tops {
        walk(col, t, 0, &mut rows, 0);
    }
    TreeRows { rows }
}

fn label_of(fig: &Figure, n: usize) -> String {
    fig.proc(n).map(|p| p.label()).unwrap_or_else(|| format!("{n} ?"))
}

fn tree_width(fig: &Figure, t: &TreeRows) -> f64 {
    t.rows
        .iter()
        .map(|(d, n, _, tags)| {
            let tag_w = if tags.is_empty() { 0.0 } else { 6.0 + tags.chars().count() as f64 * CH_S };
            *d as f64 * INDENT + box_w(&label_of(fig, *n)) + tag_w
        })
        .fold(0.0, f64::max)
}

/// Draws a tree's rows with their left edge at `x` and the first row's top at `y`; returns
/// each process's (x, y, width) of its box.
fn draw_tree(
    pen: &mut Pen,
    fig: &Figure,
    t: &TreeRows,
    x: f64,
    y: f64,
    neutral: bool,
) -> Vec<(usize, f64, f64, f64)> {
    let mut at: Vec<(usize, f64, f64, f64)> = Vec::new();
    for (i, (d, n, state, tags)) in t.rows.iter().enumerate() {
        let bx = x + *d as f64 * INDENT;
        let by = y + i as f64 * ROW;
        // The connector from the nearest row above with one less depth.
        if *d > 0 {
            if let Some((_, px, py, _)) =
                t.rows[..i].iter().rposition(|r| r.0 + 1 == *d).and_then(|j| at.get(j)).copied()
            {
                pen.path(
                    &format!("M{} {}V{}H{}", f(px + 6.0), f(py + BOX_H), f(by + BOX_H / 2.0), f(bx)),
                    "ln",
                    None,
                );
            }
        }
        let label = label_of(fig, *n);
        let w = box_w(&label);
        let class = if neutral { "box neutral".to_string() } else { format!("box {}", state_class(*state)) };
        pen.rect(bx, by, w, BOX_H, &class);
        pen.text(bx + 5.0, by + 12.0, "", &label);
        if !neutral && !tags.is_empty() {
            pen.text(bx + w + 6.0, by + 12.0, "s muted", tags);
        }
        at.push((*n, bx, by, w));
    }
    at
}

/// Wraps `text` at `cols` characters, on spaces.
pub fn wrap(text: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > cols {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn sig_label(s: &Signal) -> String {
    signal_name(s.sig)
}

/// The rows of the signal graph and of the timeline: senders from outside, then every process.
fn lanes(fig: &Figure) -> Vec<From> {
    let all: Vec<&Signal> = fig.gaps.iter().flat_map(|g| &g.signals).collect();
    let mut v = Vec::new();
    if all.iter().any(|s| s.from == From::Spec) {
        v.push(From::Spec);
    }
    if all.iter().any(|s| s.from == From::Terminal) {
        v.push(From::Terminal);
    }
    v.extend(fig.procs.iter().map(|p| From::Proc(p.n)));
    v
}

fn lane_label(fig: &Figure, l: From) -> String {
    match l {
        From::Spec => "spec (kill)".into(),
        From::Terminal => "terminal".into(),
        From::Proc(n) => label_of(fig, n),
    }
}

/// The whole figure. `title` names it for screen readers; `id` scopes its ids and styles.
pub fn render(fig: &Figure, id: &str, title: &str) -> Result<String, String> {
    let mut pen = Pen { id: id.to_string(), body: String::new(), max_x: 0.0, max_y: 0.0, min_x: f64::MAX };
    let mut y = MARGIN;

    // ----- 1. the tree at each look ------------------------------------------------------
    pen.text(MARGIN, y + 12.0, "h", "The process tree at each look");
    y += 22.0;
    // A look alike the one before (something happened between them) says so, and no more.
    let same_as_before = |k: usize| k > 0 && fig.columns[k].tree == fig.columns[k - 1].tree;
    let trees: Vec<TreeRows> = fig
        .columns
        .iter()
        .enumerate()
        .map(|(k, c)| if same_as_before(k) { TreeRows { rows: Vec::new() } } else { tree_rows(c) })
        .collect();
    let need = trees.iter().map(|t| tree_width(fig, t)).fold(120.0, f64::max) + 20.0;
    let gap = 8.0;
    let avail = WIDTH - 2.0 * MARGIN;
    let per_row = (((avail + gap) / (need + gap)).floor() as usize).clamp(1, 4).min(trees.len().max(1));
    let pw = (avail - (per_row as f64 - 1.0) * gap) / per_row as f64;
    if need > pw + 0.01 {
        return Err(format!("a tree is {need:.0} px wide, more than the {avail:.0} px of the page"));
    }
    for (r, chunk) in trees.chunks(per_row).enumerate() {
        let h = chunk.iter().map(|t| t.rows.len().max(1)).max().unwrap_or(1) as f64 * ROW + 30.0;
        for (i, t) in chunk.iter().enumerate() {
            let k = r * per_row + i;
            let px = MARGIN + i as f64 * (pw + gap);
            pen.rect(px, y, pw, h, "panel");
            pen.circle_num(px + 14.0, y + 13.0, k + 1);
            pen.text(px + 28.0, y + 17.0, "s", &fig.columns[k].label());
            if same_as_before(k) {
                pen.text(px + 10.0, y + 40.0, "s muted", &format!("the same tree as {k}"));
            } else if t.rows.is_empty() {
                pen.text(px + 10.0, y + 40.0, "s muted", "(no process left)");
            }
            draw_tree(&mut pen, fig, t, px + 10.0, y + 26.0, false);
        }
        y += h + gap;
    }
    y += 10.0;

    // ----- 2. who sent what to whom ------------------------------------------------------
    let flows = fig.flows();
    let lanes = lanes(fig);
    pen.text(MARGIN, y + 12.0, "h", "Signals: who sent what to whom");
    y += 22.0;
    if flows.is_empty() {
        pen.text(
            MARGIN,
            y + 12.0,
            "s muted",
            "Neither the spec nor a process of the lab sent a signal in this run (the kernel's own, such as",
        );
        pen.text(MARGIN, y + 26.0, "s muted", "SIGCHLD and SIGPIPE, are not traced).");
        y += 40.0;
    } else {
        y = draw_flows(&mut pen, fig, &flows, &lanes, y)?;
    }

    // ----- 3. the timeline ---------------------------------------------------------------
    pen.text(MARGIN, y + 12.0, "h", "Timeline: each process's life, look by look");
    y += 22.0;
    y = draw_timeline(&mut pen, fig, &lanes, y)?;

    // ----- legend and steps ----------------------------------------------------------------
    let mut lx = MARGIN;
    for (class, word) in [
        ("alive", "alive"),
        ("paused", "paused (labkit::pause)"),
        ("stopped", "stopped"),
        ("zombie", "zombie"),
        ("unknown", "after a signal, unseen until its end"),
    ] {
        if class == "unknown" {
            pen.rect(lx, y + 6.0, 14.0, 2.0, "life unknown");
        } else {
            pen.rect(lx, y + 3.0, 14.0, 8.0, &format!("life {class}"));
        }
        pen.text(lx + 18.0, y + 11.0, "s", word);
        lx += 18.0 + word.chars().count() as f64 * CH_S + 14.0;
    }
    y += 20.0;
    let mut lx = MARGIN;
    pen.line(lx + 2.0, y, lx + 2.0, y + 14.0, "endmark", None);
    let ends = "exit N, †SIG: reaped by the sandbox · reaped: by its parent";
    pen.text(lx + 8.0, y + 11.0, "s", ends);
    lx += 8.0 + ends.chars().count() as f64 * CH_S + 18.0;
    let used: Vec<&str> = {
        let mut v: Vec<&str> = fig.gaps.iter().flat_map(|g| &g.signals).map(|s| sig_class(s.sig)).collect();
        v.sort();
        v.dedup();
        v
    };
    for (class, word) in
        [("kill", "SIGKILL"), ("term", "SIGTERM"), ("int", "SIGINT/QUIT"), ("other", "others")]
    {
        if !used.contains(&class) {
            continue;
        }
        pen.line(lx, y + 7.0, lx + 16.0, y + 7.0, &format!("arrow {class}"), Some(class));
        pen.text(lx + 22.0, y + 11.0, "s", word);
        lx += 22.0 + word.chars().count() as f64 * CH_S + 14.0;
    }
    y += 20.0;
    for (i, s) in fig.steps.iter().enumerate() {
        let lines = wrap(&format!("step {}: {s}", i + 1), ((WIDTH - 2.0 * MARGIN) / CH_S) as usize - 4);
        for (j, l) in lines.iter().enumerate() {
            pen.text(MARGIN + if j > 0 { 24.0 } else { 0.0 }, y + 11.0, "s", l);
            y += 14.0;
        }
    }
    y += 6.0;
    let foot = format!(
        "{}: {} — a real run, drawn by `cargo lab figures`; pids renumbered in fork order; time is order, not duration",
        fig.lab, fig.test
    );
    for l in wrap(&foot, ((WIDTH - 2.0 * MARGIN) / CH_S) as usize - 2) {
        pen.text(MARGIN, y + 11.0, "s muted", &l);
        y += 14.0;
    }
    y += MARGIN;

    if pen.max_x > WIDTH + 0.01 || pen.min_x < 0.0 {
        return Err(format!(
            "drawn from x = {:.0} to {:.0}, outside the {WIDTH} px canvas",
            pen.min_x, pen.max_x
        ));
    }
    let height = y.max(pen.max_y + MARGIN).ceil();
    Ok(document(&pen, title, height))
}

type Flow = (From, To, i32, String, Vec<usize>, usize);

/// What an arrow says: "TERM", "TERM ×3", "TERM → pg 3", "ABRT (raise)", "INT → pg 2 (^C)".
fn flow_label(sig: i32, to: To, how: &str, count: usize) -> String {
    let mut l = signal_name(sig);
    if count > 1 {
        l.push_str(&format!(" ×{count}"));
    }
    if let To::Group(g) = to {
        l.push_str(&format!(" → pg {g}"));
    }
    if !matches!(how, "kill" | "killpg") {
        let how = if how == "pidfd_send_signal" { "pidfd" } else { how };
        l.push_str(&format!(" ({how})"));
    }
    l
}

/// Places a label of width `w` near (x, y) where it overlaps no label placed before.
fn place(placed: &mut Vec<(f64, f64, f64, f64)>, x: f64, y: f64, w: f64) -> (f64, f64) {
    let x = x.min(WIDTH - MARGIN - w);
    for k in 0..9 {
        let dy = [0.0, 11.0, -11.0, 22.0, -22.0, 33.0, -33.0, 44.0, -44.0][k];
        let r = (x, y + dy - 9.0, x + w, y + dy + 2.0);
        if !placed.iter().any(|p| r.0 < p.2 && p.0 < r.2 && r.1 < p.3 && p.1 < r.3) {
            placed.push(r);
            return (x, y + dy);
        }
    }
    placed.push((x, y - 9.0, x + w, y + 2.0));
    (x, y)
}

/// The union tree (every process under its first parent, the senders from outside on top) and
/// an arc from each sender to each target, one per (sender, target, signal), with its count.
fn draw_flows(pen: &mut Pen, fig: &Figure, flows: &[Flow], lanes: &[From], y: f64) -> Result<f64, String> {
    let pitch = ROW + 2.0;
    let rows: Vec<(usize, From)> = lanes
        .iter()
        .map(|&l| match l {
            From::Proc(n) => (fig.depth(n), l),
            other => (0, other),
        })
        .collect();
    let row_top = |l: From| rows.iter().position(|r| r.1 == l).map(|i| y + i as f64 * pitch);
    let mut right: f64 = 0.0;
    for (i, (d, l)) in rows.iter().enumerate() {
        let bx = MARGIN + *d as f64 * INDENT;
        let by = y + i as f64 * pitch;
        let label = lane_label(fig, *l);
        let w = box_w(&label);
        if let From::Proc(n) = l {
            let parent = fig.proc(*n).map(|p| p.parent).unwrap_or(0);
            if let Some(py) = row_top(From::Proc(parent)).filter(|_| parent != 0) {
                let px = MARGIN + fig.depth(parent) as f64 * INDENT;
                pen.path(
                    &format!("M{} {}V{}H{}", f(px + 6.0), f(py + BOX_H), f(by + BOX_H / 2.0), f(bx)),
                    "ln",
                    None,
                );
            }
            pen.rect(bx, by, w, BOX_H, "box neutral");
        } else {
            pen.rect(bx, by, w, BOX_H, "box outside");
        }
        pen.text(bx + 5.0, by + 12.0, "", &label);
        right = right.max(bx + w);
    }
    let xs = right + 12.0;
    // A bracket for each group signalled, over the members it reached.
    let mut groups: Vec<usize> = flows
        .iter()
        .filter_map(|fl| match fl.1 {
            To::Group(g) => Some(g),
            _ => None,
        })
        .collect();
    groups.sort();
    groups.dedup();
    let mut brackets: Vec<(usize, f64, f64)> = Vec::new(); // (group, x, mid y)
    for (gi, &g) in groups.iter().enumerate() {
        let mut members: Vec<f64> = flows
            .iter()
            .filter(|fl| fl.1 == To::Group(g))
            .flat_map(|fl| fl.4.iter().filter_map(|&n| row_top(From::Proc(n))))
            .map(|t| t + BOX_H / 2.0)
            .collect();
        members.sort_by(f64::total_cmp);
        members.dedup();
        let bx = xs + gi as f64 * 6.0;
        let (Some(&top), Some(&bot)) = (members.first(), members.last()) else { continue };
        pen.line(bx, top - 4.0, bx, bot + 4.0, "bracket", None);
        for m in &members {
            pen.line(bx - 5.0, *m, bx, *m, "bracket", None);
        }
        brackets.push((g, bx, (top + bot) / 2.0));
    }
    let base = xs + groups.len() as f64 * 6.0 + 6.0;
    // Each arc: (from y, to y, end x, flow).
    let mut arcs: Vec<(f64, f64, f64, usize)> = Vec::new();
    for (i, fl) in flows.iter().enumerate() {
        let Some(fy) = row_top(fl.0).map(|t| t + BOX_H / 2.0) else { continue };
        let target = match fl.1 {
            To::Proc(n) => row_top(From::Proc(n)).map(|t| (t + BOX_H / 2.0, base)),
            To::Group(g) => brackets.iter().find(|b| b.0 == g).map(|b| (b.2, b.1 + 1.0)),
        };
        let Some((ty, tx)) = target else { continue };
        arcs.push((fy, ty, tx, i));
    }
    // Wider arcs for longer spans, so that nested arcs do not cross.
    let mut order: Vec<usize> = (0..arcs.len()).collect();
    order.sort_by(|&a, &b| {
        (arcs[a].0 - arcs[a].1).abs().total_cmp(&(arcs[b].0 - arcs[b].1).abs()).then(a.cmp(&b))
    });
    let widest = flows.iter().map(|fl| flow_label(fl.2, fl.1, &fl.3, fl.5).chars().count()).max().unwrap_or(4)
        as f64
        * CH_S;
    let room = WIDTH - MARGIN - base - widest - 12.0;
    if room < 40.0 {
        return Err(format!("the signal graph has {room:.0} px left for its arcs"));
    }
    let step = ((room / 0.75 - 20.0) / arcs.len().max(1) as f64).clamp(6.0, 22.0);
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut labels: Vec<(f64, f64, String, String)> = Vec::new();
    for (rank, &k) in order.iter().enumerate() {
        let (y1, y2, x_end, i) = arcs[k];
        let fl = &flows[i];
        let class = sig_class(fl.2);
        let arc_class = format!("arc {class}");
        let bulge = 20.0 + rank as f64 * step;
        pen.rect(base - 2.5, y1 - 2.5, 5.0, 5.0, &format!("dot {class}"));
        let (lx, ly) = if (y1 - y2).abs() < 0.5 && matches!(fl.1, To::Proc(_)) {
            // To itself: a loop.
            pen.path(
                &format!(
                    "M{} {}C{} {} {} {} {} {}",
                    f(base),
                    f(y1 - 3.0),
                    f(base + 26.0),
                    f(y1 - 16.0),
                    f(base + 26.0),
                    f(y1 + 16.0),
                    f(base + 3.0),
                    f(y1 + 4.0)
                ),
                &arc_class,
                Some(class),
            );
            pen.touch(base + 26.0, y1 + 16.0);
            (base + 26.0, y1 + 4.0)
        } else {
            pen.path(
                &format!(
                    "M{} {}C{} {} {} {} {} {}",
                    f(base),
                    f(y1),
                    f(base + bulge),
                    f(y1),
                    f(base + bulge),
                    f(y2),
                    f(x_end + 2.0),
                    f(y2)
                ),
                &arc_class,
                Some(class),
            );
            pen.touch(base + bulge * 0.75, y1.max(y2));
            (base + bulge * 0.75 + 5.0, (y1 + y2) / 2.0 + 4.0)
        };
        let label = flow_label(fl.2, fl.1, &fl.3, fl.5);
        let w = label.chars().count() as f64 * CH_S;
        let (lx, ly) = place(&mut placed, lx, ly, w);
        labels.push((lx, ly, format!("s sig {class}"), label));
    }
    // The names last, over the arcs (with a halo of the page's colour).
    for (x, y, class, text) in labels {
        pen.text(x, y, &class, &text);
    }
    Ok(y + rows.len() as f64 * pitch + 14.0)
}

/// A lane per process (and per sender from outside), a column per look, and between the
/// looks the signals (arrows from sender to every process reached) and the ends.
fn draw_timeline(pen: &mut Pen, fig: &Figure, lanes: &[From], mut y: f64) -> Result<f64, String> {
    let name_w =
        lanes.iter().map(|&l| lane_label(fig, l).chars().count() as f64 * CH).fold(0.0, f64::max) + 14.0;
    let col_w = 34.0;
    let slot_of = |s: &Signal| (sig_label(s).chars().count() as f64 * CH_S + 12.0).max(24.0);
    let end_w = |g: &super::model::Gap| -> f64 {
        g.ends.iter().map(|(_, e)| end_text(e).chars().count() as f64 * CH_S + 12.0).fold(0.0, f64::max)
    };
    let gap_w: Vec<f64> = fig
        .gaps
        .iter()
        .map(|g| (12.0 + g.signals.iter().map(slot_of).sum::<f64>() + end_w(g) + 4.0).max(18.0))
        .collect();
    let total = name_w + gap_w.iter().sum::<f64>() + fig.columns.len() as f64 * col_w;
    if total > WIDTH - 2.0 * MARGIN + 0.01 {
        return Err(format!(
            "the timeline needs {total:.0} px (more than {:.0}): too many signals between two looks",
            WIDTH - 2.0 * MARGIN
        ));
    }
    // x of each gap's start and each column's start.
    let mut gx = Vec::new();
    let mut cx = Vec::new();
    let mut x = MARGIN + name_w;
    for (i, w) in gap_w.iter().enumerate() {
        gx.push(x);
        x += w;
        if i < fig.columns.len() {
            cx.push(x);
            x += col_w;
        }
    }
    let right_edge = x;
    // Column heads: the number, and under it the step (on a second line when it would touch
    // the one before).
    let mut line_end = [f64::MIN, f64::MIN];
    let mut two_lines = false;
    for (i, c) in fig.columns.iter().enumerate() {
        let mid = cx[i] + col_w / 2.0;
        pen.circle_num(mid, y + 8.0, i + 1);
        let label = c.label();
        let w = label.chars().count() as f64 * CH_S;
        let line = if mid - w / 2.0 < line_end[0] + 6.0 { 1 } else { 0 };
        two_lines |= line == 1;
        line_end[line] = mid + w / 2.0;
        pen.text_mid(mid, y + 30.0 + line as f64 * 12.0, "s muted", &label);
    }
    y += if two_lines { 50.0 } else { 38.0 };
    let lane_y = |l: From| lanes.iter().position(|&x| x == l).map(|i| y + i as f64 * ROW + ROW / 2.0);
    for &c in &cx {
        pen.rect(c, y - 4.0, col_w, lanes.len() as f64 * ROW + 4.0, "band");
    }
    for (i, &l) in lanes.iter().enumerate() {
        let ly = y + i as f64 * ROW;
        pen.text(
            MARGIN,
            ly + 14.0,
            if matches!(l, From::Proc(_)) { "" } else { "muted" },
            &lane_label(fig, l),
        );
        pen.line(MARGIN + name_w - 6.0, ly + ROW / 2.0, right_edge, ly + ROW / 2.0, "guide", None);
    }
    // Where, inside gap g, the signals and the ends sit.
    let slot_x =
        |g: usize, i: usize| gx[g] + 12.0 + fig.gaps[g].signals[..i].iter().map(slot_of).sum::<f64>() + 4.0;
    let end_x = |g: usize| gx[g] + 12.0 + fig.gaps[g].signals.iter().map(slot_of).sum::<f64>() + 2.0;
    // Life bars.
    for p in &fig.procs {
        let Some(ly) = lane_y(From::Proc(p.n)) else { continue };
        let bar = |pen: &mut Pen, x1: f64, x2: f64, s: State| {
            if x2 > x1 {
                pen.rect(x1, ly - 4.0, x2 - x1, 8.0, &format!("life {}", state_class(s)));
            }
        };
        let mut prev: Option<State> = None;
        for g in 0..fig.gaps.len() {
            let next = fig.columns.get(g).and_then(|c| c.get(p.n)).map(|n| n.state);
            let end = fig.gaps[g].ends.iter().find(|(n, _)| *n == p.n).map(|(_, e)| e.clone());
            let brief = fig.gaps[g].brief.contains(&p.n);
            let (x_end, gap_end) = (end_x(g), gx[g] + gap_w[g]);
            let born = gx[g] + 6.0;
            // Where the first signal of this gap reaches it: its state changes from there.
            let hit = fig.gaps[g].signals.iter().position(|s| s.reaches.contains(&p.n)).map(|i| slot_x(g, i));
            match (prev, next) {
                (Some(a), Some(b)) if hit.is_some() => {
                    let h = hit.unwrap_or(x_end);
                    bar(pen, gx[g], h, a);
                    bar(pen, h, gap_end, b);
                }
                (Some(a), Some(b)) if a == b => bar(pen, gx[g], gap_end, a),
                (Some(a), Some(b)) => {
                    bar(pen, gx[g], x_end, a);
                    bar(pen, x_end, gap_end, b);
                }
                (Some(a), None) => {
                    let stop = if end.is_some() { x_end } else { gap_end };
                    match hit.filter(|&h| h < stop) {
                        // Reached by a signal, then ended: what it was in between, no look saw.
                        Some(h) => {
                            bar(pen, gx[g], h, a);
                            pen.rect(h, ly - 1.0, stop - h, 2.0, "life unknown");
                        }
                        None => bar(pen, gx[g], stop, a),
                    }
                }
                (None, Some(b)) => {
                    pen.line(born, ly - 6.0, born, ly + 6.0, "fork", None);
                    bar(pen, born, gap_end, b);
                }
                (None, None) if brief => {
                    pen.line(born, ly - 6.0, born, ly + 6.0, "fork", None);
                    bar(pen, born, if end.is_some() { x_end } else { gap_end }, State::Alive);
                }
                (None, None) => {}
            }
            if let Some(e) = end {
                pen.line(x_end, ly - 7.0, x_end, ly + 7.0, "endmark", None);
                pen.text(x_end + 4.0, ly + 3.5, "s", &end_text(&e));
            }
            if let (Some(s), Some(c)) = (next, cx.get(g)) {
                bar(pen, *c, c + col_w, s);
            }
            prev = next;
        }
    }
    // Signals: an arrow from the sender to every process it reached, the name beside it.
    let mut labels: Vec<(f64, f64, String, String)> = Vec::new();
    for (g, gap) in fig.gaps.iter().enumerate() {
        for (i, s) in gap.signals.iter().enumerate() {
            let x = slot_x(g, i);
            let Some(fy) = lane_y(s.from) else { continue };
            let class = sig_class(s.sig);
            let label_class = format!("s sig {class}");
            let targets: Vec<f64> = s.reaches.iter().filter_map(|&n| lane_y(From::Proc(n))).collect();
            pen.rect(x - 2.5, fy - 2.5, 5.0, 5.0, &format!("dot {class}"));
            if targets.is_empty() {
                labels.push((x + 4.0, fy - 6.0, label_class, sig_label(s)));
            } else if targets.len() == 1 && (targets[0] - fy).abs() < 0.5 {
                // To itself (raise, abort): a small loop above the lane.
                pen.path(
                    &format!("M{} {}c6 -12 16 -8 8 2", f(x + 1.0), f(fy - 3.0)),
                    &format!("arrow {class}"),
                    Some(class),
                );
                pen.touch(x + 17.0, fy - 15.0);
                labels.push((x + 4.0, fy - 11.0, label_class, sig_label(s)));
            } else {
                let down = targets.iter().any(|&t| t > fy);
                let up = targets.iter().any(|&t| t < fy);
                for &t in targets.iter().filter(|&&t| (t - fy).abs() > 0.5) {
                    let tip = if t > fy { t - 5.0 } else { t + 5.0 };
                    pen.line(x, fy, x, tip, &format!("arrow {class}"), Some(class));
                }
                // Between the sender's lane and the next one in the arrow's direction.
                let ly = if down || !up { fy + ROW / 2.0 + 3.5 } else { fy - ROW / 2.0 + 3.5 };
                labels.push((x + 4.0, ly, label_class, sig_label(s)));
            }
        }
    }
    for (x, y, class, text) in labels {
        pen.text(x, y, &class, &text);
    }
    Ok(y + lanes.len() as f64 * ROW + 10.0)
}

/// "exit 0", "†KILL", "†ABRT core", "reaped".
fn end_text(e: &End) -> String {
    match e {
        End::BySandbox(s) if s.starts_with("exit ") => s.clone(),
        End::BySandbox(s) => format!("†{s}"),
        End::Vanished => "reaped".into(),
    }
}

fn document(pen: &Pen, title: &str, height: f64) -> String {
    let id = &pen.id;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"proclab-figure\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title\">\n<title id=\"{id}-title\">{t}</title>\n",
        w = f(WIDTH),
        h = f(height),
        t = esc(title)
    );
    let fg = "var(--fg, #24292f)";
    let mut css = String::new();
    let _ = write!(
        css,
        "#{id} text{{font-family:\"Source Code Pro\",Consolas,\"DejaVu Sans Mono\",Menlo,monospace;font-size:12px;fill:{fg}}}\
#{id} .s{{font-size:10px}}#{id} .h{{font-weight:600;font-size:12px}}#{id} .muted{{fill-opacity:.7}}\
#{id} .numtext{{font-size:10px;font-weight:600}}\
#{id} .num{{fill:none;stroke:{fg};stroke-opacity:.6}}\
#{id} .panel{{fill:none;stroke:{fg};stroke-opacity:.2;rx:6px}}\
#{id} .band{{fill:{fg};fill-opacity:.05;stroke:none}}\
#{id} .ln{{fill:none;stroke:{fg};stroke-opacity:.45}}\
#{id} .guide{{stroke:{fg};stroke-opacity:.12;stroke-dasharray:2 3}}\
#{id} .bracket{{stroke:{fg};stroke-opacity:.6;fill:none}}\
#{id} .fork{{stroke:{fg};stroke-opacity:.7}}\
#{id} .endmark{{stroke:{fg};stroke-width:2}}\
#{id} .box{{stroke-width:1.2;rx:3px}}\
#{id} .box.neutral{{fill:{fg};fill-opacity:.06;stroke:{fg};stroke-opacity:.5}}\
#{id} .box.outside{{fill:none;stroke:{fg};stroke-opacity:.5;stroke-dasharray:3 2}}\
#{id} .box.zombie{{stroke-dasharray:3 2}}\
#{id} text.sig{{paint-order:stroke;stroke:var(--bg, #fff);stroke-width:3px;stroke-linejoin:round}}"
    );
    for (c, col) in STATE_COLORS {
        let _ = write!(
            css,
            "#{id} .box.{c}{{fill:{col};fill-opacity:.16;stroke:{col}}}#{id} .life.{c}{{fill:{col}}}"
        );
    }
    let _ = write!(
        css,
        "#{id} .life.zombie{{fill-opacity:.55}}#{id} .life.paused{{fill-opacity:.75}}#{id} .life.unknown{{fill:{fg};fill-opacity:.45}}"
    );
    for (c, col) in SIG_COLORS {
        let _ = write!(
            css,
            "#{id} .arc.{c},#{id} .arrow.{c}{{fill:none;stroke:{col};stroke-width:1.6}}#{id} .dot.{c}{{fill:{col}}}#{id} text.sig.{c}{{fill:{col};font-weight:600}}"
        );
    }
    let _ = writeln!(s, "<style>{css}</style>");
    s.push_str("<defs>");
    for (c, col) in SIG_COLORS {
        let _ = write!(
            s,
            "<marker id=\"{id}-{c}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{col}\"/></marker>"
        );
    }
    s.push_str("</defs>\n");
    // One element per line keeps diffs readable; no blank line, so that Markdown keeps the
    // SVG as one HTML block.
    s.push_str(&pen.body.replace("><", ">\n<"));
    s.push_str("\n</svg>\n");
    s
}
