# proclab 的中文消息。每个键都与 en.ftl 中的英文一一对应，变量相同（由目录的测试检查）。
# 术语与讲义的词汇表及中文实验说明一致：实验（lab）、规约（spec）、沙箱（sandbox）、参考答案（solution）、
# 起始代码（starter）、实验说明（lab sheet）、提示（hint）、博文（post）、论断（claim）、场景（scenario）、
# 讲师（instructor）、讲义（the book）、错误答案集（wrong-answer catalogue）。

## cargo lab：命令行

cli-which-command = 要运行哪个命令？list、check N、watch N、hint N、demo N、reset N、verify、tour、grade 或 doctor（试试 `cargo lab --help`）
cli-bad-arguments = { $message }（试试 `cargo lab --help`）
cli-interrupted = cargo lab：已中断，正在进行的运行已停止
cli-cannot-run-cargo = 无法运行 cargo：{ $error }

## 查找实验

lab-not-a-number = “{ $arg }”不是实验编号（现有实验：{ $names }）
lab-no-such = 没有实验 { $number }（现有实验：{ $names }）
lab-none-found = 一个也没有
lab-none-in = 在 { $dir } 中没有找到实验

## 构建

build-first = 首次构建 { $what }：cargo 要先把规约用到的依赖编译一遍（2 核的机器上约需 1～2 分钟，只此一次）；以后每次构建只要几秒。
build-fails = { $what } 无法编译（cargo 的报错见上方）
build-what-solution = 实验 { $lab } 的参考答案
build-what-solutions = 各实验的参考答案

## cargo lab list

list-col-lab = 实验
list-col-code = 你的代码
list-done = 已完成 { $done } / { $total } 个实验。
list-next = 下一个：实验 { $lab }，{ $title }——先读 labs/{ $dir }/{ $sheet }，再运行 `cargo lab check { $number }`。
list-all-pass = 所有实验都通过了规约。把你的代码和 solutions/ 中的参考答案比较一下，再读读讲义中的讨论题。
list-commands = cargo lab check N · cargo lab hint N · cargo lab demo N · cargo lab reset N

## cargo lab list 显示的上一次结果

status-not-checked = · 尚未检查
status-passed = ✓ 已通过
status-no-compile = ✗ 无法编译
status-timeout = ✗ 未通过（超时）
status-failing = ✗ 未通过

## cargo lab check 与 watch：判定结果

check-building = 实验 { $lab } —— { $title }。正在构建你的代码（labs/{ $dir }）……
check-no-compile = ✗ labs/{ $dir } 还不能编译：请修正上方的错误（从第一个改起）。
check-running = 正在沙箱中运行规约（tests/lab{ $lab }.rs）……
check-pass = ✓ 实验 { $lab } 通过了规约：{ $passed } 个测试全部通过（{ $secs } 秒）。
check-compare = 和参考答案对照一下：solutions/{ $dir }/src/main.rs
check-timeout = ✗ 规约在 { $secs } 秒内没有跑完，已被停止。
check-fail = ✗ 实验 { $lab }：{ $total } 个测试中有 { $failed } 个未通过（{ $secs } 秒）。
check-hint = 提示 { $n }：{ $hint }
verdict-hint-more = （更多提示：cargo lab hint { $lab }）
watch-waiting = 正在监视 labs/{ $dir }/src——保存修改后会自动重新检查（按 Ctrl-C 停止）

## cargo lab hint

hint-none = 实验 { $lab } 没有提示（{ $file } 中一条也没有）
hint-reset = 实验 { $lab }：提示已重置，下次从第 1 条开始。
hint-of-all = 第 { $n } 条提示（共 { $total } 条）：
hint-header = 实验 { $lab } —— 第 { $n } 条提示（共 { $total } 条）：
hint-last = 这是最后一条提示。（运行 cargo lab hint { $number } --reset 可以从头再看）
hint-next = （再运行一次可看第 { $n } 条提示）
hint-untranslated = （还没有 { $file }：以下是英文提示）

## cargo lab demo

demo-building = 实验 { $lab } —— { $title }。正在构建参考答案……
demo-title = 实验 { $lab } —— { $title }
demo-intro =
    参考答案（solutions/{ $dir }）在沙箱中运行。每一步都按 /proc 的报告画出进程树：
    pid、角色、状态（R/S/Z）、进程组、信号。
demo-failed = 实验 { $lab } 的演示失败了（原因见上方）
demo-no-match = 实验 { $lab } 的规约中没有名称包含“{ $filter }”的测试
demo-done = 共演示了 { $ran } 个场景。现在先做预测，再亲手试试：labs/{ $dir }（cargo lab check { $number }）。

## cargo lab tour：博文中的论断

tour-start = tour：在本机上检验博文中的论断（Linux { $kernel }，{ $arch }）。
tour-building = 正在构建各实验的参考答案……
tour-progress = [{ $i }/{ $n }] 实验 { $lab } { $title } { $mark } { $passed } 个场景，{ $claims } 条论断（{ $secs } 秒）
tour-could-not-run = ✗ 有 { $failed } 个场景没能按规约运行：
tour-unseen = ✗ 实验说明中有 { $unseen } 条论断没有被任何场景观察到
tour-heading = 误解与事实：本机的实测结果
tour-lab = 实验 { $lab } —— { $title }
tour-claim = 博文 { $post }：{ $claim }
tour-holds = 成立
tour-fails = 不成立
tour-partly = 部分成立
tour-detail = （{ $detail }）
tour-verdict = 本机：{ $here } · 实验说明：{ $sheet }
tour-differs = 本机：{ $here } · 实验说明：{ $sheet }——本机结果不同：
tour-seen = 本机所见：{ $observed }
tour-seen-as = { $verdict }：{ $observed }
tour-more-runs = （另有 { $count } 次运行结果相同）
tour-not-confirmed = 本机未观察到 · 实验说明：{ $sheet }
tour-summary = 共 { $total } 条论断，本机得出：{ $holds } 条成立，{ $fails } 条不成立，{ $partly } 条部分成立——用时 { $secs } 秒。
tour-all-agree = 本机得出的结论与实验说明全部一致：共 { $agree } 条。
tour-some-differ = { $agree } 条与实验说明一致；{ $differ } 条在本机得出了不同的结论（上方标有“本机结果不同”，并附所见）。
tour-unobserved = ✗ 有 { $unseen } 条论断没有被任何场景观察到。
tour-broken = ✗ 有 { $broken } 个实验没能按规约运行全部场景（见上方）。
tour-computed = 以上每个结论都由规约在本机上观察到的事实得出（tests/labNN.rs），而不是照抄实验说明。

## cargo lab reset

reset-no-git = 这里的 git 中找不到 { $path }（这是本套件的克隆吗？）：请重新下载本套件，以取回起始代码
reset-already = labs/{ $dir }/{ $file } 本来就是起始代码：无需恢复。
reset-needs-yes = labs/{ $dir }/{ $file } 中有你的修改；`cargo lab reset { $number } --yes` 会丢弃这些修改（但会保留一份副本）
reset-ask = 要丢弃你对 labs/{ $dir }/{ $file } 的修改、恢复起始代码吗？会保留一份副本。[y/N]
reset-nothing = 什么也没有改动。
reset-cannot-copy = 无法保留副本：{ $error }
reset-done = labs/{ $dir }/{ $file } 已恢复为起始代码。你的版本保存在：{ $backup }

## cargo lab doctor 与 reset：其余的消息

doctor-title = Linux { $kernel }——是什么把实验程序的信号限制在它自己的场景之内：
doctor-each-layer =
    每一层单独都能堵住实验程序向场景外的进程发送信号的所有途径：
    tests/harness/tests/hostile.rs 把这些途径逐一试过（cargo test -p harness --test kit hostile）。
reset-cannot-run-git = 无法运行 git：{ $error }
reset-cannot-write = 无法写入 { $path }：{ $error }

## 测试框架：失败报告（标记 `── proclab:` 在各种语言中都保持不变）

report-lab-yours = { $package }（你在 labs/ 中的代码）
report-lab-reference = { $package }（参考答案）
report-args = ，参数 { $args }
report-setup = （{ $how }）
report-expected = 预期：{ $what }
report-why = 原因：{ $why }
report-observed = 实际观察到（+{ $ms } 毫秒）：
report-reaped = 由沙箱回收：
report-steps = 步骤：
report-output = 实验程序的 { $stream }：
report-output-last = 实验程序的 { $stream }（共 { $total } 行，只显示最后 { $keep } 行）：
report-trace = 跟踪记录：
report-trace-last = 跟踪记录（最后 { $n } 条）：
report-expect-eq = { $what }：{ $expected }，实际为 { $observed }

## 测试框架：讲解（cargo lab demo）

narrate-start = { $command }   （在沙箱中：新的会话，子进程收割者为 { $root }）
narrate-start-no-subreaper = { $command }   （在沙箱中：新的会话，沙箱是其 PID 命名空间的 { $root } 号进程，不是子进程收割者）
narrate-ok = ✓ { $what }   （+{ $ms } 毫秒）
narrate-printed = 实验程序输出 │ { $line }
narrate-claim = ★ 论断 { $id }：{ $verdict }——{ $evidence }
narrate-signal = 向 { $pid }（{ $role }）发送 { $signal }
narrate-signal-group = 向进程组 { $pgid } 发送 { $signal }
claim-holds = 成立
claim-fails = 不成立
claim-partly = 部分成立

## 测试框架：等待的是什么，以及为什么它已不可能发生

wait-sandbox-ready = 沙箱把场景准备好
wait-no-longer = { $what }——但场景中的每个进程在 +{ $ms } 毫秒时都已结束，这已不可能再发生
wait-role = 有一个进程宣布自己的角色是“{ $role }”
wait-roles = 有 { $n } 个进程宣布自己的角色是“{ $role }”
wait-note = 进程 { $pid } 记下“{ $key }”
wait-notes = 出现 { $n } 条“{ $key }”记录
wait-pause = 有一个进程到达暂停点“{ $label }”
wait-releasable = 进程 { $pid } 停在暂停点，可以被放行（{ $error }）
wait-exit = 进程 { $pid } 结束，并被沙箱回收
wait-note-again = 进程 { $pid } 再次记下“{ $key }”（在 +{ $ms } 毫秒之后）
wait-lab-starts = 沙箱启动实验程序
wait-empty = 场景中的每个进程都已退出并被回收
wait-empty-done = 每个进程都已退出并被回收
wait-closed = 实验程序的每个进程都关闭了 { $stream }（都已退出）
wait-proc-zombie = { $what }——但进程 { $pid } 已经结束（现在是僵尸进程）
wait-proc-ended = { $what }——但进程 { $pid } 已经结束：{ $exit }
wait-proc-last-seen = 最后一次看到进程 { $pid } 时：状态 { $state }，在 { $wchan } 中
wait-proc-gone = 进程 { $pid } 已不存在
wait-and = { $what }；{ $more }
wait-for-window = { $what }（持续 { $ms } 毫秒）

## 测试框架：卡住时每个进程停在哪里

stuck-who-role = { $role } 进程（{ $pid }）
stuck-who = 进程 { $pid }（{ $comm }）
stuck-running = 正在运行
stuck-asleep = 在睡眠
stuck-sending = 正处在发送信号的系统调用中（沙箱正在检查它的目标）
stuck-asleep-in = 在 { $wchan } 中睡眠
stuck-stopped = 已停止
stuck-a-zombie = 是僵尸进程
stuck-state = 处于状态 { $state }
stuck-in-handler = { $who }仍在它的 SIG{ $sig } 信号处理函数中，{ $state }（处理函数运行期间 SIG{ $sig } 被阻塞）
stuck-busy = { $who }一直在运行：{ $state }，CPU 时间不断增长——是不是有个循环停不下来？
stuck-in-waitpid = { $who }阻塞在 waitpid 中
stuck-at-pause = { $who }停在暂停点“{ $label }”等待
stuck-at-a-pause = { $who }停在一个暂停点，等待规约放行
stuck-zombie = { $who }是僵尸进程：它已经退出，但它的父进程还没有等待（wait）它
stuck-is = { $who }{ $state }
stuck-question = { $place }——{ $question }
stuck-and = ；
stuck-waiting = 仍在等待：{ $what }（已等 { $ms } 毫秒）
stuck-after = { $secs } 秒后，{ $headline }

## 测试框架：进程为什么中止

why-allocated = 信号处理函数分配了内存（format!、String、Vec、Box……）：这不是异步信号安全的——malloc 执行到一半被打断，可能造成死锁。信号处理函数里只能用：原子变量、write(2)、kill、waitpid、labkit::note。
why-printed = 你的信号处理函数打印了输出：这不是异步信号安全的。它的 println! 发现 stdout 的缓冲区已被它打断的那段代码借用，于是 panic；而 panic 无法离开信号处理函数：进程中止（SIGABRT）。在信号处理函数里请用 write(2) 输出（对 fd 1 调用 nix::unistd::write，或用 labkit::note），或者只设置一个原子标志，回到主代码里再打印。
why-panicked = 实验程序的一个进程 panic 了：“{ $message }”（它的 stderr 见下方）

## 测试框架：每个进程只扮演一次自己的角色

parts-quoted = “{ $role }”
parts-then = 、
parts-role = （“{ $role }”）
parts-twice = 每个进程只扮演一次自己的角色——但进程 { $pid } 先后宣布了{ $roles }：演完自己的角色后，它又继续执行了不属于它的代码（是不是子进程从自己的分支返回到了 main？）
parts-extra = 应有 { $n } 个进程扮演角色“{ $role }”——实际却有 { $count } 个：{ $pids }。进程 { $extra } 不在预期之中：是不是有进程一路执行进了调用 fork 的代码（子进程做完自己的分支后，又演起了父进程）？
parts-pause = 只有进程 { $pids } 应停在暂停点“{ $label }”——但进程 { $pid }{ $role }也停在了那里：一个场景没有预料到的进程正在执行这段代码（是不是子进程一路执行进了父进程的代码？）
parts-outlived = 每个进程演完自己的角色就应结束——但程序的第一个进程 { $main } 已经结束，进程 { $pid }{ $role }（{ $comm }）却还在运行，而场景从未遇到过它：这是一个比自己的角色活得更久的子进程（它是不是没有退出，而是返回到了 main 的代码里？）

## 测试框架：场景是怎样启动的

setup-session-leader = 作为会话首进程启动（setsid）
setup-hold-stdout = 暂停时占住 stdout
setup-terminal = 在终端上运行
setup-hold-println = 停在它打印“{ $text }”的 println! 内部
setup-gate-pdeathsig = 停在 prctl(PR_SET_PDEATHSIG) 之前
setup-no-subreaper = 没有子进程收割者
setup-ignoring = 启动时忽略 { $signal }
list-separator = ，

## 测试框架：进程如何结束，以及跟踪记录

exit-code = 以退出码 { $code } 退出
exit-signal = 被信号 { $n }（SIG{ $name }）杀死
exit-signal-core = 被信号 { $n }（SIG{ $name }）杀死，并转储了 core
trace-role = { $pid } 是 { $role }
trace-note = { $pid } 记下 { $key } = { $value }
trace-pause = { $pid } 暂停：{ $label }
trace-spawn = 沙箱启动了实验程序：{ $pid }
trace-reaped = 沙箱回收了 { $pid }：{ $exit }
trace-empty = 沙箱：已没有任何进程
trace-root = 沙箱是 { $pid }（在运行测试的进程看来）
trace-ready = 沙箱就绪：{ $layers }
trace-refused = 沙箱拒绝了一个信号：{ $what }
trace-error = 沙箱出错：{ $error }
trace-synced = 沙箱：跟踪记录已同步（{ $n }）

## 测试框架：信号、终端、进程树

act-can-signal = 可以向 { $target } 发送 { $signal }——{ $why }
terminal-type = 可以在终端上输入按键（{ $error }）
terminal-shows = { $what }：终端显示 { $text }
terminal-waited = { $what }（等了 { $ms } 毫秒；终端显示 { $text }）
terminal-foreground = 终端报告它的前台进程组（{ $error }）
target-pid = 进程 { $pid }
target-group = 进程组 { $pgid }
refused-reserved = 拒绝向 { $target } 发送信号：≤ 1 的 id 指的是 init、调用者所在的进程组或所有进程
refused-runner = 拒绝向 { $target } 发送信号：它是运行测试的进程，或与之同组、同会话
refused-sandbox = 拒绝向 { $target } 发送信号：它是沙箱，不属于场景
refused-outside = 拒绝向 { $target } 发送信号：它不是本场景中还活着的进程
refused-group = 拒绝向进程组 { $pgid } 发送信号：{ $why }
refused-os = 无法向 { $target } 发送信号：{ $error }
group-no-member = 它没有成员
group-harness-member = 成员 { $pid } 属于测试框架
group-outside-member = 成员 { $pid }（在运行测试的进程看来）在场景之外
tree-empty = （已没有任何进程）
tree-more-zombies = { $pid } { $label } 另有 { $n } 个僵尸子进程：pid { $first }–{ $last }
tree-more-alike = { $pid } { $label } 另有 { $n } 个同样的子进程：pid { $first }–{ $last }

## 测试框架：沙箱的各层（cargo lab list、cargo lab doctor）

layers-none-available = 本机没有任何可用的沙箱层，实验程序可能向你的任何进程发送信号。{ $why }（`cargo lab doctor` 会解释；PROCLAB_LAYERS=none 表示不加保护地运行）
layers-summary = 沙箱层：{ $marks }——{ $used }
layers-using = 使用 { $layers }
layers-cannot-run = 无法运行：{ $error }
layers-limits = 限制
layers-bound = 每个场景：最多 { $bound }；不产生 core 文件
layers-no-bound = 没有进程数上限：{ $error }；不产生 core 文件
layers-run-with = 场景运行时使用：{ $layers }
layers-run-with-var = 场景运行时使用：{ $layers }（来自 PROCLAB_LAYERS）
layers-seccomp-left-out = （本机同时具备 Landlock 和 PID 命名空间时，默认不启用 seccomp：这两层各自单独就能堵住每一条出路，而 seccomp 对每个信号的检查让实验的规格测试慢了约 11%。PROCLAB_LAYERS=all 可以把它加上。）
layers-cannot = 场景无法运行：{ $error }
layer-available = 可用（{ $detail }）
layer-missing = 不可用：{ $error }
layer-landlock = Landlock 信号作用域：内核拒绝实验程序向其域之外的进程发送任何信号，无论通过哪个系统调用或 ABI（kill、tkill、tgkill、pidfd、32 位 int 0x80、F_SETOWN）。需要启用了 Landlock 的 Linux >= 6.12（ABI >= 6）。
layer-pidns = PID 命名空间：场景拥有自己的一套 pid；沙箱是其中的 1 号进程，实验程序无法向它发送信号，也无法指名场景之外的任何进程。沙箱一死，内核就会杀死命名空间中的所有进程。非特权用户需要用户命名空间（有些发行版会限制它：kernel.unprivileged_userns_clone、kernel.apparmor_restrict_unprivileged_userns）。
layer-seccomp = seccomp：沙箱检查实验程序每一个发送信号的调用，只有目标是本场景的进程时才放行；其他 ABI 的调用得到 ENOSYS；ptrace 和跨进程读写内存的调用得到 EPERM。需要 Linux >= 5.5。它唯一的漏洞：在检查与调用之间的几微秒里，pid 被复用，或者 pidfd 被实验程序的另一个线程换掉。

## cargo lab --help（每个命令自己的 --help 在第一行之后是它的文档注释，为英文）

help-about = proclab：关于进程、信号与 Linux 内核的实验。
help-long-about =
    proclab：关于进程、信号与 Linux 内核的实验。

    学生编辑 labs/NN-topic/src/main.rs，然后运行 `cargo lab check N`。讲师在每台机器上运行一次 `cargo lab verify`。
help-examples =
    示例：
      cargo lab list            所有实验、你的结果、下一个要做的实验
      cargo lab check 2         用规约检验 labs/02-zombie
      cargo lab hint 2          再看一条提示
      cargo lab demo 2          一步一步地展示参考答案的进程树
      cargo lab doctor          本机用什么把每个实验关在沙箱里
      cargo lab verify          讲师用：在本机检查整个套件
help-color = 给结果上色：auto（在终端上，除非设置了 NO_COLOR）、always、never
help-lang = 消息、提示和实验说明的语言：en 或 zh（中文）。默认：按 locale（LC_ALL、LC_MESSAGES、LANG：zh_* 即中文）
help-list = 列出所有实验及其标题、你上一次的结果、已完成的数量和下一个实验
help-check = 用实验的规约检查你的代码（labs/NN-*）并解释结果：预期的进程树和实际看到的进程树，以及未通过的测试所对应的提示
help-watch = 每次保存实验的源码时重新检查（按 Ctrl-C 停止）
help-hint = 显示实验的下一条提示（每次多给一条）
help-demo = 在沙箱中运行参考答案，并讲解进程树发生了什么
help-verify = 讲师用：证明每个参考答案都通过规约、每个未改动的起始代码都因断言（而不是编译错误或超时）而通不过规约；运行错误答案集；检查构建出的讲义
help-judge = 讲师用：运行错误答案集（tests/wrong/labNN/*.rs）：每个错误答案都必须被它的 `rejected-by` 测试以断言拒绝；每个正确答案都必须被接受。每个答案都在实验的临时副本（target/proclab/judge）中构建，从不在 labs/ 中构建
help-tour = 在本机运行每个实验的参考场景，把博文中的论断和本机的实测结果并列打印：成立、不成立或部分成立
help-book = 讲师用：构建讲义，英文版（book/book）和中文版（book/book/zh-CN，由 book/po/zh-CN.po 生成，用 Pagefind 搜索），并按读者拿到的样子检查：没有 mdBook 警告，构建出的 HTML 中每个链接和 #锚点都能解析，每一页都有语言切换器，代码只按 ANCHOR 名引用；以及翻译目录：messages.pot 是最新的，列出每章的已译比例，po/complete.txt 中列出的章节里没有 fuzzy 或未翻译的条目
help-reset = 恢复实验的起始代码（会先询问；保留一份你的版本的副本）
help-grade = 讲师用：无界面地为 labs/ 评分——运行每个实验的规约，分值取自 grading.toml——并写出 Gradescope 的 results.json、JUnit XML 报告和 `Score X/Y`。只有所有测试都通过时才以 0 退出（GitHub Classroom 的命令评分器）
help-figures = 讲师用：根据参考答案的真实运行绘制讲义中的插图（book/src/figures/labNN-*.svg）：每次观察时的进程树、谁向谁发送了信号、时间线
help-doctor = 说明本机用什么把每个实验关在沙箱里：内核提供哪些层（Landlock、PID 命名空间、seccomp）、正在使用哪些、每一层能阻止什么
