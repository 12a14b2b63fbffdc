//! A real PostgreSQL server for the tests: `initdb` into a temporary folder as the `postgres`
//! user (the server refuses to run as root), started on a free loopback port, stopped and
//! removed when the last test using it is done.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub struct Cluster {
    dir: super::TempDir,
    bin: PathBuf,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NETREACH_PG_BIN") {
        return dir.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().expect(
        "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin \
         (apt-get install postgresql; or set NETREACH_PG_BIN)",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// Runs one of the cluster's tools and returns what it printed (see [`run_checked`]).
    fn run(&self, tool: &str, args: &[&str]) -> String {
        run_checked(&self.bin.join(tool), args, None)
    }

    /// A cluster of the caller's own, not shared: for a test that stops it.
    pub fn start() -> Cluster {
        Cluster::start_with(None)
    }

    /// A cluster of the caller's own that takes TCP connections over TLS only (`ssl=on`,
    /// `hostssl` in pg_hba.conf), with this certificate chain and key (PEM).
    #[allow(dead_code)] // used by one test binary
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Cluster {
        Cluster::start_with(Some((cert_pem, key_pem)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Cluster {
        let bin = bin_dir();
        let dir = super::TempDir::new("pg");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = dir.path().join("data");
        run_checked(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            None,
        );
        let mut tls_options = String::new();
        if let Some((cert, key)) = tls {
            use std::os::unix::fs::PermissionsExt;
            let (cert_file, key_file) = (data.join("server.crt"), data.join("server.key"));
            std::fs::write(&cert_file, cert).unwrap();
            std::fs::write(&key_file, key).unwrap();
            // The server refuses a key that others may read.
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .unwrap();
            if is_root() {
                let ok = Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&data)
                    .status()
                    .unwrap();
                assert!(ok.success());
            }
            tls_options = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert_file.display(),
                key_file.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200{tls_options}",
            dir.path().display()
        );
        let log = dir.path().join("server.log");
        run_checked(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
            Some(&log),
        );
        Cluster { dir, bin, port }
    }

    /// The server's processes: the postmaster and its children (the backends serving
    /// connections, the background workers).
    pub fn processes(&self) -> Vec<u32> {
        let pid_file = self.dir.path().join("data/postmaster.pid");
        let postmaster: u32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // `pid (name) state ppid ...`: the name may hold spaces, so read after its ')'.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok());
            if parent == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Sends `signal` (`STOP`, `CONT`) to every process of the server.
    pub fn signal(&self, signal: &str) {
        let pids: Vec<String> = self.processes().iter().map(u32::to_string).collect();
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .args(&pids)
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{signal} {pids:?}");
    }

    /// The cluster shared by the tests of this process, started on first use.
    pub fn shared() -> Arc<Cluster> {
        static SHARED: Mutex<Option<Weak<Cluster>>> = Mutex::new(None);
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cluster) = slot.as_ref().and_then(Weak::upgrade) {
            return cluster;
        }
        let cluster = Arc::new(Cluster::start());
        *slot = Some(Arc::downgrade(&cluster));
        cluster
    }

    /// A new empty database; returns its name.
    pub fn create_database(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name],
        );
        name
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Rows of `sql`, each as tab-separated text.
    pub fn query(&self, db: &str, sql: &str) -> Vec<String> {
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                db,
                "-AtX",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root.
fn run_as_postgres(tool: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    };
    // A working directory postgres can enter (runuser keeps ours, which may be /root).
    cmd.args(args).current_dir("/").output().unwrap()
}

/// Runs `tool` as [`run_as_postgres`] does and returns what it printed; panics with its error
/// output (and the server's `log`, when given) if it fails.
fn run_checked(tool: &Path, args: &[&str], log: Option<&Path>) -> String {
    let out = run_as_postgres(tool, args);
    assert!(
        out.status.success(),
        "{}: {}{}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr),
        log.map(|log| std::fs::read_to_string(log).unwrap_or_default())
            .unwrap_or_default()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = run_as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
