# proclab 的中文消息。每个键都与 en.ftl 中的英文一一对应，变量相同（由目录的测试检查）。
# 术语与本书的词汇表一致：实验（lab）、测试规格（spec）、沙箱（sandbox）、参考答案（solution）、
# 初始代码（starter）、提示（hint）、文章（post）、说法（claim）、场景（scenario）。

## cargo lab：命令行

cli-which-command = 要运行哪个命令？list、check N、watch N、hint N、demo N、reset N、verify、tour、grade 或 doctor（试试 `cargo lab --help`）
cli-bad-arguments = { $message }（试试 `cargo lab --help`）
cli-interrupted = cargo lab：已中断；正在进行的运行已停止
cli-cannot-run-cargo = 无法运行 cargo：{ $error }

## 查找实验

lab-not-a-number = “{ $arg }”不是实验编号（现有实验：{ $names }）
lab-no-such = 没有实验 { $number }（现有实验：{ $names }）
lab-none-found = 一个也没有
lab-none-in = 在 { $dir } 中没有找到实验

## 构建

build-first = 首次构建 { $what }：cargo 会先编译一次本套件的依赖（2 核约 3 分钟）；之后每次构建只需几秒。
build-fails = { $what } 无法编译（cargo 的报错见上方）
build-what-solution = 实验 { $lab } 的参考答案
build-what-solutions = 各实验的参考答案

## cargo lab list

list-col-lab = 实验
list-col-code = 你的代码
list-done = 已完成 { $done } / { $total } 个实验。
list-next = 下一个：实验 { $lab }，{ $title }——先读 labs/{ $dir }/{ $sheet }，再运行 `cargo lab check { $number }`。
list-all-pass = 每个实验都通过了测试规格。把你的代码和 solutions/ 中的参考答案比较一下，再读读书中的讨论题。
list-commands = cargo lab check N · cargo lab hint N · cargo lab demo N · cargo lab reset N

## cargo lab list 显示的上一次结果

status-not-checked = · 尚未检查
status-passed = ✓ 已通过
status-no-compile = ✗ 无法编译
status-timeout = ✗ 未通过（超时）
status-failing = ✗ 未通过

## cargo lab check 与 watch：判定结果

check-building = 实验 { $lab } — { $title }：正在构建你的代码（labs/{ $dir }）……
check-no-compile = ✗ labs/{ $dir } 还无法编译：先修正上面的错误（从第一个开始）。
check-running = 正在沙箱中运行测试规格（tests/lab{ $lab }.rs）……
check-pass = ✓ 实验 { $lab } 通过了测试规格：{ $passed } 个测试全部通过（{ $secs } 秒）。
check-compare = 和参考答案比较一下：solutions/{ $dir }/src/main.rs
check-timeout = ✗ 测试规格在 { $secs } 秒内没有结束，已被停止。
check-fail = ✗ 实验 { $lab }：{ $total } 个测试中有 { $failed } 个未通过（{ $secs } 秒）。
check-hint = 提示 { $n }：{ $hint }
verdict-hint-more = （更多提示：cargo lab hint { $lab }）
watch-waiting = 正在监视 labs/{ $dir }/src——保存修改后会重新检查（按 Ctrl-C 停止）

## cargo lab hint

hint-none = 实验 { $lab } 在 { $file } 中没有提示
hint-reset = 实验 { $lab }：提示从第 1 条重新开始。
hint-of-all = 提示 { $n } / { $total }：
hint-header = 实验 { $lab } — 提示 { $n } / { $total }：
hint-last = 这是最后一条提示。（运行 cargo lab hint { $number } --reset 从头再来）
hint-next = （再运行一次可看提示 { $n }）
hint-untranslated = （还没有 { $file }：以下提示为英文）

## cargo lab demo

demo-building = 实验 { $lab } — { $title }：正在构建参考答案……
demo-title = 实验 { $lab } — { $title }
demo-intro =
    参考答案（solutions/{ $dir }）在沙箱中运行。每一步都按 /proc 的报告画出进程树：
    pid、角色、状态（R/S/Z）、进程组、信号。
demo-failed = 实验 { $lab } 的演示失败了（见上方）
demo-no-match = 实验 { $lab } 的测试规格中没有名称包含“{ $filter }”的测试
demo-done = 共演示了 { $ran } 个场景。现在先预测，再亲手试试：labs/{ $dir }（cargo lab check { $number }）。

## cargo lab tour：文章中的说法

tour-start = tour：在本机上检验文章中的说法（Linux { $kernel }，{ $arch }）。
tour-building = 正在构建各实验的参考答案……
tour-progress = [{ $i }/{ $n }] 实验 { $lab } { $title } { $mark } { $passed } 个场景，{ $claims } 条说法（{ $secs } 秒）
tour-could-not-run = ✗ 有 { $failed } 个场景无法按测试规格运行：
tour-unseen = ✗ 实验说明中有 { $unseen } 条说法没有被任何场景观察到
tour-heading = 误解与事实：本机的实测结果
tour-lab = 实验 { $lab } — { $title }
tour-claim = 文章 { $post }：{ $claim }
tour-holds = 成立
tour-fails = 不成立
tour-partly = 部分成立
tour-detail = （{ $detail }）
tour-verdict = 本机：{ $here } · 实验说明：{ $sheet }
tour-differs = 本机：{ $here } · 实验说明：{ $sheet }——本机结果不同：
tour-seen = 本机所见：{ $observed }
tour-seen-as = { $verdict }：{ $observed }
tour-more-runs = （另有 { $count } 次运行）
tour-not-confirmed = 本机未观察到 · 实验说明：{ $sheet }
tour-summary = 共 { $total } 条说法，本机得出：{ $holds } 条成立，{ $fails } 条不成立，{ $partly } 条部分成立——用时 { $secs } 秒。
tour-all-agree = 本机得出的结论与实验说明一致：{ $agree } 条全部一致。
tour-some-differ = { $agree } 条与实验说明一致；{ $differ } 条在本机不同（上方标有“本机结果不同”，并附所见）。
tour-unobserved = ✗ 有 { $unseen } 条说法没有被任何场景观察到。
tour-broken = ✗ 有 { $broken } 个实验未能按测试规格运行全部场景（见上方）。
tour-computed = 以上每个结论都由本机上测试规格观察到的事实得出（tests/labNN.rs），而不是照抄实验说明。

## cargo lab reset

reset-no-git = 这里的 git 中没有 { $path }（这是本套件的克隆吗？）：请重新下载本套件以取回初始代码
reset-already = labs/{ $dir }/{ $file } 已经是初始代码：无需操作。
reset-needs-yes = labs/{ $dir }/{ $file } 有你的修改；`cargo lab reset { $number } --yes` 会丢弃它们（会保留一份副本）
reset-ask = 丢弃你对 labs/{ $dir }/{ $file } 的修改并恢复初始代码吗？会保留一份副本。[y/N]
reset-nothing = 没有任何改动。
reset-cannot-copy = 无法保留副本：{ $error }
reset-done = labs/{ $dir }/{ $file } 已恢复为初始代码。你的版本：{ $backup }
