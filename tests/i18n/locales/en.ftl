# proclab's messages in English. Every key here has its Chinese twin in zh.ftl, with the same
# variables (the catalogue's test checks both). Keys are grouped by who says them.

## cargo lab: the command line

cli-which-command = which command? list, check N, watch N, hint N, demo N, reset N, verify, tour, grade or doctor (try `cargo lab --help`)
cli-bad-arguments = { $message } (try `cargo lab --help`)
cli-interrupted = cargo lab: interrupted; stopped the run under way
cli-cannot-run-cargo = cannot run cargo: { $error }

## Finding a lab

lab-not-a-number = '{ $arg }' is not a lab number (the labs: { $names })
lab-no-such = there is no lab { $number } (the labs: { $names })
lab-none-found = none found
lab-none-in = no labs found in { $dir }

## Building

build-first = First build of { $what }: cargo compiles the specs' dependencies once (1 to 2 minutes on 2 cores); after that a build takes seconds.
build-fails = { $what } does not build (cargo's messages are above)
build-what-solution = the reference solution of lab { $lab }
build-what-solutions = the reference solutions

## cargo lab list

list-col-lab = lab
list-col-code = your code
list-done = { $done } of { $total } labs done.
list-next = Next: lab { $lab }, { $title } — read labs/{ $dir }/{ $sheet }, then `cargo lab check { $number }`.
list-all-pass = Every lab passes its spec. Compare yours with solutions/ and read the book's discussion questions.
list-commands = cargo lab check N · cargo lab hint N · cargo lab demo N · cargo lab reset N

## A lab's last verdict, as `cargo lab list` shows it

status-not-checked = · not checked yet
status-passed = ✓ passed
status-no-compile = ✗ does not compile
status-timeout = ✗ failing (timeout)
status-failing = ✗ failing

## cargo lab check and watch: the verdicts

check-building = Lab { $lab } — { $title }: building your code (labs/{ $dir })…
check-no-compile = ✗ labs/{ $dir } does not compile yet: fix the errors above (the first one first).
check-running = running the spec (tests/lab{ $lab }.rs) in the sandbox…
check-pass = ✓ Lab { $lab } passes its spec: { $passed } of { $passed } tests ({ $secs } s).
check-compare = Compare with the reference: solutions/{ $dir }/src/main.rs
check-timeout = ✗ the spec did not finish within { $secs } s and was stopped.
check-fail = ✗ Lab { $lab }: { $failed } of { $total } tests fail ({ $secs } s).
check-hint = Hint { $n }: { $hint }
verdict-hint-more = (more: cargo lab hint { $lab })
watch-waiting = watching labs/{ $dir }/src — save a change to check again (Ctrl-C to stop)

## cargo lab hint

hint-none = lab { $lab } has no hints in { $file }
hint-reset = Lab { $lab }: hints start again from hint 1.
hint-of-all = Hint { $n } of { $total }:
hint-header = Lab { $lab } — hint { $n } of { $total }:
hint-last = That was the last hint. (cargo lab hint { $number } --reset to start over)
hint-next = (run it again for hint { $n })
hint-untranslated = (no { $file } yet: the hints in English)

## cargo lab demo

demo-building = Lab { $lab } — { $title }: building the reference solution…
demo-title = Lab { $lab } — { $title }
demo-intro =
    The reference solution (solutions/{ $dir }) runs in a sandbox. Each step shows the
    process tree as /proc reports it: pid, role, state (R/S/Z), process group, signals.
demo-failed = the demo of lab { $lab } failed (see above)
demo-no-match = no spec test of lab { $lab } matches '{ $filter }'
demo-done = { $ran } scenario(s) shown. Now predict, then try it yourself: labs/{ $dir } (cargo lab check { $number }).

## cargo lab tour: the posts' claims

tour-start = tour: the posts' claims, checked on this machine (Linux { $kernel }, { $arch }).
tour-building = building the reference solutions…
tour-progress = [{ $i }/{ $n }] lab { $lab } { $title } { $mark } { $passed } scenario(s), { $claims } claim(s) ({ $secs } s)
tour-could-not-run = ✗ { $failed } scenario(s) could not run as specified:
tour-unseen = ✗ { $unseen } claim(s) of the lab sheet were not observed by any scenario
tour-heading = Myths and facts, as this machine showed them
tour-lab = Lab { $lab } — { $title }
tour-claim = post { $post }: { $claim }
tour-holds = HOLDS
tour-fails = FAILS
tour-partly = PARTLY
tour-detail = {" "}({ $detail })
tour-verdict = here: { $here } · sheet: { $sheet }
tour-differs = here: { $here } · sheet: { $sheet } — differs here:
tour-seen = seen: { $observed }
tour-seen-as = { $verdict }: { $observed }
tour-more-runs = {" "}(+{ $count } more runs)
tour-not-confirmed = NOT OBSERVED on this machine · sheet: { $sheet }
tour-summary = { $total } claims, as computed here: { $holds } hold, { $fails } fail, { $partly } hold only partly — in { $secs } s.
tour-all-agree = The verdicts computed here agree with the lab sheets: all { $agree } agree.
tour-some-differ = { $agree } agree with the lab sheets; { $differ } differ on this machine (marked "differs here" above, with what was seen).
tour-unobserved = ✗ { $unseen } claim(s) were not observed by any scenario.
tour-broken = ✗ { $broken } lab(s) could not run every scenario as specified (see above).
tour-computed = Every verdict above was computed from what a spec observed on this machine (tests/labNN.rs), not copied from a sheet.

## cargo lab reset

reset-no-git = git has no { $path } here (is this a clone of the kit?): download the kit again to get the starter
reset-already = labs/{ $dir }/{ $file } is already the starter: nothing to do.
reset-needs-yes = labs/{ $dir }/{ $file } has your changes; `cargo lab reset { $number } --yes` discards them (a copy is kept)
reset-ask = Discard your changes to labs/{ $dir }/{ $file } and get the starter back? A copy is kept. [y/N]
reset-nothing = Nothing changed.
reset-cannot-copy = cannot keep a copy: { $error }
reset-done = labs/{ $dir }/{ $file } is the starter again. Your version: { $backup }

## cargo lab doctor and reset: the rest

doctor-title = Linux { $kernel } — what keeps a lab's signals inside its own scenario:
doctor-each-layer =
    Each layer alone stops every route a lab has to signal a process outside its scenario:
    tests/harness/tests/hostile.rs tries them all (cargo test -p harness --test kit hostile).
reset-cannot-run-git = cannot run git: { $error }
reset-cannot-write = cannot write { $path }: { $error }

## The harness: the failure report (the marker `── proclab:` stays the same in every language)

report-lab-yours = { $package } (your code in labs/)
report-lab-reference = { $package } (the reference solution)
report-args = {" "}with { $args }
report-setup = {" "}({ $how })
report-expected = expected: { $what }
report-why = why: { $why }
report-observed = observed (+{ $ms } ms):
report-reaped = reaped by the sandbox:
report-steps = steps:
report-output = lab { $stream }:
report-output-last = lab { $stream } (the last { $keep } of { $total } lines):
report-trace = trace:
report-trace-last = trace (last { $n }):
report-expect-eq = { $what }: { $expected }, observed { $observed }

## The harness: narration (cargo lab demo)

narrate-start = { $command }   (in a sandbox: new session, child subreaper { $root })
narrate-start-no-subreaper = { $command }   (in a sandbox: new session, pid { $root } of its PID namespace, not a child subreaper)
narrate-ok = ✓ { $what }   (+{ $ms } ms)
narrate-printed = lab printed │ { $line }
narrate-claim = ★ claim { $id }: { $verdict } — { $evidence }
narrate-signal = { $signal } to { $pid } ({ $role })
narrate-signal-group = { $signal } to process group { $pgid }
claim-holds = holds
claim-fails = fails
claim-partly = partly

## The harness: what a wait waited for, and why it can no longer happen

wait-sandbox-ready = the sandbox sets the scenario up
wait-no-longer = { $what } — but every process of the scenario had ended by +{ $ms } ms, so it can no longer happen
wait-role = a process announces the role "{ $role }"
wait-roles = { $n } processes announce the role "{ $role }"
wait-note = process { $pid } notes "{ $key }"
wait-notes = { $n } note(s) "{ $key }"
wait-pause = a process reaches pause "{ $label }"
wait-releasable = process { $pid } waits at a pause and can be released ({ $error })
wait-exit = process { $pid } ends and the sandbox reaps it
wait-note-again = process { $pid } notes "{ $key }" again (after +{ $ms } ms)
wait-lab-starts = the sandbox starts the lab
wait-empty = every process of the scenario has exited and been reaped
wait-empty-done = every process has exited and been reaped
wait-closed = every process of the lab closes { $stream } (has exited)
wait-proc-zombie = { $what } — but process { $pid } has ended (a zombie now)
wait-proc-ended = { $what } — but process { $pid } has ended: { $exit }
wait-proc-last-seen = process { $pid } last seen: state { $state } in { $wchan }
wait-proc-gone = process { $pid } is gone
wait-and = { $what }; { $more }
wait-for-window = { $what } (for { $ms } ms)

## The harness: where a hang left each process

stuck-who-role = the { $role } ({ $pid })
stuck-who = process { $pid } ({ $comm })
stuck-running = running
stuck-asleep = asleep
stuck-sending = in a signal-sending call (the sandbox is checking its target)
stuck-asleep-in = asleep in { $wchan }
stuck-stopped = stopped
stuck-a-zombie = a zombie
stuck-state = state { $state }
stuck-in-handler = { $who } is still inside its SIG{ $sig } handler, { $state } (SIG{ $sig } blocked while it runs)
stuck-busy = { $who } keeps running: { $state }, its CPU time growing — a loop that does not end?
stuck-in-waitpid = { $who } is blocked in waitpid
stuck-at-pause = { $who } waits at the pause "{ $label }"
stuck-at-a-pause = { $who } waits at a pause for the spec
stuck-zombie = { $who } is a zombie: it has exited, its parent has not waited
stuck-is = { $who } is { $state }
stuck-question = { $place } — { $question }
stuck-and = {"; "}
stuck-waiting = still waiting for: { $what } ({ $ms } ms)
stuck-after = after { $secs } s, { $headline }

## The harness: why a process aborted

why-allocated = a signal handler allocated memory (format!, String, Vec, Box …): not async-signal-safe — malloc interrupted in the middle can deadlock. In a handler: atomics, write(2), kill, waitpid, labkit::note.
why-printed = your handler printed: not async-signal-safe. Its println! found stdout's buffer already borrowed by the code it interrupted, panicked, and a panic cannot leave a signal handler: abort (SIGABRT). In a handler write with write(2) (nix::unistd::write on fd 1, or labkit::note), or set an atomic flag and print in the main code.
why-panicked = a process of the lab panicked: "{ $message }" (its stderr is below)

## The harness: every process plays its part once

parts-quoted = "{ $role }"
parts-then = {" then "}
parts-role = {" "}("{ $role }")
parts-twice = every process plays its part once — but process { $pid } announced { $roles }: after its part it went on into code that is not its own (a child that returned from its branch into main?)
parts-extra = { $n } process(es) play the part "{ $role }" — but { $count } did: { $pids }. Process { $extra } was not expected: did a process fall through into the code that forks (a child that, after its branch, acts out the parent)?
parts-pause = only the process(es) { $pids } stop at the pause "{ $label }" — but process { $pid }{ $role } stopped there too: a process the scenario did not expect is running that code (a child that fell through into the parent's code?)
parts-outlived = every process ends with its part — but the program's first process { $main } has ended and process { $pid }{ $role } ({ $comm }) is still running, which the scenario never met: a child that outlived its part (did it return into main's code instead of exiting?)

## The harness: how a scenario was started

setup-session-leader = started as a session leader (setsid)
setup-hold-stdout = pauses hold stdout
setup-terminal = on a terminal
setup-hold-println = held inside its println! of "{ $text }"
setup-gate-pdeathsig = held before prctl(PR_SET_PDEATHSIG)
setup-no-subreaper = no child subreaper
setup-ignoring = started with { $signal } ignored
list-separator = {", "}

## The harness: how a process ended, and the trace

exit-code = exited with status { $code }
exit-signal = killed by signal { $n } (SIG{ $name })
exit-signal-core = killed by signal { $n } (SIG{ $name }), core dumped
trace-role = { $pid } is the { $role }
trace-note = { $pid } noted { $key } = { $value }
trace-pause = { $pid } paused: { $label }
trace-spawn = sandbox started the lab as { $pid }
trace-reaped = sandbox reaped { $pid }: { $exit }
trace-empty = sandbox: no process left
trace-root = sandbox is { $pid } (as the runner sees it)
trace-ready = sandbox ready: { $layers }
trace-refused = sandbox REFUSED a signal: { $what }
trace-error = sandbox error: { $error }
trace-synced = sandbox: trace synced ({ $n })

## The harness: signals, terminals, the tree

act-can-signal = { $signal } can be sent to { $target } — { $why }
terminal-type = keys can be typed on the terminal ({ $error })
terminal-shows = { $what }: the terminal shows { $text }
terminal-waited = { $what } (waited { $ms } ms; the terminal shows { $text })
terminal-foreground = the terminal reports its foreground group ({ $error })
target-pid = pid { $pid }
target-group = process group { $pgid }
refused-reserved = refused to signal { $target }: ids ≤ 1 mean init, the caller's group or everyone
refused-runner = refused to signal { $target }: it is the test runner or shares its group or session
refused-sandbox = refused to signal { $target }: it is the sandbox, not part of the scenario
refused-outside = refused to signal { $target }: not a live process of this scenario
refused-group = refused to signal process group { $pgid }: { $why }
refused-os = could not signal { $target }: { $error }
group-no-member = it has no member
group-harness-member = member { $pid } belongs to the harness
group-outside-member = member { $pid } (as the runner sees it) is outside the scenario
tree-empty = (no process left)
tree-more-zombies = { $n } more zombies of { $pid } { $label }: pids { $first }–{ $last }
tree-more-alike = { $n } more alike of { $pid } { $label }: pids { $first }–{ $last }

## The harness: the sandbox's layers (cargo lab list, cargo lab doctor)

layers-none-available = no sandbox layer is available on this machine, so a lab could signal any process of yours. { $why } (`cargo lab doctor` explains; PROCLAB_LAYERS=none runs without protection)
layers-summary = sandbox layers: { $marks } — { $used }
layers-using = using { $layers }
layers-cannot-run = cannot run: { $error }
layers-limits = limits
layers-bound = every scenario: at most { $bound }; no core files
layers-no-bound = NO process bound: { $error }; no core files
layers-run-with = Scenarios run with: { $layers }
layers-run-with-var = Scenarios run with: { $layers } (from PROCLAB_LAYERS)
layers-seccomp-left-out = (seccomp is left out by default where Landlock and the PID namespace are both here: each of them closes every route alone, and seccomp's check of every signal made the labs' specs about 11 % slower. PROCLAB_LAYERS=all adds it.)
layers-cannot = Scenarios cannot run: { $error }
layer-available = available ({ $detail })
layer-missing = NOT available: { $error }
layer-landlock = Landlock signal scoping: the kernel refuses every signal from the lab to a process outside its domain, by any system call or ABI (kill, tkill, tgkill, pidfds, 32-bit int 0x80, F_SETOWN). Needs Linux >= 6.12 with Landlock enabled (ABI >= 6).
layer-pidns = PID namespace: the scenario gets pids of its own; the sandbox is its pid 1, which the lab cannot signal, and the lab cannot name any process outside. When the sandbox dies, the kernel kills everything in the namespace. Unprivileged users need user namespaces (some distributions restrict them: kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns).
layer-seccomp = seccomp: the sandbox checks every signal-sending call of the lab and lets it go on only for processes of the scenario; other ABIs get ENOSYS; ptrace and cross-process memory calls get EPERM. Needs Linux >= 5.5. Its one gap: a pid reused, or a pidfd swapped by another thread of the lab, in the microseconds between check and call.

## cargo lab --help (each command's own --help beyond its first line is its doc comment, in English)

help-about = proclab: labs on processes, signals and the Linux kernel.
help-long-about =
    proclab: labs on processes, signals and the Linux kernel.

    A student edits labs/NN-topic/src/main.rs and runs `cargo lab check N`. An instructor runs `cargo lab verify` once per machine.
help-examples =
    Examples:
      cargo lab list            the labs, your verdicts, the next lab to do
      cargo lab check 2         judge labs/02-zombie with its spec
      cargo lab hint 2          one more hint
      cargo lab demo 2          the reference solution's process tree, step by step
      cargo lab doctor          what keeps each lab inside its sandbox here
      cargo lab verify          instructors: the whole kit, on this machine
help-color = Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always, never
help-lang = The language of the messages, hints and lab sheets: en or zh (中文). Default: the locale (LC_ALL, LC_MESSAGES, LANG: zh_* is Chinese)
help-list = List the labs, their titles, your last verdict, how many are done and the next one
help-check = Run a lab's spec against your code (labs/NN-*) and explain the verdict: the process tree it expected and the one it saw, and the hint for the test that failed
help-watch = Check a lab again each time you save its source (Ctrl-C to stop)
help-hint = Show the next hint for a lab (one more each time)
help-demo = Run the reference solution in the sandbox and narrate what happens to the process tree
help-verify = Instructors: prove every solution passes its spec and every untouched starter fails its spec by an assertion (not a compile error, not a timeout); run the wrong-answer catalogues; check the book as built
help-judge = Instructors: run the wrong-answer catalogues (tests/wrong/labNN/*.rs): every wrong answer must be rejected by its `rejected-by` test, by an assertion; every right one accepted. Each is built in a scratch copy of the lab (target/proclab/judge), never in labs/
help-tour = Run every lab's reference scenario here and print the posts' claims beside what this machine showed: holds, fails or partly
help-book = Instructors: build the book, English (book/book) and 中文 (book/book/zh-CN, from book/po/zh-CN.po, searched by Pagefind), and check it as readers get it: no mdBook warning, every link and #anchor of the built HTML resolves, the language switcher on every page, includes by ANCHOR only; the catalogue: messages.pot current, the translated share per chapter, no fuzzy or untranslated message in a chapter of po/complete.txt
help-reset = Put a lab's starter back (asks first; a copy of your version is kept)
help-grade = Instructors: grade labs/ headless — every lab's spec, points from grading.toml — and write a Gradescope results.json, a JUnit XML report and `Score X/Y`. Exits 0 only when every test passes (GitHub Classroom's command grader)
help-figures = Instructors: draw the book's figures (book/src/figures/labNN-*.svg) from real runs of the reference solutions: the process tree at each look, who signalled whom, the timeline
help-doctor = Say what keeps each lab inside its sandbox on this machine: which layers the kernel offers (Landlock, PID namespace, seccomp), which are in use, and what each one stops
