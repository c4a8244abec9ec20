//! The cluster launch types, end to end.
//!
//! - `k8s`: every example's manifests validate with `kubernetes-validate --strict` against
//!   Kubernetes 1.25, 1.30 and the newest schemas it bundles (an unknown kind fails), and pass
//!   Checkov's checks of pod hardening, the secret as a file and the NetworkPolicy; then "the
//!   pods, run as the manifests say" (`lp_tests::pods`): the seed program runs to completion, a
//!   failing node fails its pod and stops the others, a killed pod (or a killed coordinator)
//!   stops every other pod; asked for one, the coordinator serves the dashboard of every node,
//!   its counters rising, to the token only.
//! - `slurm`: against the real daemons of `scripts/slurm-up`: the seed program under
//!   `sbatch --wait` prints every node's output; a failing node fails the job, and no task was
//!   started with the launch secret; the coordinator serves the dashboard of every task, its
//!   counters rising, to the token only; a restart policy starts a failed or killed task again,
//!   which rejoins, and its callers reach it at its new address.
//!
//! A missing service (kubernetes-validate, Checkov, Slurm) skips its test with a message, except under
//! `CI=true`, where it fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use lp_tests::fault_nodes::LABELS;
use lp_tests::http::{get, nodes_when};
use lp_tests::pods::{self, service_available, str_at, Pods};
use lp_tests::support::{binary, run, workspace};

/// The program binaries of the workspace's examples and test programs.
const PROGRAMS: &[&str] = &[
    "consumer_producers",
    "slow_consumer_producers",
    "hello_world",
    "program_wait",
    "batching",
    "mapreduce",
    "kinds",
    "restarts",
    "correlation",
    "backpressure",
    "blobs",
    "cluster_probe",
    "cluster_long_names",
];

/// The `kubernetes-validate` command: `LP_KUBERNETES_VALIDATE`, the repo's `.venv` (made by
/// `scripts/setup`), or PATH.
fn kubernetes_validate() -> Result<PathBuf, String> {
    let candidates = [
        std::env::var_os("LP_KUBERNETES_VALIDATE").map(PathBuf::from),
        Some(workspace().join(".venv/bin/kubernetes-validate")),
        Some(PathBuf::from("kubernetes-validate")),
    ];
    for candidate in candidates.into_iter().flatten() {
        let works = Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if works {
            return Ok(candidate);
        }
    }
    Err("`kubernetes-validate` is not in .venv/bin nor on PATH".into())
}

/// Runs `kubernetes-validate --strict` on `files` for `version` (`None`: the newest bundled);
/// returns the version it checked against. Anything but one "passed" line per document — an
/// error, or a warning such as an unknown kind — is an error.
fn validate(
    tool: &Path,
    files: &[PathBuf],
    documents: usize,
    version: Option<&str>,
) -> Result<String, String> {
    let mut cmd = Command::new(tool);
    cmd.arg("--strict");
    if let Some(version) = version {
        cmd.args(["-k", version]);
    }
    cmd.args(files);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let passed = lines
        .iter()
        .filter(|l| l.starts_with("INFO") && l.contains(" passed "))
        .count();
    if !out.status.success() || passed != documents || passed != lines.len() {
        return Err(format!(
            "kubernetes-validate {version:?} ({}): {passed} of {documents} documents passed:\n{text}",
            out.status
        ));
    }
    let checked = text
        .split("against version ")
        .nth(1)
        .map(|s| s.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_default();
    Ok(checked)
}

#[test]
fn kubernetes_validate_fails_on_an_unknown_kind() {
    let Some(tool) = kubernetes_validate().ok().or_else(|| {
        service_available("kubernetes-validate", kubernetes_validate().map(drop));
        None
    }) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: batch/v1\nkind: Jbo\nmetadata:\n  name: x\n",
    )
    .expect("write");
    let error = validate(&tool, &[bad], 1, Some("1.30.0")).expect_err("an unknown kind must fail");
    assert!(error.contains("Jbo"), "{error}");
}

#[test]
fn k8s_manifests_of_every_example_validate_strictly() {
    let tool = match kubernetes_validate() {
        Ok(tool) => tool,
        Err(e) => {
            service_available("kubernetes-validate", Err(e));
            return;
        }
    };
    let mut newest = String::new();
    for program in PROGRAMS {
        let (_dir, out) = pods::manifests(program, &[]);
        let docs = pods::read_manifests(&out).expect("manifests read back as YAML");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
            .expect("out dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for version in [Some("1.25.0"), Some("1.30.0"), None] {
            match validate(&tool, &files, docs.len(), version) {
                Ok(checked) if version.is_none() => newest = checked,
                Ok(_) => {}
                Err(e) => panic!("{program}: {e}"),
            }
        }
        check_manifest_contents(program, &docs);
    }
    eprintln!(
        "every example's manifests validate against 1.25, 1.30 and {newest} (newest bundled)"
    );
}

/// The `checkov` command: `LP_CHECKOV`, the repo's `.venv` (made by `scripts/setup`), or PATH.
fn checkov() -> Result<PathBuf, String> {
    let candidates = [
        std::env::var_os("LP_CHECKOV").map(PathBuf::from),
        Some(workspace().join(".venv/bin/checkov")),
        Some(PathBuf::from("checkov")),
    ];
    for candidate in candidates.into_iter().flatten() {
        let works = Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if works {
            return Ok(candidate);
        }
    }
    Err("`checkov` is not in .venv/bin nor on PATH".into())
}

/// The Checkov checks every pod of every launch passes (the issue "Least privilege from the
/// topology"): no privilege escalation (20), a read-only root file system (22), not root (23),
/// no NET_RAW (28), a pod and a container security context (29, 30), the runtime's seccomp
/// profile (31), the secret as a file rather than an env var (35), no capabilities (37), no
/// service-account token (38), a high UID (40), a NetworkPolicy (CKV2_K8S_6). The others are
/// the user's choice (docs/cluster.md lists them).
const CHECKOV_REQUIRED: &[&str] = &[
    "CKV_K8S_20",
    "CKV_K8S_22",
    "CKV_K8S_23",
    "CKV_K8S_28",
    "CKV_K8S_29",
    "CKV_K8S_30",
    "CKV_K8S_31",
    "CKV_K8S_35",
    "CKV_K8S_37",
    "CKV_K8S_38",
    "CKV_K8S_40",
    "CKV2_K8S_6",
];

#[test]
fn k8s_manifests_of_every_example_pass_checkov() {
    let tool = match checkov() {
        Ok(tool) => tool,
        Err(e) => {
            service_available("checkov", Err(e));
            return;
        }
    };
    // Every program's manifests in a directory of its own, all checked in one run (Checkov
    // starts slowly); a finding's file path starts with the program. (Checkov skips directories
    // whose name starts with `.`, as tempfile's do by default.)
    let root = tempfile::Builder::new()
        .prefix("lp-checkov")
        .tempdir()
        .expect("temp dir");
    let mut dirs = Vec::new();
    for program in PROGRAMS {
        let (dir, out) = pods::manifests(program, &[]);
        let target = root.path().join(program);
        std::fs::rename(&out, &target)
            .or_else(|_| copy_dir(&out, &target))
            .expect("move the manifests");
        dirs.push(dir);
    }
    let output = Command::new(&tool)
        .args([
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--skip-download",
            "-d",
        ])
        .arg(root.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}; {}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let results = |kind: &str| -> Vec<(String, String, String)> {
        report["results"][kind]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|r| {
                        let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                        (field("check_id"), field("file_path"), field("resource"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (passed, failed) = (results("passed_checks"), results("failed_checks"));
    assert!(
        !passed.is_empty(),
        "checkov checked nothing ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let program_of = |path: &str| {
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let mut wrong = Vec::new();
    for check in CHECKOV_REQUIRED {
        for program in PROGRAMS {
            let ran = passed
                .iter()
                .any(|(id, path, _)| id == check && program_of(path) == *program);
            if !ran {
                wrong.push(format!("{check} did not pass on any object of {program}"));
            }
        }
        for (id, path, resource) in failed.iter().filter(|(id, _, _)| id == check) {
            wrong.push(format!("{id} fails on {resource} ({path})"));
        }
    }
    let mut others: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (id, _, _) in &failed {
        *others.entry(id.as_str()).or_default() += 1;
    }
    eprintln!(
        "checkov: {} passed, {} failed over {} programs; the failures, all the user's choice (docs/cluster.md): {others:?}",
        passed.len(),
        failed.len(),
        PROGRAMS.len()
    );
    assert!(wrong.is_empty(), "checkov:\n{}", wrong.join("\n"));
}

/// Copies the files of directory `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

/// What the schemas do not check: every object labelled, every Job indexed with pods that
/// cannot restart and at least one container, the secret never a plain value, and only the
/// coordinator holding the launch secret (a program's pods hold their keys).
fn check_manifest_contents(program: &str, docs: &[(String, serde_yaml::Value)]) {
    let all_text: String = docs
        .iter()
        .map(|(_, d)| serde_yaml::to_string(d).unwrap_or_default())
        .collect();
    let specs = pods::pod_specs(docs).expect("pod specs");
    let launch_secret = specs
        .iter()
        .find(|spec| spec.name.starts_with("lp-coordinator"))
        .and_then(|spec| spec.file_of("LP_SECRET_FILE"))
        .unwrap_or_else(|| panic!("{program}: no coordinator with a secret"));
    assert_eq!(launch_secret.len(), 64, "{program}: the launch secret");
    for spec in &specs {
        let keys = spec.file_of("LP_SECRET_FILE").unwrap_or_default();
        if !spec.name.starts_with("lp-coordinator") {
            assert!(
                keys.starts_with("lp keys v2\n") && !keys.contains(&launch_secret),
                "{program}/{}: LP_SECRET_FILE names the file of its job's keys",
                spec.name
            );
        }
        assert!(
            !all_text.contains(&keys),
            "{program}: the keys appear in plain text"
        );
        assert!(
            !spec.env.contains_key("LP_SECRET"),
            "{program}/{}: the secret as an env var",
            spec.name
        );
        let secret_volume = spec
            .volumes
            .iter()
            .find(|v| v.mount_path == "/var/run/secrets/lp")
            .unwrap_or_else(|| panic!("{program}/{}: no secret volume", spec.name));
        assert!(secret_volume.read_only, "{program}/{}", spec.name);
        let file = spec
            .file("/var/run/secrets/lp/secret")
            .expect("secret file");
        assert_eq!(
            file.mode, 0o440,
            "{program}/{}: secret file mode",
            spec.name
        );
    }
    assert!(
        !all_text.contains("secretKeyRef"),
        "{program}: the secret as an env var"
    );
    let mut kinds = Vec::new();
    for (file, doc) in docs {
        let kind = str_at(doc, &["kind"]);
        kinds.push(kind.to_string());
        for label in ["lp.program", "lp.launch"] {
            assert!(
                !str_at(doc, &["metadata", "labels", label]).is_empty(),
                "{program}/{file}: no `{label}` label"
            );
        }
        if kind == "Job" {
            assert!(
                !str_at(doc, &["metadata", "labels", "lp.group"]).is_empty(),
                "{program}/{file}: no lp.group"
            );
            assert_eq!(
                str_at(doc, &["spec", "completionMode"]),
                "Indexed",
                "{program}/{file}"
            );
            let completions =
                pods::at(doc, &["spec", "completions"]).and_then(serde_yaml::Value::as_u64);
            let parallelism =
                pods::at(doc, &["spec", "parallelism"]).and_then(serde_yaml::Value::as_u64);
            assert!(
                completions.is_some_and(|c| c > 0) && completions == parallelism,
                "{program}/{file}: completions = parallelism > 0"
            );
            // Pods never restart, except under a restart policy (in place, within backoffLimit).
            let backoff =
                pods::at(doc, &["spec", "backoffLimit"]).and_then(serde_yaml::Value::as_u64);
            match str_at(doc, &["spec", "template", "spec", "restartPolicy"]) {
                "Never" => assert_eq!(backoff, Some(0), "{program}/{file}"),
                "OnFailure" => assert!(backoff.is_some_and(|b| b > 0), "{program}/{file}"),
                other => panic!("{program}/{file}: restartPolicy `{other}`"),
            }
            let containers = pods::at(doc, &["spec", "template", "spec", "containers"])
                .and_then(serde_yaml::Value::as_sequence)
                .map_or(0, Vec::len);
            assert_eq!(containers, 1, "{program}/{file}: one container");
            check_restricted(&format!("{program}/{file}"), doc);
        }
        if kind == "NetworkPolicy" {
            check_network_policy(&format!("{program}/{file}"), doc, docs);
        }
    }
    assert_eq!(
        kinds.iter().filter(|k| *k == "Service").count(),
        1,
        "{program}: one Service"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "Secret").count(),
        kinds.iter().filter(|k| *k == "Job").count(),
        "{program}: one Secret per Job"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "NetworkPolicy").count(),
        1,
        "{program}: one NetworkPolicy"
    );
}

/// The `restricted` Pod Security Standard, as the Job `doc`'s pod template says it.
fn check_restricted(what: &str, doc: &serde_yaml::Value) {
    use serde_yaml::Value;
    let pod = pods::at(doc, &["spec", "template", "spec"]).expect("pod template");
    let container = &pods::at(pod, &["containers"])
        .and_then(Value::as_sequence)
        .expect("containers")[0];
    let is = |value: &Value, path: &[&str], expected: Value| {
        assert_eq!(pods::at(value, path), Some(&expected), "{what}: {path:?}");
    };
    is(pod, &["automountServiceAccountToken"], Value::Bool(false));
    is(pod, &["securityContext", "runAsNonRoot"], Value::Bool(true));
    is(
        pod,
        &["securityContext", "seccompProfile", "type"],
        "RuntimeDefault".into(),
    );
    let uid = pods::at(pod, &["securityContext", "runAsUser"]).and_then(Value::as_u64);
    assert!(
        uid.is_some_and(|u| u >= 10000),
        "{what}: a high UID, not {uid:?}"
    );
    for (key, expected) in [
        ("allowPrivilegeEscalation", false),
        ("readOnlyRootFilesystem", true),
        ("runAsNonRoot", true),
    ] {
        is(container, &["securityContext", key], Value::Bool(expected));
    }
    is(
        container,
        &["securityContext", "capabilities", "drop"],
        Value::Sequence(vec!["ALL".into()]),
    );
    // The one writable place: an emptyDir at /tmp, which TMPDIR names.
    let env = |name: &str| {
        pods::at(container, &["env"])
            .and_then(Value::as_sequence)
            .and_then(|env| env.iter().find(|v| str_at(v, &["name"]) == name))
            .map(|v| str_at(v, &["value"]).to_string())
    };
    assert_eq!(env("TMPDIR").as_deref(), Some("/tmp"), "{what}");
    let mounts = pods::at(container, &["volumeMounts"])
        .and_then(Value::as_sequence)
        .expect("volume mounts");
    let tmp = mounts
        .iter()
        .find(|m| str_at(m, &["mountPath"]) == "/tmp")
        .unwrap_or_else(|| panic!("{what}: nothing at /tmp"));
    let volume = pods::at(pod, &["volumes"])
        .and_then(Value::as_sequence)
        .and_then(|v| {
            v.iter()
                .find(|v| str_at(v, &["name"]) == str_at(tmp, &["name"]))
        })
        .unwrap_or_else(|| panic!("{what}: no volume for /tmp"));
    assert!(
        pods::at(volume, &["emptyDir"]).is_some(),
        "{what}: /tmp is an emptyDir"
    );
}

/// The launch's NetworkPolicy selects every pod of the launch and admits connections only from
/// them, on lp's ports.
fn check_network_policy(
    what: &str,
    policy: &serde_yaml::Value,
    docs: &[(String, serde_yaml::Value)],
) {
    use serde_yaml::Value;
    let launch = str_at(policy, &["metadata", "labels", "lp.launch"]);
    let selects = |selector: &Value, labels: &Value| {
        pods::at(selector, &["matchLabels"])
            .and_then(Value::as_mapping)
            .is_some_and(|want| {
                !want.is_empty() && want.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
    };
    let selector = pods::at(policy, &["spec", "podSelector"]).expect("podSelector");
    assert_eq!(
        str_at(selector, &["matchLabels", "lp.launch"]),
        launch,
        "{what}: selects the launch"
    );
    let types = pods::at(policy, &["spec", "policyTypes"]).and_then(Value::as_sequence);
    assert_eq!(types, Some(&vec![Value::from("Ingress")]), "{what}");
    let rules = pods::at(policy, &["spec", "ingress"])
        .and_then(Value::as_sequence)
        .expect("ingress rules");
    assert_eq!(rules.len(), 1, "{what}: one rule");
    let from = pods::at(&rules[0], &["from"])
        .and_then(Value::as_sequence)
        .expect("from");
    assert_eq!(from.len(), 1, "{what}: only pods of the launch");
    let peer = pods::at(&from[0], &["podSelector"]).expect("a pod selector");
    assert_eq!(
        str_at(peer, &["matchLabels", "lp.launch"]),
        launch,
        "{what}"
    );
    let ports = pods::at(&rules[0], &["ports"])
        .and_then(Value::as_sequence)
        .expect("ports");
    let first = pods::at(&ports[0], &["port"]).and_then(Value::as_u64);
    assert_eq!(first, Some(7070), "{what}: from the coordinator's port");
    for (file, doc) in docs.iter().filter(|(_, d)| str_at(d, &["kind"]) == "Job") {
        let labels = pods::at(doc, &["spec", "template", "metadata", "labels"]).expect("labels");
        assert!(
            selects(selector, labels),
            "{what} does not select the pods of {file}"
        );
        assert!(
            selects(peer, labels),
            "{what} does not admit the pods of {file}"
        );
    }
}

#[test]
fn k8s_block_settings_become_container_resources_and_env() {
    // A param value full of YAML syntax must reach the pods unchanged.
    let nasty = "no: #1 'it''s' \"q\" - [a, b] {c} \\ é\ttab";
    let (_dir, out) = pods::manifests("kinds", &["--num_actors", "3", "--label", nasty]);
    let docs = pods::read_manifests(&out).expect("manifests");
    let job = |name: &str| {
        docs.iter()
            .find(|(_, d)| str_at(d, &["kind"]) == "Job" && pods::program_job(d) == name)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("no Job `{name}`"))
    };
    let learner = job("learner");
    let container = &pods::at(&learner, &["spec", "template", "spec", "containers"])
        .and_then(serde_yaml::Value::as_sequence)
        .expect("containers")[0];
    assert_eq!(str_at(container, &["resources", "requests", "cpu"]), "500m");
    assert_eq!(
        str_at(container, &["resources", "requests", "memory"]),
        "64Mi"
    );
    assert_eq!(
        str_at(container, &["resources", "limits", "memory"]),
        "64Mi"
    );
    let specs = pods::pod_specs(&docs).expect("pods");
    let learner_pod = specs
        .iter()
        .find(|p| p.name == "learner-0")
        .expect("learner-0");
    assert_eq!(
        learner_pod.env.get("KINDS_MODE").map(String::as_str),
        Some("test")
    );
    assert_eq!(
        learner_pod.env.get("KINDS_LABEL").map(String::as_str),
        Some(nasty)
    );
    // The `echoes` process block is one pod; the actor group three.
    assert_eq!(
        pods::at(&job("echoes"), &["spec", "completions"]).and_then(serde_yaml::Value::as_u64),
        Some(1)
    );
    assert_eq!(
        pods::at(&job("actor"), &["spec", "completions"]).and_then(serde_yaml::Value::as_u64),
        Some(3)
    );
    assert!(
        learner_pod.args.contains(&format!("--label={nasty}")),
        "{:?}",
        learner_pod.args
    );
    assert!(
        learner_pod.args.contains(&"--num_actors=3".to_string()),
        "{:?}",
        learner_pod.args
    );
}

#[test]
fn k8s_bad_input_is_a_clear_error() {
    let mut cmd = Command::new(binary("consumer_producers"));
    cmd.args(["--lp_launch_type", "k8s"]);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(1), "{out:#?}");
    assert!(out.stderr.contains("`--image` is required"), "{out:#?}");
    let mut cmd = Command::new(binary("consumer_producers"));
    cmd.args([
        "--lp_launch_type",
        "k8s",
        "--image",
        "x",
        "--namespace",
        "Not_A_Namespace",
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(1), "{out:#?}");
    assert!(
        out.stderr.contains("not a Kubernetes namespace name"),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("panicked"), "{out:#?}");
}

/// Whether `name` is a DNS-1123 label of at most `max` characters, as Kubernetes wants the
/// names of Services, Jobs (and their pods' host names) to be.
fn is_dns_label(name: &str, max: usize) -> bool {
    name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[test]
fn k8s_object_names_fit_for_names_of_any_length() {
    let (_dir, out) = pods::manifests("cluster_long_names", &[]);
    let docs = pods::read_manifests(&out).expect("manifests");
    let mut jobs = Vec::new();
    for (file, doc) in &docs {
        let name = str_at(doc, &["metadata", "name"]);
        assert!(
            is_dns_label(name, 63),
            "{file}: `{name}` is not a DNS label"
        );
        if str_at(doc, &["kind"]) == "Job" {
            let completions = pods::at(doc, &["spec", "completions"])
                .and_then(serde_yaml::Value::as_u64)
                .expect("completions");
            let host = format!("{name}-{}", completions - 1);
            assert!(is_dns_label(&host, 63), "{file}: pod host `{host}`");
            assert!(
                name.len() <= 52,
                "{file}: `{name}` leaves no room for an index"
            );
            jobs.push(pods::program_job(doc).to_string());
        }
        let labels = pods::at(doc, &["metadata", "labels"])
            .and_then(serde_yaml::Value::as_mapping)
            .expect("labels");
        for (key, value) in labels {
            let value = value.as_str().unwrap_or_default();
            assert!(
                !value.is_empty()
                    && value.len() <= 63
                    && value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && value.ends_with(|c: char| c.is_ascii_alphanumeric()),
                "{file}: label {key:?} = `{value}`"
            );
        }
    }
    jobs.sort();
    assert_eq!(jobs.len(), 4, "three jobs and the coordinator: {jobs:?}");
    // The two groups differ only past the length a Job's name may have.
    let names: std::collections::BTreeSet<&str> = docs
        .iter()
        .map(|(_, d)| str_at(d, &["metadata", "name"]))
        .collect();
    assert_eq!(names.len(), docs.len(), "{names:#?}");
}

#[test]
fn two_programs_and_two_launches_share_a_namespace() {
    let mut seen = std::collections::BTreeMap::new();
    for program in [
        "consumer_producers",
        "consumer_producers",
        "hello_world",
        "cluster_long_names",
    ] {
        let (_dir, out) = pods::manifests(program, &[]);
        for (file, doc) in pods::read_manifests(&out).expect("manifests") {
            assert_eq!(str_at(&doc, &["metadata", "namespace"]), "lp-test");
            let key = (
                str_at(&doc, &["kind"]).to_string(),
                str_at(&doc, &["metadata", "name"]).to_string(),
            );
            if let Some(other) = seen.insert(key.clone(), format!("{program}/{file}")) {
                panic!("{key:?} is both {other} and {program}/{file}");
            }
        }
    }
}

#[test]
fn the_pods_of_a_program_with_long_names_find_each_other() {
    let (_dir, mut pods) = pods::start_program("cluster_long_names", &[], &[]);
    let all = pods.wait_all(Duration::from_secs(60));
    let dump = format!("{all:#?}");
    for pod in &all {
        assert_eq!(pod.code, Some(0), "{dump}");
    }
    assert_eq!(all.len(), 5, "{dump}");
    assert!(
        pods::ended(&all, "lp-coordinator-0")
            .output
            .contains("every process stopped cleanly"),
        "{dump}"
    );
}

#[test]
fn the_seed_program_runs_as_the_manifests_say() {
    let (_dir, mut pods) =
        pods::start_program("consumer_producers", &["--num_producers", "3"], &[]);
    let start = Instant::now();
    let all = pods.wait_all(Duration::from_secs(90));
    eprintln!(
        "the seed's 5 pods ran to completion in {:?}",
        start.elapsed()
    );
    let dump = || format!("{all:#?}");
    for pod in &all {
        assert_eq!(pod.code, Some(0), "pod {} failed:\n{}", pod.name, dump());
    }
    let consumer = pods::ended(&all, "consumer-0");
    for step in 0..10 {
        let expected = format!("[consumer] step {step}: [{step}, {step}, {step}]");
        assert!(
            consumer.output.contains(&expected),
            "missing `{expected}`:\n{}",
            dump()
        );
    }
    for i in 0..3 {
        let producer = pods::ended(&all, &format!("producer-{i}"));
        assert!(
            producer
                .output
                .contains(&format!("[producer/{i}] producer up in process")),
            "{}",
            dump()
        );
    }
    let coordinator = pods::ended(&all, "lp-coordinator-0");
    assert!(
        coordinator.output.contains("every process stopped cleanly"),
        "{}",
        dump()
    );
}

#[test]
fn a_program_whose_nodes_all_finish_ends_by_itself() {
    let (_dir, mut pods) = pods::start_program("hello_world", &["--name", "cluster"], &[]);
    let all = pods.wait_all(Duration::from_secs(60));
    let dump = format!("{all:#?}");
    for pod in &all {
        assert_eq!(pod.code, Some(0), "{dump}");
    }
    assert!(
        pods::ended(&all, "greeter-0")
            .output
            .contains("[greeter] Hello cluster!"),
        "{dump}"
    );
    assert!(
        pods::ended(&all, "lp-coordinator-0")
            .output
            .contains("every process stopped cleanly"),
        "{dump}"
    );
}

#[test]
fn a_failing_node_fails_its_pod_and_stops_the_others() {
    let (_dir, mut pods) = pods::start_program(
        "cluster_probe",
        &["--workers", "3", "--fail", "1", "--after", "300ms"],
        &[],
    );
    let all = pods.wait_all(Duration::from_secs(60));
    let dump = format!("{all:#?}");
    assert_eq!(pods::ended(&all, "member-1").code, Some(1), "{dump}");
    assert!(
        pods::ended(&all, "member-1")
            .output
            .contains("injected failure in worker 1"),
        "{dump}"
    );
    for other in ["member-0", "member-2"] {
        let pod = pods::ended(&all, other);
        assert_eq!(pod.code, Some(0), "{dump}");
        assert!(pod.output.contains("stopped"), "{dump}");
    }
    let coordinator = pods::ended(&all, "lp-coordinator-0");
    assert_eq!(
        coordinator.code,
        Some(1),
        "the program's status is the failure: {dump}"
    );
    assert!(
        coordinator
            .output
            .contains("node `member/1` failed: injected failure in worker 1"),
        "{dump}"
    );
}

/// Starts `cluster_probe` with workers that never stop by themselves, waits until every worker runs,
/// kills pod `victim`, and returns how every pod ended and how long the others took.
fn kill_one(victim: &str) -> (Vec<pods::Ended>, Duration) {
    let (_dir, mut pods) =
        pods::start_program("cluster_probe", &["--workers", "3", "--after", "1h"], &[]);
    for i in 0..3 {
        pods.wait_for_output(
            &format!("member-{i}"),
            &format!("worker {i} up"),
            Duration::from_secs(60),
        );
    }
    let killed = Instant::now();
    pods.kill(victim);
    let all = pods.wait_all(Duration::from_secs(30));
    let took = killed.elapsed();
    eprintln!("killed `{victim}`: every other pod exited {took:?} later");
    (all, took)
}

#[test]
fn a_killed_pod_stops_the_others() {
    let (all, took) = kill_one("member-1");
    let dump = format!("{all:#?}");
    assert_eq!(pods::ended(&all, "member-1").signal, Some(9), "{dump}");
    for other in ["member-0", "member-2"] {
        let pod = pods::ended(&all, other);
        assert_eq!(pod.code, Some(0), "{dump}");
        assert!(pod.output.contains("stopped"), "{dump}");
    }
    let coordinator = pods::ended(&all, "lp-coordinator-0");
    assert_eq!(coordinator.code, Some(1), "{dump}");
    assert!(
        coordinator.output.contains("node `member/1` failed"),
        "{dump}"
    );
    assert!(
        took < Duration::from_secs(10),
        "the others took {took:?} to stop:\n{dump}"
    );
}

#[test]
fn a_killed_coordinator_stops_every_pod() {
    let (all, took) = kill_one("lp-coordinator-0");
    let dump = format!("{all:#?}");
    for i in 0..3 {
        let pod = pods::ended(&all, &format!("member-{i}"));
        assert_eq!(
            pod.code,
            Some(1),
            "a pod that lost the coordinator fails: {dump}"
        );
        assert!(pod.output.contains("lost the coordinator"), "{dump}");
    }
    assert!(
        took < Duration::from_secs(10),
        "the pods took {took:?} to stop:\n{dump}"
    );
}

/// Whether this script's Slurm cluster answers: a node is up, idle or busy (running jobs, or
/// ending one, as after another test's `scancel`), and responding (no `*`).
fn slurm() -> Result<(), String> {
    let out = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map_err(|e| format!("cannot run sinfo: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let up = |state: &str| {
        !state.ends_with('*')
            && ["idle", "mixed", "allocated", "completing"]
                .iter()
                .any(|up| state.starts_with(up))
    };
    if out.status.success() && text.lines().any(|l| up(l.trim())) {
        Ok(())
    } else {
        Err(format!(
            "no Slurm node is up (sinfo: {}{}); run scripts/slurm-up",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Writes the batch script of `program` run with `flags` into `dir`; its path.
fn slurm_script(dir: &Path, program: &str, flags: &[&str]) -> PathBuf {
    let script = dir.join(format!("{program}.sbatch"));
    let mut cmd = Command::new(binary(program));
    cmd.args(["--lp_launch_type", "slurm"])
        .args(flags)
        .arg("--out")
        .arg(&script);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(0), "{out:#?}");
    script
}

#[test]
fn slurm_runs_the_seed_program_under_sbatch_wait() {
    if !service_available("a Slurm cluster", slurm()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = slurm_script(dir.path(), "consumer_producers", &["--num_producers", "3"]);
    let mut cmd = Command::new("sbatch");
    cmd.args(["--wait", "--parsable"]).arg(&script);
    let out = run(cmd, Duration::from_secs(180));
    let job = out.stdout.trim().to_string();
    let log = std::fs::read_to_string(dir.path().join(format!("consumer_producers-{job}.out")))
        .unwrap_or_default();
    assert_eq!(out.status, Some(0), "{out:#?}\n--- job output\n{log}");
    for step in 0..10 {
        let expected = format!("[consumer] step {step}: [{step}, {step}, {step}]");
        assert!(log.contains(&expected), "missing `{expected}`:\n{log}");
    }
    for i in 0..3 {
        assert!(
            log.contains(&format!("[producer/{i}] producer up in process")),
            "{log}"
        );
    }
    assert!(log.contains("every process stopped cleanly"), "{log}");
}

#[test]
fn slurm_a_failing_node_fails_the_job() {
    if !service_available("a Slurm cluster", slurm()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("cluster_probe.sbatch");
    // The binary submits and follows the job itself.
    let mut cmd = Command::new(binary("cluster_probe"));
    cmd.args([
        "--lp_launch_type",
        "slurm",
        "--submit",
        "--wait",
        "--workers",
        "3",
        "--fail",
        "1",
        "--after",
        "300ms",
        "--out",
    ])
    .arg(&script);
    let out = run(cmd, Duration::from_secs(180));
    let all = out.all();
    assert_eq!(
        out.status,
        Some(1),
        "the job fails with the program's status:\n{all}"
    );
    assert!(all.contains("[member/1] worker 1 fails"), "{all}");
    assert!(
        all.contains("node `member/1` failed: injected failure in worker 1"),
        "{all}"
    );
    for i in [0, 2] {
        assert!(
            all.contains(&format!("[member/{i}] worker {i} stopped")),
            "{all}"
        );
    }
    assert!(
        all.contains("(mode: cluster test)"),
        "the block's env reaches the tasks:\n{all}"
    );
    // A task's first environment, which `/proc/<pid>/environ` shows for its life, holds its
    // job's keys, never the launch secret.
    for i in 0..3 {
        let started = all
            .lines()
            .find(|l| l.contains(&format!("worker {i} was started with ")))
            .unwrap_or_else(|| panic!("worker {i}'s environment:\n{all}"));
        assert!(started.contains(" LP_KEYS"), "{started}");
        assert!(!started.contains("LP_SECRET"), "{started}");
    }
}

/// A submitted Slurm job, cancelled when dropped (a failed test leaves nothing running).
struct SlurmJob(String);

impl Drop for SlurmJob {
    fn drop(&mut self) {
        let _ = Command::new("scancel").arg(&self.0).status();
        // Until it has left the queue, for at most a minute (never a panic: this may run while
        // a failed test unwinds).
        let gone = || {
            Command::new("squeue")
                .args(["--noheader", "--jobs", &self.0])
                .output()
                .map_or(true, |out| out.stdout.trim_ascii().is_empty())
        };
        let started = Instant::now();
        while !gone() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn slurm_the_coordinator_serves_the_dashboard_of_every_task_to_the_token_only() {
    if !service_available("a Slurm cluster", slurm()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = ["--mode", "calls", "--lp_dashboard", "127.0.0.1:0"];
    let job = slurm_submit(dir.path(), "faults", &flags);
    let output = slurm_output_with(dir.path(), "faults", &job, "lp: dashboard at ");
    let url = output
        .lines()
        .find_map(|l| l.split("lp: dashboard at http://").nth(1))
        .unwrap_or_else(|| panic!("no dashboard line:\n{output}"));
    let (addr, token) = url
        .trim()
        .split_once("/?token=")
        .expect("an address and a token");
    serves_every_node_to_the_token_only(addr, token);
    let metrics = get(addr, &format!("/metrics?token={token}"), "");
    assert_eq!(metrics.status, 200, "{metrics:?}");
    assert!(metrics.body.contains("node=\"victim\""), "{}", metrics.body);
}

/// The pid of the process of unit `rank` of job `job` of `slurm_job`, a Slurm launch of
/// `binary`: the task itself, not `srun` (which has its environment too).
fn slurm_task(slurm_job: &SlurmJob, binary: &str, job: &str, rank: usize) -> Option<i32> {
    let wanted = [
        format!("SLURM_JOB_ID={}", slurm_job.0),
        format!("LP_JOB={job}"),
        format!("LP_RANK={rank}"),
    ];
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
            (comm.trim() == binary && wanted.iter().all(|w| vars.contains(&w.as_bytes())))
                .then_some(pid)
        })
}

/// Polls the output of Slurm job `job` in `dir` (of `program`) until `ready` says so; the
/// output then.
fn slurm_output_when(
    dir: &Path,
    program: &str,
    job: &SlurmJob,
    ready: impl Fn(&str) -> bool,
) -> String {
    let log = dir.join(format!("{program}-{}.out", job.0));
    lp_tests::support::poll_until(
        Duration::from_secs(60),
        Duration::from_millis(200),
        || std::fs::read_to_string(&log).unwrap_or_default(),
        |output| ready(output),
    )
}

/// Polls the output of Slurm job `job` in `dir` (of `program`) until it holds `text`; the
/// output then.
fn slurm_output_with(dir: &Path, program: &str, job: &SlurmJob, text: &str) -> String {
    slurm_output_when(dir, program, job, |output| output.contains(text))
}

/// SIGKILLs the process of unit `rank` of job `unit_job` of `job` (a launch of `binary`), then
/// waits until the batch script has started another.
fn slurm_kill_and_see_it_back(job: &SlurmJob, binary: &str, unit_job: &str, rank: usize) {
    let task = || slurm_task(job, binary, unit_job, rank);
    let poll = |ready: &dyn Fn(&Option<i32>) -> bool| {
        lp_tests::support::poll_until(
            Duration::from_secs(30),
            Duration::from_millis(100),
            task,
            ready,
        )
    };
    let killed = poll(&Option::is_some).unwrap_or_default();
    let pid = rustix::process::Pid::from_raw(killed).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("killed");
    poll(&|pid| pid.is_some_and(|pid| pid != killed));
}

/// Writes the batch script of `program` run with `flags` into `dir`, and submits it; the job.
fn slurm_submit(dir: &Path, program: &str, flags: &[&str]) -> SlurmJob {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable").arg(slurm_script(dir, program, flags));
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(0), "{out:#?}");
    SlurmJob(out.stdout.trim().to_string())
}

#[test]
fn slurm_a_restart_policy_starts_a_failed_task_again_which_rejoins() {
    if !service_available("a Slurm cluster", slurm()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let attempts = dir.path().join("attempts");
    let attempts_arg = attempts.to_string_lossy().into_owned();
    let flags = ["--attempts_file", &attempts_arg, "--failures", "2"];
    let job = slurm_submit(dir.path(), "restarts", &flags);
    // The crasher fails twice (each time its step starts again and rejoins), then succeeds.
    slurm_output_with(dir.path(), "restarts", &job, "restart 2 of 2");
    lp_tests::support::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || std::fs::read_to_string(&attempts).unwrap_or_default(),
        |text| text.lines().count() == 3,
    );
    // A killed courier comes back too.
    slurm_kill_and_see_it_back(&job, "restarts", "flaky", 1);
    slurm_output_with(
        dir.path(),
        "restarts",
        &job,
        "`flaky/1`: its process ended without a word (killed, or lost its connection); its process restarts (restart 1 of 2)",
    );
}

#[test]
fn slurm_a_restarted_task_serving_elsewhere_is_found_by_its_callers() {
    if !service_available("a Slurm cluster", slurm()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // The caller pings phoenix/0 and phoenix/1 in turn, counting failed calls; each phoenix
    // process says when it ran its first ping.
    let flags = ["--mode", "chaos", "--target", "phoenix"];
    let job = slurm_submit(dir.path(), "faults", &flags);
    let first_pings = |output: &str| output.matches("phoenix: ping #1 ran").count();
    let output = slurm_output_with(dir.path(), "faults", &job, "phoenix: ping #1000 ran");
    assert_eq!(first_pings(&output), 2, "{output}");
    slurm_kill_and_see_it_back(&job, "faults", "phoenix", 1);
    // The new process serves on another port (Slurm gives no fixed one): the caller reaches it
    // there once the coordinator has handed every process the new address table.
    let output = slurm_output_when(dir.path(), "faults", &job, |output| {
        first_pings(output) == 3
    });
    assert!(
        output.contains("`phoenix/1`: its process ended without a word (killed, or lost its connection); its process restarts (restart 1 of 1000)"),
        "{output}"
    );
    assert!(!output.contains("node `caller` failed"), "{output}");
}

#[test]
fn k8s_apply_pipes_the_manifests_to_kubectl() {
    // A stand-in `kubectl` that records how it was called: no cluster can be installed here.
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = dir.path().join("kubectl");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" > {0}/args\ncat > {0}/stdin\necho 'job.batch/producer created'\n",
            dir.path().display()
        ),
    )
    .expect("write fake kubectl");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(binary("consumer_producers"));
    cmd.env("PATH", path).args([
        "--lp_launch_type",
        "k8s",
        "--image",
        "x.example/cp:1",
        "--apply",
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert_eq!(
        out.stdout.trim(),
        "job.batch/producer created",
        "manifests are not printed: {out:#?}"
    );
    assert!(
        out.stderr.contains(
            "kubectl delete jobs,services,secrets,networkpolicies -n default -l lp.launch="
        ),
        "{out:#?}"
    );
    // Every name starts with the program and the launch id, which the message names.
    let launch = out
        .stderr
        .split("as launch ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no launch id: {out:#?}"));
    let prefix = format!("consumer-producers-{launch}");
    assert!(
        out.stderr.contains(&format!(
            "kubectl wait -n default --for=condition=complete job/{prefix}-lp-coordinator"
        )),
        "{out:#?}"
    );
    let args = std::fs::read_to_string(dir.path().join("args")).expect("kubectl ran");
    assert_eq!(args.trim(), "apply -f -");
    let stdin = std::fs::read_to_string(dir.path().join("stdin")).expect("kubectl read stdin");
    for kind in [
        "kind: Secret".to_string(),
        "kind: Service".to_string(),
        "kind: Job".to_string(),
        "kind: NetworkPolicy".to_string(),
        format!("name: {prefix}-lp-coordinator-keys"),
        format!("name: {prefix}-consumer-keys"),
        format!("name: {prefix}-ingress"),
        format!("name: {prefix}\n"),
        format!("name: {prefix}-lp-coordinator"),
        format!("name: {prefix}-producer"),
        format!("name: {prefix}-consumer"),
    ] {
        assert!(stdin.contains(&kind), "missing `{kind}`:\n{stdin}");
    }
}

#[test]
fn k8s_a_restart_policy_restarts_the_container_which_rejoins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let attempts = dir.path().join("attempts");
    let attempts_arg = attempts.to_string_lossy().into_owned();
    let (_manifests, out) = pods::manifests(
        "restarts",
        &["--attempts_file", &attempts_arg, "--failures", "2"],
    );
    let docs = pods::read_manifests(&out).expect("manifests");
    let specs = pods::pod_specs(&docs).expect("pod specs");
    for (job, limit) in [("crasher", 2), ("flaky", 4)] {
        let spec = specs.iter().find(|s| s.job == job).expect("job");
        assert!(spec.restart_on_failure, "`{job}` restarts on failure");
        assert_eq!(
            spec.backoff_limit, limit,
            "`{job}`: max × replicas failures"
        );
    }
    let mut pods = Pods::start(&binary("restarts"), specs).expect("pods start");
    // The crasher fails twice (each time its container restarts and rejoins), then succeeds.
    pods.wait_for_restarts("crasher-0", 2, Duration::from_secs(60));
    pods.wait_for_output(
        "lp-coordinator-0",
        "restart 2 of 2",
        Duration::from_secs(30),
    );
    // A killed courier comes back too, and the program keeps running.
    pods.kill("flaky-1");
    pods.wait_for_restarts("flaky-1", 1, Duration::from_secs(30));
    pods.wait_for_output("lp-coordinator-0", "`flaky/1`: its process ended without a word (killed, or lost its connection); its process restarts (restart 1 of 2)", Duration::from_secs(30));
    // `kubectl delete` sends SIGTERM: a clean stop of every pod.
    std::thread::sleep(Duration::from_millis(500));
    pods.signal("lp-coordinator-0", rustix::process::Signal::TERM);
    let all = pods.wait_all(Duration::from_secs(30));
    let dump = format!(
        "{all:#?}\n{}",
        std::fs::read_to_string(&attempts).unwrap_or_default()
    );
    for pod in &all {
        assert_eq!(pod.code, Some(0), "{}: {dump}", pod.name);
    }
    assert_eq!(pods::ended(&all, "crasher-0").restarts, 2, "{dump}");
    assert_eq!(pods::ended(&all, "flaky-1").restarts, 1, "{dump}");
    let lines = std::fs::read_to_string(&attempts)
        .unwrap_or_default()
        .lines()
        .count();
    assert_eq!(
        lines, 3,
        "two failed attempts and one that succeeded: {dump}"
    );
}

#[test]
fn a_cluster_process_with_a_bad_environment_fails_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str, contents: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("write");
        path.to_string_lossy().into_owned()
    };
    let secret = file("secret", &"ab".repeat(32));
    let not_a_secret = file("not-a-secret", "xyz\n");
    let nowhere = dir.path().join("nowhere").to_string_lossy().into_owned();
    let base = [
        ("LP_CLUSTER", "k8s"),
        ("LP_SERVICE", "consumer-producers"),
        ("LP_NAMESPACE", "lp-test"),
        ("LP_SECRET_FILE", secret.as_str()),
        ("JOB_COMPLETION_INDEX", "0"),
    ];
    let hex = "ab".repeat(32);
    let not_a_secret_says = format!(
        "cannot read the launch's keys from `{not_a_secret}`, the file `LP_SECRET_FILE` names"
    );
    let nowhere_says = format!("cannot read the launch's keys from `{nowhere}`");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("LP_JOB", "consumer"), ("LP_CLUSTER", "nomad")],
            "`LP_CLUSTER` is not `k8s` or `slurm`: `nomad`",
        ),
        (&[], "did not set `LP_JOB`"),
        (
            &[("LP_JOB", "consumer"), ("LP_SECRET_FILE", &not_a_secret)],
            &not_a_secret_says,
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_SECRET_FILE", &not_a_secret)],
            "does not hold a launch secret (64 hex digits) or the keys the manifests give",
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_SECRET_FILE", &nowhere)],
            &nowhere_says,
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_SECRET_FILE", &nowhere)],
            "it cannot be read: No such file or directory",
        ),
        // On Kubernetes the secret comes from a file only, never from the environment.
        (
            &[("LP_JOB", "consumer"), ("LP_SECRET", &hex)],
            "did not set `LP_SECRET_FILE`",
        ),
        (
            &[("LP_JOB", "consumer"), ("JOB_COMPLETION_INDEX", "first")],
            "is not an index",
        ),
        (&[("LP_JOB", "nobody")], "has no cluster job `nobody`"),
        (
            &[("LP_JOB", "producer"), ("JOB_COMPLETION_INDEX", "7")],
            "job `producer` has 2 processes",
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_LAYOUT", "0000")],
            "the launch was made for layout 0000",
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_HOSTS", "x.svc")],
            "`LP_HOSTS` is not a list of `name=ip` or `name=ip:port`: `x.svc`",
        ),
        (
            &[("LP_JOB", "consumer"), ("LP_PORT", "http")],
            "`LP_PORT` is not a port (1 to 64510): `http`",
        ),
    ];
    for (overrides, expected) in cases {
        let mut cmd = Command::new(binary("consumer_producers"));
        cmd.env_clear().envs(base);
        cmd.envs(overrides.iter().copied());
        if overrides.iter().any(|(k, _)| *k == "LP_SECRET") {
            cmd.env_remove("LP_SECRET_FILE");
        }
        let out = run(cmd, Duration::from_secs(30));
        assert!(
            matches!(out.status, Some(1 | 2)) && out.stderr.contains(expected),
            "{overrides:?}: expected `{expected}`:\n{out:#?}"
        );
        assert!(!out.stderr.contains("panicked"), "{out:#?}");
    }
}

#[test]
fn the_batch_script_s_key_step_prints_the_keys_of_the_nodes_listed_and_no_others() {
    let secret = "ab".repeat(32);
    let keys_of = |listed: &str| {
        let mut cmd = Command::new(binary("consumer_producers"));
        cmd.env_clear().envs([
            ("LP_CLUSTER", "slurm"),
            ("LP_SECRET", secret.as_str()),
            ("LP_KEYS_OF", listed),
            ("LP_NODES", "6"),
        ]);
        run(cmd, Duration::from_secs(30))
    };
    let out = keys_of("0,2");
    assert_eq!(out.status, Some(0), "{out:#?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() > 5, "{out:#?}");
    assert!(
        lines[5..].iter().all(|l| l.starts_with("hash ")),
        "{out:#?}"
    );
    assert_eq!(lines[0], "lp keys v2");
    assert!(lines[1].starts_with("member "), "{out:#?}");
    assert!(
        lines[2].starts_with("root ") && lines[2].ends_with(" 3"),
        "{out:#?}"
    );
    assert!(lines[3].starts_with("node 0 ") && lines[4].starts_with("node 2 "));
    assert!(!out.stdout.contains(&secret), "the launch secret itself");
    // The same secret gives the same keys; another list, others.
    assert_eq!(keys_of("0,2").stdout, out.stdout);
    assert!(!keys_of("1").stdout.contains(lines[3]));
    let bad = keys_of("0,two");
    assert_eq!(bad.status, Some(2), "{bad:#?}");
    assert!(
        bad.stderr
            .contains("`LP_KEYS_OF` is not a list of node ids, comma separated: `0,two`"),
        "{bad:#?}"
    );
    // A task whose keys are not keys says so, and never shows them.
    let mut cmd = Command::new(binary("consumer_producers"));
    cmd.env_clear().envs([
        ("LP_CLUSTER", "slurm"),
        ("LP_JOB", "consumer"),
        ("SLURM_PROCID", "0"),
        ("LP_RENDEZVOUS", "127.0.0.1:1"),
        ("LP_KEYS", "hunter2"),
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status, Some(2), "{out:#?}");
    assert!(
        out.stderr
            .contains("`LP_KEYS` is not a launch secret or the keys the batch script gives")
            && !out.stderr.contains("hunter2"),
        "{out:#?}"
    );
}

#[test]
fn a_process_without_the_launch_secret_is_refused_by_the_coordinator() {
    let (_dir, out) = pods::manifests("hello_world", &[]);
    let docs = pods::read_manifests(&out).expect("manifests");
    let specs = pods::pod_specs(&docs).expect("pod specs");
    let coordinator = specs
        .iter()
        .find(|s| s.job == "lp-coordinator")
        .expect("coordinator")
        .clone();
    let greeter = specs
        .iter()
        .find(|s| s.job == "greeter")
        .expect("greeter")
        .clone();
    let mut wrong = greeter.clone();
    let path = wrong
        .env
        .get("LP_SECRET_FILE")
        .cloned()
        .expect("LP_SECRET_FILE");
    wrong
        .set_file(&path, "cd".repeat(32).as_bytes())
        .expect("the secret file");
    // Only the impostor and the coordinator: the impostor is refused, the coordinator times out
    // waiting for the real greeter and says which process never came.
    let mut pods = Pods::start(&binary("hello_world"), vec![coordinator, wrong]).expect("start");
    let all = {
        let start = Instant::now();
        pods.wait_for_output("greeter-0", "wrong launch secret", Duration::from_secs(30));
        pods.wait_for_output("lp-coordinator-0", "no valid key", Duration::from_secs(30));
        pods.signal("lp-coordinator-0", rustix::process::Signal::TERM);
        let all = pods.wait_all(Duration::from_secs(30));
        eprintln!("refused within {:?}", start.elapsed());
        all
    };
    let dump = format!("{all:#?}");
    assert_eq!(pods::ended(&all, "greeter-0").code, Some(1), "{dump}");
    assert!(
        !pods::ended(&all, "greeter-0").output.contains("Hello"),
        "the impostor ran nothing: {dump}"
    );
}

/// A number field of node `label` among `nodes`.
fn count(nodes: &[Value], label: &str, field: &str) -> u64 {
    let node = nodes.iter().find(|n| n["label"] == label);
    let node = node.unwrap_or_else(|| panic!("no node `{label}` in {nodes:#?}"));
    node[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field}: {node:#?}"))
}

/// That the dashboard at `addr` (a coordinator's, of the `faults` program in mode `calls`)
/// refuses what does not bring `token`, and serves every node, all up, their counters rising
/// (each unit reports every 500 ms).
fn serves_every_node_to_the_token_only(addr: &str, token: &str) {
    for target in ["/api/nodes", "/api/nodes?token=wrong"] {
        let refused = get(addr, target, "");
        assert!(
            matches!(refused.status, 401 | 403) && !refused.body.contains("victim"),
            "{target}: {refused:?}"
        );
    }
    let up = |nodes: &[Value]| {
        nodes.len() == LABELS.len()
            && nodes
                .iter()
                .all(|n| n["state"] == "running" || n["state"] == "serving")
            && count(nodes, "victim", "calls") > 0
            && count(nodes, "caller", "calls_made") > 0
    };
    let before = nodes_when(addr, token, up);
    let labels: Vec<&str> = before.iter().filter_map(|n| n["label"].as_str()).collect();
    assert_eq!(labels, LABELS, "{before:#?}");
    let (served, made) = (
        count(&before, "victim", "calls"),
        count(&before, "caller", "calls_made"),
    );
    let after = nodes_when(addr, token, |nodes| {
        count(nodes, "victim", "calls") > served && count(nodes, "caller", "calls_made") > made
    });
    eprintln!(
        "the coordinator's dashboard: victim served {served} then {}, caller made {made} then {}",
        count(&after, "victim", "calls"),
        count(&after, "caller", "calls_made")
    );
}

#[test]
fn the_coordinator_serves_the_dashboard_of_every_pod_to_the_token_only() {
    // Bound to every address of the coordinator's pod, so the test reaches it from outside
    // the pod's network namespace (where one is made); on a cluster, 127.0.0.1 and
    // `kubectl port-forward`.
    let flags = ["--mode", "calls", "--lp_dashboard", "0.0.0.0:0"];
    let (_dir, mut pods) = pods::start_program("faults", &flags, &[]);
    let coordinator = "lp-coordinator-0";
    pods.wait_for_output(coordinator, "lp: dashboard at ", Duration::from_secs(60));
    let output = pods.output(coordinator);
    let url = output
        .lines()
        .find_map(|l| l.strip_prefix("lp: dashboard at http://0.0.0.0:"))
        .unwrap_or_else(|| panic!("no dashboard line:\n{output}"));
    let (port, token) = url
        .trim()
        .split_once("/?token=")
        .expect("a port and a token");
    let ip = pods.address(coordinator, 0).ip();
    let addr = format!("{ip}:{port}");
    serves_every_node_to_the_token_only(&addr, token);
    // The terminal view of the same dashboard.
    let top = Command::new(binary("lpc"))
        .args(["top", "--once", &format!("http://{addr}/?token={token}")])
        .output()
        .expect("lpc runs");
    let frame = String::from_utf8_lossy(&top.stdout);
    assert!(top.status.success(), "{top:?}");
    assert!(frame.starts_with("faults (k8s"), "{frame}");
    for label in LABELS {
        assert!(frame.contains(label), "no `{label}` in:\n{frame}");
    }
    pods.signal(coordinator, rustix::process::Signal::TERM);
    let all = pods.wait_all(Duration::from_secs(60));
    assert_eq!(pods::ended(&all, coordinator).code, Some(0), "{all:#?}");
}

#[test]
fn mapreduce_on_pods_counts_what_one_process_counts() {
    let input = workspace().join("examples/mapreduce/data");
    let dir = tempfile::tempdir().expect("temp dir");
    let (local, pods_out) = (dir.path().join("local.txt"), dir.path().join("pods.txt"));
    let mut cmd = Command::new(binary("mapreduce"));
    cmd.args(["--lp_launch_type", "local_mt", "--input_dir"])
        .arg(&input)
        .arg("--output")
        .arg(&local);
    let out = run(cmd, Duration::from_secs(120));
    assert_eq!(out.status, Some(0), "{out:#?}");
    let input_arg = input.to_string_lossy().into_owned();
    let output_arg = pods_out.to_string_lossy().into_owned();
    let (_dir, mut pods) = pods::start_program(
        "mapreduce",
        &[
            "--input_dir",
            &input_arg,
            "--output",
            &output_arg,
            "--num_mappers",
            "3",
            "--num_reducers",
            "2",
        ],
        &[],
    );
    let all = pods.wait_all(Duration::from_secs(120));
    let dump = format!("{all:#?}");
    for pod in &all {
        assert_eq!(pod.code, Some(0), "{}: {dump}", pod.name);
    }
    let expected = std::fs::read_to_string(&local).expect("local counts");
    let got = std::fs::read_to_string(&pods_out).unwrap_or_default();
    assert!(!expected.is_empty());
    assert_eq!(got, expected, "{dump}");
}
