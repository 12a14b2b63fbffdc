//! Where things are, and how to start the tools that xtask drives.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The checkout xtask works in.
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn locate() -> Workspace {
        // xtask/ sits directly under the workspace root.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().unwrap_or(manifest).to_path_buf();
        Workspace { root }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Cargo's target directory (honours `CARGO_TARGET_DIR`).
    pub fn target_dir(&self) -> PathBuf {
        match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.path("target"),
        }
    }

    /// A native binary built by `cargo build [--release] -p <package>`.
    pub fn binary(&self, name: &str, release: bool) -> PathBuf {
        let profile = if release { "release" } else { "debug" };
        self.target_dir().join(profile).join(name)
    }

    /// `cargo` (the same one that runs xtask), started in the workspace root.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.args(args).current_dir(&self.root);
        command
    }

    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command.args(args).current_dir(&self.root);
        command
    }
}

/// Runs a command with inherited stdio after echoing it, and fails on a non-zero exit.
///
/// # Errors
/// The command could not start or did not exit with status 0.
pub fn run(command: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(command));
    let line = program_and_args(command);
    let status = command
        .status()
        .map_err(|error| format!("cannot start `{line}`: {error}"))?;
    check(status, &line)
}

/// What a program writes to stdout when `bytes` are its stdin (`gzip`, `sha384sum`).
///
/// # Errors
/// The program is missing or fails.
pub fn filter(program: &str, args: &[&str], bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = bytes.to_vec();
    // Write from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|error| format!("{program} failed: {error}"))?;
    writer
        .join()
        .map_err(|_| format!("{program}'s writer panicked"))?
        .map_err(|error| format!("cannot feed {program}: {error}"))?;
    if !output.status.success() {
        return Err(format!("{program} failed ({})", output.status));
    }
    Ok(output.stdout)
}

/// Like [`run`], and also returns what the command wrote to stderr, which is still shown as it
/// comes, so that a caller can tell one failure from another by its message.
pub fn run_keeping_stderr(command: &mut Command) -> (Result<(), String>, String) {
    println!("$ {}", describe(command));
    let line = program_and_args(command);
    let mut child = match command.stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            return (
                Err(format!("cannot start `{line}`: {error}")),
                String::new(),
            )
        }
    };
    let mut kept = Vec::new();
    if let Some(mut stderr) = child.stderr.take() {
        let mut chunk = [0; 8192];
        while let Ok(read @ 1..) = stderr.read(&mut chunk) {
            let _ = std::io::stderr().write_all(&chunk[..read]);
            kept.extend_from_slice(&chunk[..read]);
        }
    }
    let result = match child.wait() {
        Ok(status) => check(status, &line),
        Err(error) => Err(format!("`{line}`: {error}")),
    };
    (result, String::from_utf8_lossy(&kept).into_owned())
}

/// Like [`run`], but stops the command and everything it started after `limit`, so that one
/// hung stage cannot eat the whole CI run.
///
/// # Errors
/// The command could not start, did not exit with status 0, or ran out of time.
pub fn run_with_limit(command: &mut Command, limit: Duration) -> Result<(), String> {
    println!("$ {}", describe(command));
    let line = program_and_args(command);
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start `{line}`: {error}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return check(status, &line),
            Ok(None) if started.elapsed() < limit => thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                kill_tree(child.id());
                let _ = child.wait();
                return Err(format!(
                    "`{line}` took longer than {} s and was stopped",
                    limit.as_secs()
                ));
            }
            Err(error) => return Err(format!("`{line}`: {error}")),
        }
    }
}

/// Kills a process and all its descendants (cargo does not pass a kill on to its children).
/// Each process is stopped before its children are listed, so none can start or react to
/// another while the tree is taken down.
pub fn kill_tree(pid: u32) {
    let mut tree = Vec::new();
    stop_tree(pid, &mut tree);
    for pid in tree {
        signal(pid, "-KILL");
    }
}

fn stop_tree(pid: u32, tree: &mut Vec<u32>) {
    signal(pid, "-STOP");
    tree.push(pid);
    for child in children(pid) {
        stop_tree(child, tree);
    }
}

fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|id| id.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

pub fn check(status: ExitStatus, line: &str) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// Runs a command quietly and returns its stdout if it exited with status 0.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The command line as a person would type it, environment overrides first.
pub fn describe(command: &Command) -> String {
    let mut line = String::new();
    for (key, value) in command.get_envs() {
        // PATH is only ever extended; printing it would bury the command.
        if let (Some(value), false) = (value, key == "PATH") {
            let _ = write!(
                line,
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            );
        }
    }
    line + &program_and_args(command)
}

/// The program and its arguments, for error messages and the test summary.
pub fn program_and_args(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    // Show `cargo`, not the absolute path cargo hands us in $CARGO.
    let program = Path::new(program.as_ref())
        .file_name()
        .map_or(program.clone(), |name| name.to_string_lossy());
    let mut line = program.into_owned();
    for arg in command.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains([' ', '"', '\'']) {
            let _ = write!(line, " '{arg}'");
        } else {
            let _ = write!(line, " {arg}");
        }
    }
    line
}

/// Whether `program` is found on PATH (or is an existing path).
pub fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

pub fn is_root() -> bool {
    // std has no geteuid; `id -u` is in coreutils.
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_over_its_limit_is_stopped_with_its_children() {
        let marker = env::temp_dir().join(format!("xtask-limit-{}", std::process::id()));
        // The grandchild would create the marker after 2 s if it survived the kill.
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let started = Instant::now();
        let result = run_with_limit(
            Command::new("sh").args(["-c", &script]),
            Duration::from_millis(500),
        );
        assert!(result.unwrap_err().contains("took longer than"));
        assert!(started.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_secs(3));
        assert!(
            !marker.exists(),
            "a child of the stopped command kept running"
        );
    }

    #[test]
    fn stderr_is_kept_and_the_failure_still_reported() {
        let (result, stderr) = run_keeping_stderr(
            Command::new("sh").args(["-c", "echo out; echo 'error: why' >&2; exit 2"]),
        );
        assert!(result.unwrap_err().contains("failed"));
        assert_eq!(stderr, "error: why\n");
    }

    #[test]
    fn a_failing_command_is_an_error_naming_it() {
        let error = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert!(
            error.contains("sh -c 'exit 3'") && error.contains("3"),
            "{error}"
        );
    }
}
