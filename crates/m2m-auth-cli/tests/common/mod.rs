//! What the CLI test files share: the binary with a clean environment, and running it.

#![allow(dead_code)] // each test file uses its own part

use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_m2m-auth");

/// The binary with no M2M_* variable of the machine leaking into a test.
pub fn cli() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("M2M_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs `cmd`: its output, stdout and stderr as text.
pub fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run m2m-auth");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}
