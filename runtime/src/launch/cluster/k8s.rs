//! `--lp_launch_type k8s`: Kubernetes manifests for a program.
//!
//! - one Indexed Job per job of the [`Plan`] (`completions = parallelism =` its processes;
//!   pod `i` learns its index from `JOB_COMPLETION_INDEX`), plus the `lp-coordinator` Job;
//! - one headless Service (the pods' subdomain, so pod `i` of Job `J` is
//!   `<J>-<i>.<service>.<namespace>.svc`; not-ready addresses published, so names resolve as soon
//!   as pods run);
//! - every object's name starts with `<program>-<launch id>` ([`Names`]), so programs and
//!   launches share a namespace;
//! - one Secret per Job with the keys its pods hold (`transport::keys`): the coordinator's,
//!   the launch secret; a program job's, the member key and the keys of its nodes and of the
//!   nodes they hold handles to. Mounted read-only into every container as a file
//!   ([`SECRET_FILE`], named by `LP_SECRET_FILE`): never an env var, never a plain value in a
//!   Job;
//! - one NetworkPolicy: the launch's pods accept connections only from pods of the same
//!   launch, on the ports lp serves ([`Render::network_policy`]);
//! - pods that meet the `restricted` Pod Security Standard ([`Render::pod_spec`]): not root
//!   ([`USER`]), no privilege escalation, no capabilities, the runtime's default seccomp
//!   profile, a read-only root file system with an `emptyDir` at `/tmp` (`TMPDIR`), no
//!   service-account token;
//! - labels `lp.program`, `lp.launch`, `lp.group` on every object and pod.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::{json, Map, Value};

use super::{io, ClusterError};
use super::{parse_memory, vars, yaml, Job, Plan, COORDINATOR, DEFAULT_PORT};
use crate::launch::tool::{self, ToolError};
use crate::program::Resources;
use crate::transport::frame::Secret;
use crate::transport::keys::Keyring;

/// The `k8s` flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// `--image`: required.
    pub(crate) image: Option<String>,
    /// `--namespace` (default `default`).
    pub(crate) namespace: Option<String>,
    /// `--out DIR`: one file per object instead of stdout.
    pub(crate) out: Option<PathBuf>,
    /// `--apply`: `kubectl apply` them.
    pub(crate) apply: bool,
}

/// The user and group every container runs as (not root, above the ranges distributions give
/// system and login users, so it owns nothing of the node's); the Dockerfile `lpc new` writes
/// says `USER 10001:10001` too.
const USER: u32 = 10001;

/// Where the launch's Secret is mounted (read-only) in every container.
const SECRET_DIR: &str = "/var/run/secrets/lp";

/// The key of the launch secret in the Secret, and its file name under [`SECRET_DIR`].
const SECRET_KEY: &str = "secret";

/// The file holding the launch secret in every container (`LP_SECRET_FILE`).
const SECRET_FILE: &str = "/var/run/secrets/lp/secret";

/// The secret file's mode: read-only for its owner (root) and its group, which is [`USER`]'s
/// group through `fsGroup`; nobody else.
const SECRET_MODE: u32 = 0o440;

/// The one writable directory of a container (an `emptyDir`), also `TMPDIR`.
const TMP_DIR: &str = "/tmp";

/// The longest Kubernetes object name: a DNS-1123 label.
const MAX_NAME: usize = 63;

/// The longest Job name: an Indexed Job's pod is host `<job>-<index>`, a DNS label too, and an
/// index has at most 10 digits.
const MAX_JOB_NAME: usize = MAX_NAME - 11;

/// The names of one launch's objects. Each starts with the program's name and the launch id,
/// so the objects of two programs, or of two launches of one program, never collide in a
/// namespace; each fits its limit, shortened with a hash of the whole name when it would not
/// (so names that differ anywhere stay different).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// The headless Service, `<program>-<launch>`, which the others start with.
    service: String,
}

impl Names {
    /// The names of launch `launch` of `program`.
    pub(crate) fn new(program: &str, launch: &str) -> Result<Names, ClusterError> {
        let program = super::dns_label(program)?;
        if launch.is_empty()
            || !launch
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        {
            return Err(
                format!("`{launch}` is not a launch id (lower-case letters and digits)").into(),
            );
        }
        Ok(Names {
            service: join_fit(&program, launch, MAX_NAME),
        })
    }

    /// The names of the launch whose Service is `service` (`LP_SERVICE`, in a pod).
    pub(crate) fn of_service(service: &str) -> Names {
        Names {
            service: service.to_string(),
        }
    }

    /// The headless Service: the pods' subdomain.
    pub(crate) fn service(&self) -> &str {
        &self.service
    }

    /// The Secret holding the keys of the Job of `job` (a [`Job::name`], or the
    /// coordinator).
    pub(crate) fn keys(&self, job: &str) -> String {
        keys_of(&self.job(job))
    }

    /// The NetworkPolicy of the launch's pods.
    pub(crate) fn network_policy(&self) -> String {
        join_fit(&self.service, "ingress", MAX_NAME)
    }

    /// The Job of the program's job `job` (a [`Job::name`], or the coordinator).
    pub(crate) fn job(&self, job: &str) -> String {
        join_fit(&self.service, job, MAX_JOB_NAME)
    }
}

/// The Secret holding the keys of the Job named `job` (its pods mount it).
fn keys_of(job: &str) -> String {
    // A Job's name leaves room for the suffix (`MAX_JOB_NAME`).
    format!("{job}-keys")
}

/// `head-tail` when it has at most `max` characters; otherwise both parts shortened (the longer
/// one more) and followed by a hash of the whole, `head…-tail…-hash`. `head` starts with a
/// letter and both are DNS labels, so the result is one too.
fn join_fit(head: &str, tail: &str, max: usize) -> String {
    let whole = format!("{head}-{tail}");
    if whole.len() <= max {
        return whole;
    }
    let hash = super::short_hash(&whole);
    // `head-tail-hash`: what is left for the two parts.
    let room = max - hash.len() - 2;
    let half = room / 2;
    let (head_len, tail_len) = if head.len() <= half {
        (head.len(), room - head.len())
    } else if tail.len() <= room - half {
        (room - tail.len(), tail.len())
    } else {
        (half, room - half)
    };
    let cut = |part: &str, len: usize| part[..len.min(part.len())].trim_matches('-').to_string();
    [cut(head, head_len), cut(tail, tail_len), hash]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Everything that goes into the manifests.
pub(crate) struct Manifests {
    /// `(file name, object)`, Secrets first.
    pub(crate) objects: Vec<(String, Value)>,
    /// The launch id (label `lp.launch`).
    pub(crate) launch: String,
    /// The namespace.
    pub(crate) namespace: String,
    /// The coordinator's Job, whose outcome is the program's.
    pub(crate) coordinator: String,
}

/// Renders the manifests of `plan` for `image`, passing `passed` on (the param flags to every
/// container, the dashboard's address to the coordinator's); the binary is the current
/// executable's file name, found on the image's `PATH`.
pub(crate) fn manifests(
    plan: &Plan,
    passed: &super::Passed,
    image: &str,
    namespace: &str,
    binary: &str,
    secret: &Secret,
    launch: &str,
) -> Result<Manifests, ClusterError> {
    if image.trim().is_empty() {
        return Err("`--image` must name a container image".into());
    }
    let namespace = super::dns_label(namespace)
        .ok()
        .filter(|n| n == namespace)
        .ok_or_else(|| format!("`{namespace}` is not a Kubernetes namespace name (lower-case letters, digits and `-`)"))?;
    let render = Render {
        plan,
        args: &passed.args,
        image,
        binary,
        launch,
        namespace: &namespace,
        names: Names::new(&plan.program, launch)?,
    };
    let keys = Keyring::launch(secret, plan.labels.len());
    let mut objects = vec![(
        format!("{COORDINATOR}{KEYS_FILE}"),
        render.keys(COORDINATOR, &secret.to_hex()),
    )];
    for job in &plan.jobs {
        objects.push((
            format!("{}{KEYS_FILE}", job.name),
            render.keys(&job.name, &job_keys(&keys, secret, job)),
        ));
    }
    objects.extend([
        ("service.yaml".to_string(), render.service()),
        ("networkpolicy.yaml".to_string(), render.network_policy()),
        (
            format!("{COORDINATOR}.job.yaml"),
            render.job(
                &render.names.job(COORDINATOR),
                COORDINATOR,
                1,
                None,
                json!({ "requests": { "cpu": "50m", "memory": "32Mi" } }),
                render.env(COORDINATOR, &passed.coordinator_env()),
            ),
        ),
    ]);
    for job in &plan.jobs {
        objects.push((
            format!("{}.job.yaml", job.name),
            render.job(
                &render.names.job(&job.name),
                &label_value(&job.source),
                job.units.len(),
                job.restart,
                resources(job)?,
                render.env(&job.name, &[job.env.clone(), passed.unit_env()].concat()),
            ),
        ));
    }
    Ok(Manifests {
        objects,
        launch: launch.to_string(),
        coordinator: render.names.job(COORDINATOR),
        namespace,
    })
}

/// The file name suffix of a Job's keys Secret.
const KEYS_FILE: &str = ".keys.yaml";

/// The most text of keys one Secret may hold: Kubernetes limits a Secret to 1 MiB, base64.
const MAX_KEYS_TEXT: usize = (1 << 20) / 4 * 3 - 4096;

/// The keys `job`'s pods get: those its nodes need; or, when they are more than a Secret holds
/// (a job holding handles to some ten thousand nodes), every key, the launch secret (said on
/// stderr).
fn job_keys(keys: &Keyring, secret: &Secret, job: &Job) -> String {
    let text = keys.narrowed(job.keys.iter().copied()).to_text();
    if text.len() <= MAX_KEYS_TEXT {
        return text;
    }
    tracing::warn!(target: "lp",
        "job `{}` holds handles to {} nodes: their keys exceed one Kubernetes Secret, so its pods get every key of the launch",
        job.source, job.keys.len()
    );
    secret.to_hex()
}

/// What every object of one launch's manifests shares.
struct Render<'a> {
    plan: &'a Plan,
    /// The param flags, passed to every container.
    args: &'a [String],
    image: &'a str,
    /// The program binary's file name, on the image's `PATH`.
    binary: &'a str,
    /// The launch id.
    launch: &'a str,
    namespace: &'a str,
    names: Names,
}

impl Render<'_> {
    /// The labels of the launch's objects (of one group's pods, with `group`).
    fn labels(&self, group: Option<&str>) -> Value {
        let mut m = Map::new();
        m.insert("lp.program".into(), json!(label_value(&self.plan.program)));
        m.insert("lp.launch".into(), json!(self.launch));
        if let Some(group) = group {
            m.insert("lp.group".into(), json!(group));
        }
        Value::Object(m)
    }

    fn metadata(&self, name: &str, group: Option<&str>) -> Value {
        json!({ "name": name, "namespace": self.namespace, "labels": self.labels(group) })
    }

    /// The Secret holding the keys (`text`) of the pods of `job` (a [`Job::name`], or the
    /// coordinator).
    fn keys(&self, job: &str, text: &str) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self.metadata(&self.names.keys(job), None),
            "type": "Opaque",
            "data": { SECRET_KEY: base64(text.as_bytes()) },
        })
    }

    /// The NetworkPolicy: the launch's pods accept TCP connections only from pods of the same
    /// launch, and only on the ports lp serves (the coordinator's `LP_PORT`, and `LP_PORT + 1 +
    /// k` for the `k`th node of a pod). Egress is left open (DNS, and whatever the nodes' own
    /// code reaches).
    ///
    /// Per launch rather than per Job: a handle passed in a call lets its receiver call a node
    /// its `.lp` arguments do not name, so every pod of the launch may connect to every other;
    /// the handshake still refuses any connection to a node without that node's key.
    fn network_policy(&self) -> Value {
        let most_nodes = self
            .plan
            .units
            .iter()
            .map(|u| u.nodes.len())
            .max()
            .unwrap_or(0);
        let mut ports = json!({ "protocol": "TCP", "port": DEFAULT_PORT });
        let last = u64::from(DEFAULT_PORT) + most_nodes as u64;
        if last > u64::from(DEFAULT_PORT) {
            ports["endPort"] = json!(last.min(u64::from(u16::MAX)));
        }
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": self.metadata(&self.names.network_policy(), None),
            "spec": {
                "podSelector": { "matchLabels": self.labels(None) },
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{ "podSelector": { "matchLabels": self.labels(None) } }],
                    "ports": [ports],
                }],
            },
        })
    }

    /// The headless Service that gives every pod a DNS name.
    fn service(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(self.names.service(), None),
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": true,
                "selector": self.labels(None),
                "ports": [{ "name": "lp", "port": DEFAULT_PORT, "protocol": "TCP" }],
            },
        })
    }

    /// The environment of job `job`'s containers, with the block's `extra` variables.
    fn env(&self, job: &str, extra: &[(String, String)]) -> Value {
        let mut env = vec![
            json!({ "name": vars::CLUSTER, "value": "k8s" }),
            json!({ "name": vars::JOB, "value": job }),
            json!({ "name": vars::SERVICE, "value": self.names.service() }),
            json!({ "name": vars::NAMESPACE, "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } } }),
            json!({ "name": vars::PORT, "value": DEFAULT_PORT.to_string() }),
            json!({ "name": vars::LAYOUT, "value": self.plan.fingerprint }),
            json!({ "name": vars::SECRET_FILE, "value": SECRET_FILE }),
            json!({ "name": "TMPDIR", "value": TMP_DIR }),
        ];
        for (k, v) in extra {
            env.push(json!({ "name": k, "value": v }));
        }
        Value::Array(env)
    }

    /// An indexed Job of `count` pods.
    fn job(
        &self,
        name: &str,
        group: &str,
        count: usize,
        restart: Option<crate::program::Restart>,
        resources: Value,
        env: Value,
    ) -> Value {
        // With a restart policy, a failed container restarts in its pod (same name and address)
        // and rejoins the program; the coordinator counts the restarts against `max`, and the
        // Job allows as many failures in all. Kubernetes' own back-off replaces `backoff`.
        let (restart_policy, backoff_limit) = match restart {
            Some(policy) => ("OnFailure", u64::from(policy.max) * count as u64),
            None => ("Never", 0),
        };
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": self.metadata(name, Some(group)),
            "spec": {
                "completionMode": "Indexed",
                "completions": count,
                "parallelism": count,
                // Without a restart policy a failed pod fails its Job; the others stop through
                // the coordinator.
                "backoffLimit": backoff_limit,
                "template": {
                    "metadata": { "labels": self.labels(Some(group)) },
                    "spec": self.pod_spec(&keys_of(name), restart_policy, resources, env),
                },
            },
        })
    }

    /// A pod of a Job: one container running the binary, meeting the `restricted` Pod
    /// Security Standard (and Checkov's checks of it): not root, no privilege escalation, every
    /// capability dropped, the runtime's default seccomp profile, a read-only root file system
    /// with an `emptyDir` at [`TMP_DIR`], no service-account token (lp never talks to the
    /// Kubernetes API), the Job's keys (the Secret `keys`) as a read-only file.
    fn pod_spec(&self, keys: &str, restart_policy: &str, resources: Value, env: Value) -> Value {
        json!({
            "restartPolicy": restart_policy,
            // Kubernetes' SIGKILL comes after the nodes' own grace period.
            "terminationGracePeriodSeconds": super::grace_of(self.args).as_secs() + 5,
            "subdomain": self.names.service(),
            "enableServiceLinks": false,
            "automountServiceAccountToken": false,
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": USER,
                "runAsGroup": USER,
                // The secret file's group, so that the container's user can read it.
                "fsGroup": USER,
                "seccompProfile": { "type": "RuntimeDefault" },
            },
            "containers": [{
                "name": "node",
                "image": self.image,
                "command": [self.binary],
                "args": self.args,
                "env": env,
                "resources": resources,
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": USER,
                    "runAsGroup": USER,
                    "allowPrivilegeEscalation": false,
                    "privileged": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": { "drop": ["ALL"] },
                    "seccompProfile": { "type": "RuntimeDefault" },
                },
                "volumeMounts": [
                    { "name": "lp-secret", "mountPath": SECRET_DIR, "readOnly": true },
                    { "name": "tmp", "mountPath": TMP_DIR },
                ],
            }],
            "volumes": [
                {
                    "name": "lp-secret",
                    "secret": {
                        "secretName": keys,
                        "items": [{ "key": SECRET_KEY, "path": SECRET_KEY }],
                        "defaultMode": SECRET_MODE,
                    },
                },
                { "name": "tmp", "emptyDir": {} },
            ],
        })
    }
}

/// A block's `resources` as container requests and limits.
fn resources(job: &Job) -> Result<Value, ClusterError> {
    let Resources { cpus, memory, gpus } = &job.resources;
    let mut requests = Map::new();
    let mut limits = Map::new();
    if let Some(cpus) = cpus {
        if !cpus.is_finite() || *cpus <= 0.0 {
            return Err(format!("`{}`: `cpus` must be positive, not {cpus}", job.source).into());
        }
        let millis = (cpus * 1000.0).ceil() as u64;
        let cpu = if millis.is_multiple_of(1000) {
            (millis / 1000).to_string()
        } else {
            format!("{millis}m")
        };
        requests.insert("cpu".into(), json!(cpu));
    }
    if let Some(memory) = memory {
        parse_memory(memory).map_err(|e| format!("`{}`: {e}", job.source))?;
        requests.insert("memory".into(), json!(memory));
        limits.insert("memory".into(), json!(memory));
    }
    if let Some(gpus) = gpus.filter(|g| *g > 0) {
        limits.insert("nvidia.com/gpu".into(), json!(gpus.to_string()));
    }
    let mut out = Map::new();
    if !requests.is_empty() {
        out.insert("requests".into(), Value::Object(requests));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), Value::Object(limits));
    }
    Ok(Value::Object(out))
}

/// A label value from a `.lp` name: at most 63 letters, digits, `-`, `_` and `.`, starting and
/// ending with a letter or digit; others become `-`, and a longer one is shortened with a hash
/// of the whole.
fn label_value(name: &str) -> String {
    let value: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let value = value.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if value.is_empty() {
        return super::short_hash(name);
    }
    if value.len() <= MAX_NAME {
        return value.to_string();
    }
    let hash = super::short_hash(name);
    let head =
        value[..MAX_NAME - hash.len() - 1].trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{head}-{hash}")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A fresh launch id: 10 hex digits.
pub(crate) fn launch_id() -> Result<String, ClusterError> {
    let random = Secret::random().map_err(io("cannot read /dev/urandom"))?;
    Ok(random.to_hex()[..10].to_string())
}

/// `--lp_launch_type k8s`.
pub(crate) fn main(
    plan: &Plan,
    passed: &super::Passed,
    options: &Options,
) -> Result<ExitCode, ClusterError> {
    let image = options.image.as_deref().ok_or(
        "`--image` is required with `--lp_launch_type k8s`: the container image holding this binary",
    )?;
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .ok_or("cannot find the program binary's name")?;
    let secret = Secret::random().map_err(io("cannot read /dev/urandom"))?;
    let launch = launch_id()?;
    let namespace = options.namespace.as_deref().unwrap_or("default");
    let manifests = manifests(plan, passed, image, namespace, &binary, &secret, &launch)?;
    let all = yaml::documents(manifests.objects.iter().map(|(_, v)| v));
    if let Some(dir) = &options.out {
        write_dir(dir, &manifests)?;
        tracing::info!(target: "lp",
            "wrote {} manifests of launch {} to {}",
            manifests.objects.len(),
            manifests.launch,
            dir.display()
        );
    } else if !options.apply {
        std::io::stdout()
            .write_all(all.as_bytes())
            .map_err(io("cannot write the manifests"))?;
    }
    if options.apply {
        apply(options.out.as_deref(), &all)?;
        let (namespace, launch) = (&manifests.namespace, &manifests.launch);
        tracing::info!(target: "lp",
            "launched `{}` as launch {launch}; its outcome: kubectl wait -n {namespace} --for=condition=complete job/{}; watch: kubectl get jobs,pods -n {namespace} -l lp.launch={launch}; delete: kubectl delete jobs,services,secrets,networkpolicies -n {namespace} -l lp.launch={launch}",
            plan.program, manifests.coordinator,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn write_dir(dir: &Path, manifests: &Manifests) -> Result<(), ClusterError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    for (name, object) in &manifests.objects {
        let path = dir.join(name);
        // The Secrets' files are readable by their owner only.
        let mode = if name.ends_with(KEYS_FILE) {
            0o600
        } else {
            0o644
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&path)
            .map_err(io(format!("cannot write {}", path.display())))?;
        file.write_all(yaml::document(object).as_bytes())
            .map_err(io(format!("cannot write {}", path.display())))?;
    }
    Ok(())
}

/// `kubectl apply -f DIR`, or the manifests through stdin (so the Secret touches no file).
fn apply(dir: Option<&Path>, all: &str) -> Result<(), ClusterError> {
    let mut cmd = Command::new("kubectl");
    cmd.arg("apply").arg("-f");
    match dir {
        Some(dir) => {
            cmd.arg(dir).stdin(Stdio::null());
        }
        None => {
            cmd.arg("-").stdin(Stdio::piped());
        }
    }
    let mut child = cmd.spawn().map_err(|source| ToolError::Spawn {
        tool: "kubectl",
        source,
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(all.as_bytes())
            .map_err(|source| ToolError::Io {
                tool: "kubectl",
                doing: "pass the manifests to",
                source,
            })?;
    }
    let status = child.wait().map_err(|source| ToolError::Io {
        tool: "kubectl",
        doing: "wait for",
        source,
    })?;
    Ok(tool::check("kubectl", "apply", status, &[])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    /// Whether `name` is a DNS-1123 label of at most `max` characters.
    fn is_dns_label(name: &str, max: usize) -> bool {
        name.len() <= max
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    /// The manifests of the `mod.rs` tests' program (a group of 3, a node, a block of 2).
    fn rendered() -> Manifests {
        rendered_with(&super::super::Passed::default())
    }

    /// [`rendered`], passing `passed` on.
    fn rendered_with(passed: &super::super::Passed) -> Manifests {
        let (layout, nodes) = super::super::tests::program();
        let plan = Plan::new(&layout, &nodes).unwrap();
        let secret = Secret::from_hex(&"ab".repeat(32)).unwrap();
        manifests(&plan, passed, "img:1", "ns", "bin", &secret, "0123456789").unwrap()
    }

    #[test]
    fn the_dashboard_s_address_goes_to_the_coordinator_only_and_the_units_count() {
        let passed = super::super::Passed {
            args: vec!["--n=4".into()],
            dashboard: Some("127.0.0.1:8080".parse().unwrap()),
        };
        let manifests = rendered_with(&passed);
        let jobs = manifests.objects.iter().filter(|(_, o)| o["kind"] == "Job");
        let mut seen = 0;
        for (file, job) in jobs {
            let container = &job["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(container["args"], json!(["--n=4"]), "{file}");
            let env = container["env"].as_array().unwrap();
            let var = |name: &str| env.iter().find(|e| e["name"] == name).map(|e| &e["value"]);
            let coordinator = file.starts_with(COORDINATOR);
            let (dashboard, counting) = match coordinator {
                true => (Some(&json!("127.0.0.1:8080")), None),
                false => (None, Some(&json!("1"))),
            };
            assert_eq!(var(vars::DASHBOARD), dashboard, "{file}");
            assert_eq!(var(crate::metrics::ENV), counting, "{file}");
            seen += 1;
        }
        assert_eq!(seen, 4, "three jobs and the coordinator");
        let quiet = rendered();
        let env = |m: &Manifests| {
            m.objects
                .iter()
                .map(|(_, o)| o.to_string())
                .collect::<String>()
        };
        assert!(
            !env(&quiet).contains(vars::DASHBOARD) && !env(&quiet).contains(crate::metrics::ENV)
        );
    }

    #[test]
    fn each_job_gets_a_secret_of_the_keys_its_nodes_need() {
        let manifests = rendered();
        let secrets: Vec<&str> = manifests
            .objects
            .iter()
            .filter(|(_, o)| o["kind"] == "Secret")
            .map(|(_, o)| o["metadata"]["name"].as_str().unwrap())
            .collect();
        let mounted: Vec<&str> = manifests
            .objects
            .iter()
            .filter(|(_, o)| o["kind"] == "Job")
            .map(|(_, o)| {
                o["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(secrets, mounted, "one Secret per Job, mounted by its pods");
        let (layout, nodes) = super::super::tests::program();
        let plan = Plan::new(&layout, &nodes).unwrap();
        let secret = Secret::from_hex(&"ab".repeat(32)).unwrap();
        let all = Keyring::launch(&secret, plan.labels.len());
        for job in &plan.jobs {
            let held = Keyring::parse(&job_keys(&all, &secret, job)).unwrap();
            for id in 0..plan.labels.len() {
                let expected = job.keys.contains(&id).then(|| all.node(id)).flatten();
                assert_eq!(held.node(id), expected, "job {} node {id}", job.name);
            }
        }
    }

    #[test]
    fn the_secret_file_is_the_secret_volume_key() {
        assert_eq!(SECRET_FILE, format!("{SECRET_DIR}/{SECRET_KEY}"));
    }

    #[test]
    fn pods_are_restricted_and_get_the_secret_as_a_file() {
        let manifests = rendered();
        let text = yaml::documents(manifests.objects.iter().map(|(_, v)| v));
        assert!(!text.contains(&"ab".repeat(32)), "the secret in plain text");
        assert!(!text.contains("secretKeyRef"), "the secret as an env var");
        let jobs: Vec<&Value> = manifests
            .objects
            .iter()
            .filter(|(_, o)| o["kind"] == "Job")
            .map(|(_, o)| o)
            .collect();
        assert_eq!(jobs.len(), 4, "three jobs and the coordinator");
        for job in jobs {
            let pod = &job["spec"]["template"]["spec"];
            assert_eq!(pod["automountServiceAccountToken"], json!(false));
            assert_eq!(pod["securityContext"]["runAsNonRoot"], json!(true));
            assert_eq!(pod["securityContext"]["runAsUser"], json!(USER));
            assert_eq!(pod["securityContext"]["fsGroup"], json!(USER));
            let container = &pod["containers"][0];
            let context = &container["securityContext"];
            assert_eq!(context["allowPrivilegeEscalation"], json!(false));
            assert_eq!(context["readOnlyRootFilesystem"], json!(true));
            assert_eq!(context["capabilities"]["drop"], json!(["ALL"]));
            assert_eq!(context["seccompProfile"]["type"], json!("RuntimeDefault"));
            let env = |name: &str| {
                container["env"]
                    .as_array()
                    .and_then(|env| env.iter().find(|v| v["name"] == name))
                    .map(|v| v["value"].clone())
            };
            assert_eq!(env(vars::SECRET_FILE), Some(json!(SECRET_FILE)));
            assert_eq!(env("TMPDIR"), Some(json!(TMP_DIR)));
            assert_eq!(env(vars::SECRET), None);
            let volume = &pod["volumes"][0]["secret"];
            let keys = format!("{}-keys", job["metadata"]["name"].as_str().unwrap());
            assert_eq!(volume["secretName"], json!(keys));
            assert_eq!(volume["defaultMode"], json!(0o440));
            assert_eq!(container["volumeMounts"][0]["mountPath"], json!(SECRET_DIR));
            assert_eq!(container["volumeMounts"][0]["readOnly"], json!(true));
            assert_eq!(container["volumeMounts"][1]["mountPath"], json!(TMP_DIR));
            assert!(pod["volumes"][1]["emptyDir"].is_object());
        }
    }

    #[test]
    fn the_network_policy_admits_only_the_launch_on_lp_ports() {
        let manifests = rendered();
        let (file, policy) = manifests
            .objects
            .iter()
            .find(|(_, o)| o["kind"] == "NetworkPolicy")
            .expect("a NetworkPolicy");
        assert_eq!(file, "networkpolicy.yaml");
        let launch = json!({ "lp.program": "seed_like", "lp.launch": "0123456789" });
        let spec = &policy["spec"];
        assert_eq!(spec["podSelector"]["matchLabels"], launch);
        assert_eq!(spec["policyTypes"], json!(["Ingress"]));
        assert_eq!(
            spec["ingress"][0]["from"],
            json!([{ "podSelector": { "matchLabels": launch } }])
        );
        // The `pair` block's pod serves two nodes, on LP_PORT + 1 and + 2.
        assert_eq!(
            spec["ingress"][0]["ports"],
            json!([{ "protocol": "TCP", "port": DEFAULT_PORT, "endPort": DEFAULT_PORT + 2 }])
        );
    }

    #[test]
    fn label_values() {
        assert_eq!(label_value("consumer_producers"), "consumer_producers");
        assert_eq!(label_value("_x_"), "x");
        let long = label_value(&"a".repeat(64));
        assert_eq!(long.len(), 63, "{long}");
        assert_ne!(long, label_value(&"a".repeat(65)));
        assert!(long.starts_with(&"a".repeat(50)), "{long}");
    }

    #[test]
    fn names_start_with_the_program_and_the_launch() {
        let names = Names::new("consumer_producers", "0123456789").unwrap();
        assert_eq!(names.service(), "consumer-producers-0123456789");
        assert_eq!(
            names.keys(COORDINATOR),
            "consumer-producers-0123456789-lp-coordinator-keys"
        );
        assert_eq!(
            names.job("producer"),
            "consumer-producers-0123456789-producer"
        );
        assert_eq!(
            names.job(COORDINATOR),
            "consumer-producers-0123456789-lp-coordinator"
        );
        assert_eq!(Names::of_service(names.service()), names);
        assert!(Names::new("9lives", "0123456789").is_err());
        assert!(Names::new("p", "not hex").is_err());
    }

    #[test]
    fn long_names_are_shortened_to_distinct_dns_labels() {
        let programs = [
            "p".to_string(),
            "q".repeat(40),
            "r".repeat(62),
            "s".repeat(300),
        ];
        let jobs = [
            "a".to_string(),
            "b".repeat(30),
            "c".repeat(52),
            "d".repeat(300),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for program in &programs {
            for launch in ["0123456789", "abcdef0123"] {
                let names = Names::new(program, launch).unwrap();
                for name in [names.service().to_string(), names.network_policy()] {
                    assert!(is_dns_label(&name, MAX_NAME), "{name}");
                    assert!(seen.insert(name.clone()), "{name} twice");
                }
                for job in &jobs {
                    for job in [job.clone(), format!("{job}x")] {
                        let name = names.job(&job);
                        assert!(is_dns_label(&name, MAX_JOB_NAME), "{name}");
                        assert!(is_dns_label(&names.keys(&job), MAX_NAME), "{name}");
                        assert!(seen.insert(name.clone()), "{name} twice");
                        assert!(name.starts_with(&program[..1]), "{name}");
                    }
                }
            }
        }
        // Shortened, each part keeps a readable start.
        let names = Names::new(&"program_".repeat(10), "0123456789").unwrap();
        let job = names.job(&"group-".repeat(10));
        assert!(job.starts_with("program-"), "{job}");
        assert!(job.contains("-group-"), "{job}");
    }
}
