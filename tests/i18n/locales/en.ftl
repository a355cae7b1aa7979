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

build-first = First build of { $what }: cargo compiles the kit's dependencies once (about 3 minutes on 2 cores); after that a build takes seconds.
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
