//! "The pods, run as the manifests say": reads the Kubernetes manifests a program binary
//! generated and starts every pod of every Job as a local process of that binary — the
//! container's `command`/`args`/`env`, with `JOB_COMPLETION_INDEX` filled in, and the pod DNS
//! names resolved through the runtime's `LP_HOSTS` test override.
//!
//! Volumes are directories of a temporary directory, one per pod and volume: a `secret` volume
//! holds the Secret's keys as files (with the volume's mode), an `emptyDir` starts empty. A
//! container path under a volume's `mountPath` in an env value (`LP_SECRET_FILE`, `TMPDIR`) is
//! rewritten to that directory, as there is no container file system here. Neither a read-only
//! root, a read-only mount, the user a pod runs as, nor the NetworkPolicy is enforced: the pods
//! run as processes of this machine, as the test's user.
//!
//! Where network namespaces can be made (root, `ip netns`), each pod gets its own namespace and
//! address on a private bridge, as on a cluster (every pod uses the same ports); otherwise the
//! pods share loopback, each with its own port range.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_yaml::Value;

use crate::support::{binary, run};

/// Whether a service a test needs is there. When it is not: under `CI=true` the test fails
/// (CI must have every service), otherwise it is skipped with a clear message.
pub fn service_available(what: &str, available: Result<(), String>) -> bool {
    match available {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{what} is required in CI (CI=true) but unavailable: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: {what} is unavailable ({why}); `scripts/setup` installs it");
            false
        }
    }
}

/// Every YAML document of every `.yaml` file in `dir`, by file name.
pub fn read_manifests(dir: &Path) -> Result<Vec<(String, Value)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = serde::Deserialize::deserialize(doc)
                .map_err(|e| format!("{} is not YAML: {e}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            docs.push((name, value));
        }
    }
    Ok(docs)
}

/// Looks up a path of keys in a YAML value.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// A string at `path`, or "".
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path).and_then(Value::as_str).unwrap_or("")
}

/// The program's job a Kubernetes Job runs (its containers' `LP_JOB`: `producer`,
/// `lp-coordinator`), which its name only starts with the launch's prefix of.
pub fn program_job(job: &Value) -> &str {
    at(job, &["spec", "template", "spec", "containers"])
        .and_then(Value::as_sequence)
        .and_then(|containers| containers.first())
        .and_then(|container| at(container, &["env"]))
        .and_then(Value::as_sequence)
        .and_then(|env| env.iter().find(|var| str_at(var, &["name"]) == "LP_JOB"))
        .map_or("", |var| str_at(var, &["value"]))
}

/// One pod of one Job, as its manifest says.
#[derive(Debug, Clone)]
pub struct PodSpec {
    /// `<job>-<index>` ([`PodSpec::job`]), what the tests call the pod: the same in every
    /// launch.
    pub name: String,
    /// Its DNS name, `<Job>-<index>.<subdomain>.<namespace>.svc`, where `<Job>` is the
    /// Kubernetes Job's name.
    pub dns: String,
    /// The container's `command` (the binary's name in the image) and `args`.
    pub command: Vec<String>,
    /// The container's `args`.
    pub args: Vec<String>,
    /// The container's env, resolved (Secret keys, field references, `JOB_COMPLETION_INDEX`);
    /// paths are the container's, as the manifest says ([`Pods::start`] rewrites those under a
    /// volume).
    pub env: BTreeMap<String, String>,
    /// The container's volumes, in the order it mounts them.
    pub volumes: Vec<Volume>,
    /// The program's job ([`program_job`]).
    pub job: String,
    /// `restartPolicy: OnFailure`: a container that fails is restarted in its pod.
    pub restart_on_failure: bool,
    /// The Job's `backoffLimit`: how many failures all its pods may have.
    pub backoff_limit: u64,
}

/// A volume a container mounts: a Secret's keys as files, or an empty directory.
#[derive(Debug, Clone)]
pub struct Volume {
    /// The volume's name in the pod.
    pub name: String,
    /// Where the container sees it.
    pub mount_path: String,
    /// `readOnly` on the mount.
    pub read_only: bool,
    /// Its files (a `secret` volume's keys, by the path the volume gives them), empty for an
    /// `emptyDir`.
    pub files: BTreeMap<String, File>,
}

/// A file of a [`Volume`].
#[derive(Debug, Clone)]
pub struct File {
    /// What it holds.
    pub contents: Vec<u8>,
    /// Its permission bits (`defaultMode` or the item's `mode`; Kubernetes' default 0644).
    pub mode: u32,
}

impl PodSpec {
    /// The volume file at container path `path`.
    pub fn file(&self, path: &str) -> Option<&File> {
        self.volumes.iter().find_map(|v| {
            let rest = path.strip_prefix(v.mount_path.trim_end_matches('/'))?;
            v.files.get(rest.strip_prefix('/')?)
        })
    }

    /// What the volume file named by env variable `var` holds (e.g. `LP_SECRET_FILE`), as
    /// text.
    pub fn file_of(&self, var: &str) -> Option<String> {
        let file = self.file(self.env.get(var)?)?;
        Some(String::from_utf8_lossy(&file.contents).into_owned())
    }

    /// Replaces what the volume file at container path `path` holds (e.g. to give a pod a
    /// wrong launch secret).
    pub fn set_file(&mut self, path: &str, contents: &[u8]) -> Result<(), String> {
        let volume = self
            .volumes
            .iter_mut()
            .find(|v| {
                path.strip_prefix(v.mount_path.trim_end_matches('/'))
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| v.files.contains_key(rest))
            })
            .ok_or_else(|| format!("pod `{}` has no volume file {path}", self.name))?;
        let key = &path[volume.mount_path.trim_end_matches('/').len() + 1..];
        if let Some(file) = volume.files.get_mut(key) {
            file.contents = contents.to_vec();
        }
        Ok(())
    }
}

fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("`{}` is not base64", c as char)),
        }
        .into())
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&b| b != b'=').collect();
        let mut n = 0u32;
        for (i, &b) in data.iter().enumerate() {
            n |= value(b)? << (18 - 6 * i);
        }
        for i in 0..data.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Ok(out)
}

/// Every pod of every Job in `docs`, with the env a kubelet would give it.
pub fn pod_specs(docs: &[(String, Value)]) -> Result<Vec<PodSpec>, String> {
    let mut secrets: Secrets = BTreeMap::new();
    for (_, doc) in docs {
        if str_at(doc, &["kind"]) == "Secret" {
            let name = str_at(doc, &["metadata", "name"]).to_string();
            if let Some(Value::Mapping(data)) = at(doc, &["data"]) {
                for (k, v) in data {
                    let key = k.as_str().unwrap_or_default().to_string();
                    let bytes = decode_base64(v.as_str().unwrap_or_default())?;
                    secrets.insert((name.clone(), key), bytes);
                }
            }
        }
    }
    let mut pods = Vec::new();
    for (file, doc) in docs {
        if str_at(doc, &["kind"]) != "Job" {
            continue;
        }
        let object = str_at(doc, &["metadata", "name"]);
        let job = program_job(doc);
        if job.is_empty() {
            return Err(format!("{file}: a Job whose container has no `LP_JOB`"));
        }
        let namespace = str_at(doc, &["metadata", "namespace"]);
        let completions = at(doc, &["spec", "completions"])
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("{file}: a Job without `completions`"))?;
        let pod = at(doc, &["spec", "template", "spec"])
            .ok_or_else(|| format!("{file}: a Job without a pod template"))?;
        let subdomain = str_at(pod, &["subdomain"]);
        let restart_on_failure = match str_at(pod, &["restartPolicy"]) {
            "Never" => false,
            "OnFailure" => true,
            other => {
                return Err(format!(
                    "{file}: a Job's pods cannot have restartPolicy `{other}`"
                ))
            }
        };
        let backoff_limit = at(doc, &["spec", "backoffLimit"])
            .and_then(Value::as_u64)
            .unwrap_or(6);
        let containers = at(pod, &["containers"])
            .and_then(Value::as_sequence)
            .ok_or_else(|| format!("{file}: no containers"))?;
        let [container] = containers.as_slice() else {
            return Err(format!("{file}: expected one container"));
        };
        let volumes = volumes(pod, container, &secrets).map_err(|e| format!("{file}: {e}"))?;
        let strings = |key: &str| -> Vec<String> {
            at(container, &[key])
                .and_then(Value::as_sequence)
                .map(|s| {
                    s.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        for index in 0..completions {
            let mut env = BTreeMap::new();
            if let Some(vars) = at(container, &["env"]).and_then(Value::as_sequence) {
                for var in vars {
                    let name = str_at(var, &["name"]).to_string();
                    let value = if let Some(v) = at(var, &["value"]) {
                        v.as_str().unwrap_or_default().to_string()
                    } else if let Some(r) = at(var, &["valueFrom", "secretKeyRef"]) {
                        let key = (str_at(r, &["name"]).into(), str_at(r, &["key"]).into());
                        let bytes = secrets.get(&key).cloned().ok_or_else(|| {
                            format!("{file}: `{name}` refers to a missing Secret key {key:?}")
                        })?;
                        String::from_utf8(bytes).map_err(|e| format!("{file}: `{name}`: {e}"))?
                    } else if str_at(var, &["valueFrom", "fieldRef", "fieldPath"])
                        == "metadata.namespace"
                    {
                        namespace.to_string()
                    } else {
                        return Err(format!(
                            "{file}: env `{name}` has a source this test does not know"
                        ));
                    };
                    env.insert(name, value);
                }
            }
            env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
            pods.push(PodSpec {
                name: format!("{job}-{index}"),
                dns: format!("{object}-{index}.{subdomain}.{namespace}.svc"),
                command: strings("command"),
                args: strings("args"),
                env,
                volumes: volumes.clone(),
                job: job.to_string(),
                restart_on_failure,
                backoff_limit,
            });
        }
    }
    Ok(pods)
}

/// The Secrets' data: `(Secret, key)` → bytes.
type Secrets = BTreeMap<(String, String), Vec<u8>>;

/// The volumes `container` mounts, from its pod's `volumes`: `secret` (its `items`, or every
/// key) and `emptyDir`; any other kind, or a mount of a volume the pod does not have, is an
/// error.
fn volumes(pod: &Value, container: &Value, secrets: &Secrets) -> Result<Vec<Volume>, String> {
    let empty = Vec::new();
    let declared = at(pod, &["volumes"])
        .and_then(Value::as_sequence)
        .unwrap_or(&empty);
    let mounts = at(container, &["volumeMounts"])
        .and_then(Value::as_sequence)
        .unwrap_or(&empty);
    let mut volumes = Vec::new();
    for mount in mounts {
        let name = str_at(mount, &["name"]);
        if at(mount, &["subPath"]).is_some() {
            return Err(format!(
                "volume mount `{name}` has a subPath, which this test does not know"
            ));
        }
        let volume = declared
            .iter()
            .find(|v| str_at(v, &["name"]) == name)
            .ok_or_else(|| format!("the container mounts `{name}`, which the pod does not have"))?;
        let files = if at(volume, &["emptyDir"]).is_some() {
            BTreeMap::new()
        } else if let Some(secret) = at(volume, &["secret"]) {
            secret_files(secret, secrets)?
        } else {
            return Err(format!(
                "volume `{name}` is of a kind this test does not know"
            ));
        };
        volumes.push(Volume {
            name: name.to_string(),
            mount_path: str_at(mount, &["mountPath"]).to_string(),
            read_only: at(mount, &["readOnly"]).and_then(Value::as_bool) == Some(true),
            files,
        });
    }
    Ok(volumes)
}

/// The files of a `secret` volume: its `items` (key → path, with their `mode`), or every key of
/// the Secret under its own name; `defaultMode` or 0644.
fn secret_files(secret: &Value, secrets: &Secrets) -> Result<BTreeMap<String, File>, String> {
    let name = str_at(secret, &["secretName"]);
    let mode = |v: &Value| -> Option<u32> { v.as_u64().and_then(|m| u32::try_from(m).ok()) };
    let default_mode = at(secret, &["defaultMode"]).and_then(mode).unwrap_or(0o644);
    let mut files = BTreeMap::new();
    match at(secret, &["items"]).and_then(Value::as_sequence) {
        Some(items) => {
            for item in items {
                let key = str_at(item, &["key"]);
                let contents = secrets
                    .get(&(name.to_string(), key.to_string()))
                    .ok_or_else(|| {
                        format!("a volume refers to a missing Secret key ({name:?}, {key:?})")
                    })?;
                let mode = at(item, &["mode"]).and_then(mode).unwrap_or(default_mode);
                files.insert(
                    str_at(item, &["path"]).to_string(),
                    File {
                        contents: contents.clone(),
                        mode,
                    },
                );
            }
        }
        None => {
            for ((secret, key), contents) in secrets {
                if secret == name {
                    files.insert(
                        key.clone(),
                        File {
                            contents: contents.clone(),
                            mode: default_mode,
                        },
                    );
                }
            }
            if files.is_empty() {
                return Err(format!("a volume refers to a missing Secret `{name}`"));
            }
        }
    }
    Ok(files)
}

/// Makes pod `spec`'s volumes as directories under `root`; returns its env with every path
/// under a volume's mount path rewritten to the volume's directory.
fn materialize(spec: &PodSpec, root: &Path) -> Result<BTreeMap<String, String>, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut moved: Vec<(String, PathBuf)> = Vec::new();
    for (k, volume) in spec.volumes.iter().enumerate() {
        let dir = root.join(format!("{}-{k}-{}", spec.name, volume.name));
        let fail =
            |e: std::io::Error| format!("pod `{}`: cannot make {}: {e}", spec.name, dir.display());
        std::fs::create_dir_all(&dir).map_err(fail)?;
        for (path, file) in &volume.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(fail)?;
            }
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(file.mode)
                .open(&target)
                .and_then(|mut f| f.write_all(&file.contents))
                .map_err(fail)?;
        }
        moved.push((volume.mount_path.trim_end_matches('/').to_string(), dir));
    }
    let rewrite = |value: &str| -> String {
        for (mount, dir) in &moved {
            if value == mount {
                return dir.to_string_lossy().into_owned();
            }
            if let Some(rest) = value
                .strip_prefix(mount.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                return dir.join(rest).to_string_lossy().into_owned();
            }
        }
        value.to_string()
    };
    Ok(spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), rewrite(v)))
        .collect())
}

/// A private network for the pods: a bridge and one namespace per pod (root only).
struct Namespaces {
    bridge: String,
    namespaces: Vec<String>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Namespaces {
    /// Makes `count` namespaces on a bridge, with addresses `10.<net>.0.2…`; their IPs.
    fn make(count: usize) -> Result<(Namespaces, Vec<String>), String> {
        let pid = std::process::id();
        let tag = format!(
            "{:x}{:x}",
            pid,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let net = 100 + (pid as usize + NEXT.load(std::sync::atomic::Ordering::Relaxed)) % 150;
        let mut this = Namespaces {
            bridge: format!("lpb{tag}"),
            namespaces: Vec::new(),
        };
        if this.bridge.len() > 15 {
            return Err("interface name too long".into());
        }
        ip(&["link", "add", &this.bridge, "type", "bridge"])?;
        ip(&[
            "addr",
            "add",
            &format!("10.{net}.0.1/24"),
            "dev",
            &this.bridge,
        ])?;
        ip(&["link", "set", &this.bridge, "up"])?;
        let mut ips = Vec::new();
        for k in 0..count {
            let ns = format!("lp{tag}-{k}");
            ip(&["netns", "add", &ns])?;
            this.namespaces.push(ns.clone());
            let host_end = format!("lv{tag}{k:x}");
            if host_end.len() > 15 {
                return Err("interface name too long".into());
            }
            ip(&[
                "link", "add", &host_end, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &host_end, "master", &this.bridge])?;
            ip(&["link", "set", &host_end, "up"])?;
            let addr = format!("10.{net}.0.{}", k + 2);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ips.push(addr);
        }
        Ok((this, ips))
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Namespaces {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with it the other end.
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

/// How the pods reach each other.
pub enum Network {
    /// Shared loopback; each pod its own ports (`LP_HOSTS` names `ip:port`).
    Loopback,
    /// A namespace and address per pod on a private bridge (`LP_HOSTS` names the IPs).
    Namespaces,
}

/// A running pod: the process, and what it printed so far.
struct Pod {
    spec: PodSpec,
    /// How to start its container's process again (restartPolicy OnFailure).
    recipe: Recipe,
    /// How many times its container was restarted.
    restarts: u32,
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    status: Option<std::process::ExitStatus>,
}

/// What starts a pod's process: the program (or `ip netns exec … program`), args, env.
#[derive(Clone)]
struct Recipe {
    program: PathBuf,
    prefix: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Recipe {
    /// Starts the process; its output is appended to `output`.
    fn spawn(
        &self,
        output: &Arc<Mutex<String>>,
    ) -> std::io::Result<(Child, Vec<std::thread::JoinHandle<()>>)> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix)
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let mut readers = Vec::new();
        let streams: Vec<Box<dyn Read + Send>> = vec![
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        ];
        for mut stream in streams {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    output
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&text);
                }
            }));
        }
        Ok((child, readers))
    }
}

/// Every pod of a launch, running; killed (and the network removed) on drop.
pub struct Pods {
    pods: Vec<Pod>,
    /// Container failures so far, by Job (against its `backoffLimit`).
    failures: BTreeMap<String, u64>,
    /// Which network the pods got.
    pub network: Network,
    /// `LP_HOSTS`: where each pod's DNS name points.
    hosts: String,
    _namespaces: Option<Namespaces>,
    /// The pods' volumes, a directory each.
    _volumes: tempfile::TempDir,
}

/// How a pod ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// `<job>-<index>`.
    pub name: String,
    /// Its exit code, `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// Stdout and stderr, interleaved as read (of every run of its container).
    pub output: String,
    /// How many times its container was restarted (restartPolicy OnFailure).
    pub restarts: u32,
}

impl Pods {
    /// Starts every pod as a process of `binary` (in place of the container's command, whose
    /// file name must match), with `LP_HOSTS` mapping each pod's DNS name to its address.
    pub fn start(binary: &Path, specs: Vec<PodSpec>) -> Result<Pods, String> {
        let expected = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for spec in &specs {
            if spec.command != [expected.clone()] {
                return Err(format!(
                    "pod `{}` runs {:?}, expected [{expected:?}]",
                    spec.name, spec.command
                ));
            }
        }
        let root = rustix::process::geteuid().is_root();
        let netns = if root && std::env::var_os("LP_TEST_LOOPBACK").is_none() {
            match Namespaces::make(specs.len()) {
                Ok(made) => Some(made),
                Err(e) => {
                    eprintln!("pods: no network namespaces ({e}); using loopback");
                    None
                }
            }
        } else {
            None
        };
        let hosts: Vec<String> = match &netns {
            Some((_, ips)) => specs
                .iter()
                .zip(ips)
                .map(|(s, ip)| format!("{}={ip}", s.dns))
                .collect(),
            None => {
                // A port range per pod: 100 ports from a base that differs per test process.
                let base = 20_000
                    + (std::process::id() as usize % 300) * 100
                    + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 7 * 3000;
                specs
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        format!("{}=127.0.0.1:{}", s.dns, (base + k * 100) % 60_000 + 1024)
                    })
                    .collect()
            }
        };
        let hosts = hosts.join(",");
        let volumes = tempfile::Builder::new()
            .prefix("lp-pod-volumes")
            .tempdir()
            .map_err(|e| format!("cannot make the pods' volumes: {e}"))?;
        let mut pods = Vec::new();
        for (k, spec) in specs.into_iter().enumerate() {
            let (program, prefix) = match &netns {
                Some((ns, _)) => (
                    PathBuf::from("ip"),
                    vec![
                        "netns".to_string(),
                        "exec".to_string(),
                        ns.namespaces[k].clone(),
                        binary.to_string_lossy().into_owned(),
                    ],
                ),
                None => (binary.to_path_buf(), Vec::new()),
            };
            // A container sees only its own env (plus PATH).
            let mut env: Vec<(String, String)> = vec![(
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            )];
            env.extend(materialize(&spec, volumes.path())?);
            env.push(("LP_HOSTS".to_string(), hosts.clone()));
            let recipe = Recipe {
                program,
                prefix,
                args: spec.args.clone(),
                env,
            };
            let output = Arc::new(Mutex::new(String::new()));
            let (child, readers) = recipe
                .spawn(&output)
                .map_err(|e| format!("cannot start pod `{}`: {e}", spec.name))?;
            pods.push(Pod {
                spec,
                recipe,
                restarts: 0,
                child,
                output,
                readers,
                status: None,
            });
        }
        let (network, namespaces) = match netns {
            Some((ns, _)) => (Network::Namespaces, Some(ns)),
            None => (Network::Loopback, None),
        };
        Ok(Pods {
            pods,
            failures: BTreeMap::new(),
            network,
            hosts,
            _namespaces: namespaces,
            _volumes: volumes,
        })
    }

    fn find(&mut self, name: &str) -> &mut Pod {
        let names: Vec<String> = self.pods.iter().map(|p| p.spec.name.clone()).collect();
        self.pods
            .iter_mut()
            .find(|p| p.spec.name == name)
            .unwrap_or_else(|| panic!("no pod `{name}` among {names:?}"))
    }

    /// What pod `name` printed so far.
    pub fn output(&mut self, name: &str) -> String {
        let pod = self.find(name);
        let output = pod.output.lock().unwrap_or_else(|e| e.into_inner());
        output.clone()
    }

    /// What every pod printed so far, for failure messages.
    pub fn dump(&self) -> String {
        self.pods
            .iter()
            .map(|p| {
                format!(
                    "--- pod {} ({:?})\n{}",
                    p.spec.name,
                    p.status,
                    p.output.lock().unwrap_or_else(|e| e.into_inner())
                )
            })
            .collect()
    }

    /// Waits until pod `name` printed `needle`; panics (with every pod's output) after `limit`.
    pub fn wait_for_output(&mut self, name: &str, needle: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            self.poll();
            let found = self
                .find(name)
                .output
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(needle);
            if found {
                return;
            }
            if start.elapsed() > limit {
                panic!(
                    "pod `{name}` did not print `{needle}` within {limit:?}\n{}",
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Where node `k` of pod `name` serves (`LP_PORT + 1 + k` at the pod's address).
    pub fn address(&mut self, name: &str, k: u16) -> std::net::SocketAddr {
        let spec = self.find(name).spec.clone();
        let port: u16 = spec
            .env
            .get("LP_PORT")
            .and_then(|p| p.parse().ok())
            .unwrap_or(7070);
        let target = self
            .hosts
            .split(',')
            .find_map(|h| h.strip_prefix(&format!("{}=", spec.dns)))
            .unwrap_or_else(|| panic!("pod `{name}` is not in LP_HOSTS {}", self.hosts));
        let (ip, port) = match target.rsplit_once(':') {
            Some((ip, p)) => (ip, p.parse().unwrap_or(port)),
            None => (target, port),
        };
        std::net::SocketAddr::new(ip.parse().expect("an IP"), port + 1 + k)
    }

    /// The pid of pod `name`'s process.
    pub fn pid(&mut self, name: &str) -> u32 {
        self.find(name).child.id()
    }

    /// A variable of pod `name`'s environment as the manifest gives it. A variable the pod
    /// gets as a file instead (the `_FILE` convention: `LP_SECRET` through `LP_SECRET_FILE`, a
    /// path in a volume) is that file's contents. "" when it has neither.
    pub fn env(&mut self, name: &str, var: &str) -> String {
        let spec = &self.find(name).spec;
        spec.env
            .get(var)
            .cloned()
            .or_else(|| spec.file_of(&format!("{var}_FILE")))
            .unwrap_or_default()
    }

    /// Sends SIGKILL to pod `name`, as a node failure or an eviction would end it.
    pub fn kill(&mut self, name: &str) {
        let pod = self.find(name);
        let _ = pod.child.kill();
    }

    /// Reaps exited containers, restarting those whose pod says `restartPolicy: OnFailure`
    /// while their Job's `backoffLimit` allows (after 100 ms, where a kubelet waits 10 s and
    /// more); returns how many pods still run.
    fn poll(&mut self) -> usize {
        let mut running = 0;
        for pod in &mut self.pods {
            if pod.status.is_some() {
                continue;
            }
            match pod.child.try_wait() {
                Ok(None) => running += 1,
                Ok(Some(status)) => {
                    let failures = self.failures.entry(pod.spec.job.clone()).or_default();
                    if !status.success()
                        && pod.spec.restart_on_failure
                        && *failures < pod.spec.backoff_limit
                    {
                        *failures += 1;
                        std::thread::sleep(Duration::from_millis(100));
                        match pod.recipe.spawn(&pod.output) {
                            Ok((child, readers)) => {
                                pod.child = child;
                                pod.readers.extend(readers);
                                pod.restarts += 1;
                                running += 1;
                            }
                            Err(_) => pod.status = Some(status),
                        }
                    } else {
                        pod.status = Some(status);
                    }
                }
                Err(_) => pod.status = Some(std::process::ExitStatus::default()),
            }
        }
        running
    }

    /// Sends `signal` to pod `name`'s process (e.g. SIGTERM, as `kubectl delete` does).
    pub fn signal(&mut self, name: &str, signal: rustix::process::Signal) {
        // The pid is our unreaped child.
        if let Some(pid) = rustix::process::Pid::from_raw(self.find(name).child.id() as i32) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }

    /// Waits until pod `name`'s container was restarted `count` times; panics after `limit`.
    pub fn wait_for_restarts(&mut self, name: &str, count: u32, limit: Duration) {
        let start = Instant::now();
        while self.find(name).restarts < count {
            self.poll();
            if start.elapsed() > limit {
                panic!(
                    "pod `{name}` was not restarted {count} times within {limit:?}\n{}",
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every pod has exited; kills them all and panics (with their output) after
    /// `limit`.
    pub fn wait_all(&mut self, limit: Duration) -> Vec<Ended> {
        let start = Instant::now();
        loop {
            let running = self.poll();
            if running == 0 {
                break;
            }
            if start.elapsed() > limit {
                let still: Vec<String> = self
                    .pods
                    .iter()
                    .filter(|p| p.status.is_none())
                    .map(|p| p.spec.name.clone())
                    .collect();
                self.kill_all();
                panic!(
                    "pods {still:?} still ran after {limit:?}; killed\n{}",
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        use std::os::unix::process::ExitStatusExt;
        self.pods
            .iter_mut()
            .map(|p| {
                for reader in p.readers.drain(..) {
                    let _ = reader.join();
                }
                let status = p.status.unwrap_or_default();
                Ended {
                    restarts: p.restarts,
                    name: p.spec.name.clone(),
                    code: status.code(),
                    signal: status.signal(),
                    output: p.output.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                }
            })
            .collect()
    }

    fn kill_all(&mut self) {
        for pod in &mut self.pods {
            if pod.status.is_none() {
                let _ = pod.child.kill();
                pod.status = pod.child.wait().ok();
            }
        }
    }
}

impl Drop for Pods {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Writes `program`'s manifests (with the extra flags `extra`) into a fresh directory.
pub fn manifests(program: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("manifests");
    let mut cmd = Command::new(binary(program));
    cmd.args([
        "--lp_launch_type",
        "k8s",
        "--image",
        &format!("registry.example.com/lp/{program}:test"),
        "--namespace",
        "lp-test",
        "--out",
    ])
    .arg(&out)
    .args(extra);
    let output = run(cmd, Duration::from_secs(60));
    assert_eq!(output.status, Some(0), "{program}: {output:#?}");
    (dir, out)
}

/// Starts the pods of `program`'s manifests (made with the extra flags `extra`), each with
/// the extra environment `env` too.
pub fn start_program(
    program: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (tempfile::TempDir, Pods) {
    let (dir, out) = manifests(program, extra);
    let docs = read_manifests(&out).expect("manifests");
    let mut specs = pod_specs(&docs).expect("pod specs");
    for spec in &mut specs {
        spec.env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    }
    let pods = Pods::start(&binary(program), specs).expect("pods start");
    eprintln!(
        "pods of {program} on {}",
        match pods.network {
            Network::Namespaces => "one network namespace each",
            Network::Loopback => "loopback",
        }
    );
    (dir, pods)
}

/// How pod `name` ended, among `all`.
pub fn ended<'a>(all: &'a [Ended], name: &str) -> &'a Ended {
    all.iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no pod {name}: {all:#?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert!(decode_base64("Z!==").is_err());
    }
}
