//! The PID-namespace layer: the scenario lives in a PID namespace of its own, whose init
//! (pid 1) is the sandbox. The lab cannot name a process outside (its pids mean nothing out
//! there), init cannot be signalled from inside (the kernel drops every signal init has no
//! handler for), and when init dies the kernel kills everything in the namespace: no leak is
//! possible. A user namespace comes with it, so that no privilege is needed, and a mount
//! namespace, so that the scenario's `/proc` shows the scenario's pids.
//!
//! The sandbox process calls [`enter`]; its next child is pid 1 of the new namespace, which
//! calls [`mount_proc`] and becomes the scenario's sandbox. The caller stays outside as a stub
//! that waits for it (and kills it if the stub itself is killed: PR_SET_PDEATHSIG).

use super::sys;

/// unshare(user, pid, mount) and map our own uid and gid to themselves.
pub fn enter() -> Result<(), String> {
    // SAFETY: plain system calls; the sandbox is single-threaded here.
    let (uid, gid) = unsafe { (sys::getuid(), sys::getgid()) };
    if unsafe { sys::unshare(sys::CLONE_NEWUSER | sys::CLONE_NEWPID | sys::CLONE_NEWNS) } != 0 {
        return Err(sys::last_error("unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS)"));
    }
    sys::write_file("/proc/self/setgroups", "deny")?;
    sys::write_file("/proc/self/uid_map", &format!("{uid} {uid} 1"))?;
    sys::write_file("/proc/self/gid_map", &format!("{gid} {gid} 1"))?;
    Ok(())
}

/// In pid 1 of the new namespace: a private copy of the mounts with a `/proc` of our own.
pub fn mount_proc() -> Result<(), String> {
    let root = sys::cstr("/");
    let proc_ = sys::cstr("proc");
    let target = sys::cstr("/proc");
    // SAFETY: NUL-terminated strings that outlive the calls.
    unsafe {
        if sys::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            sys::MS_REC | sys::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(sys::last_error("mount --make-rprivate /"));
        }
        if sys::mount(
            proc_.as_ptr(),
            target.as_ptr(),
            proc_.as_ptr(),
            sys::MS_NOSUID | sys::MS_NODEV | sys::MS_NOEXEC,
            std::ptr::null(),
        ) != 0
        {
            return Err(sys::last_error("mount -t proc proc /proc"));
        }
    }
    Ok(())
}

/// In pid 1: die with the stub (SIGKILL on its death, which takes the whole namespace down).
pub fn die_with_parent() {
    // SAFETY: prctl with integer arguments.
    unsafe { sys::prctl(sys::PR_SET_PDEATHSIG, sys::SIGKILL as u64, 0, 0, 0) };
}
