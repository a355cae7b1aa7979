//! Builds `proclab-sandbox` (sandbox/*.rs, std only) and the gate library (gate/lib.rs, no_std)
//! with the same rustc that builds the harness, and tells the harness where they are. A spec then finds it with `env!("PROCLAB_SANDBOX")`,
//! whichever package the spec is compiled for.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=sandbox");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let exe = out.join("proclab-sandbox");
    let status = Command::new(rustc)
        .args(["--edition", "2024", "--crate-name", "proclab_sandbox", "-C", "opt-level=1"])
        .args(["-C", "debuginfo=0", "-o"])
        .arg(&exe)
        .arg("sandbox/main.rs")
        .status()
        .expect("build.rs: cannot run rustc to build proclab-sandbox");
    assert!(status.success(), "build.rs: rustc failed to build sandbox.rs");
    println!("cargo::rustc-env=PROCLAB_SANDBOX={}", exe.display());

    // The gates (gate/lib.rs, no_std): preloaded into a lab when its spec opens a window.
    println!("cargo::rerun-if-changed=gate");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let lib = out.join("libproclab_gate.so");
    let status = Command::new(rustc)
        .args(["--edition", "2024", "--crate-type", "cdylib", "--crate-name", "proclab_gate"])
        .args(["-C", "panic=abort", "-C", "opt-level=1", "-C", "debuginfo=0", "-o"])
        .arg(&lib)
        .arg("gate/lib.rs")
        .status()
        .expect("build.rs: cannot run rustc to build the gate library");
    assert!(status.success(), "build.rs: rustc failed to build gate/lib.rs");
    println!("cargo::rustc-env=PROCLAB_GATE_LIB={}", lib.display());
}
