//! Where `local_mp` and `test_mp` launches keep their private directories (the nodes' sockets,
//! the control socket, the dashboard's address): one rule for the launcher, which makes them
//! (`lp`), and for `lpc top`, which finds the running launches (`lpc`), so that the two cannot
//! drift apart.
//!
//! A launch directory is `lp-<launcher pid>-<12 hex digits>` in a [`base`].

use std::path::PathBuf;

/// The file in a launch directory that holds the URL of the launch's dashboard, when it serves
/// one.
pub const DASHBOARD_URL_FILE: &str = "dashboard.url";

/// The hex digits that tell two launches of one launcher apart.
const TAG_LEN: usize = 12;

/// `var`, when it is set to an absolute path.
fn absolute_var(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
}

/// A directory this user can create entries in.
fn usable(dir: &PathBuf) -> bool {
    dir.is_dir()
        && rustix::fs::access(
            dir,
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
        )
        .is_ok()
}

/// Where a launch makes its directory: `$XDG_RUNTIME_DIR` (the user's own directory for
/// sockets, in memory), else `$TMPDIR` (the user's choice), else `/dev/shm` (in memory), else
/// the temp directory. In memory, binding a node's socket creates no inode on disk: on ext4,
/// each costs a scan past recently deleted inodes, which grows with every launch (a 256-node
/// launch took a third longer in `/tmp` than in `/dev/shm`).
pub fn base() -> PathBuf {
    absolute_var("XDG_RUNTIME_DIR")
        .filter(usable)
        .or_else(|| absolute_var("TMPDIR"))
        .or_else(|| Some(PathBuf::from("/dev/shm")).filter(usable))
        .unwrap_or_else(std::env::temp_dir)
}

/// Every place [`base`] may pick, under any environment this one's variables describe (a
/// launch may have run with another): where `lpc top` looks. Without duplicates.
pub fn bases() -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> = ["XDG_RUNTIME_DIR", "TMPDIR"]
        .into_iter()
        .filter_map(absolute_var)
        .chain([PathBuf::from("/dev/shm"), std::env::temp_dir()])
        .collect();
    bases.sort();
    bases.dedup();
    bases
}

/// The name of the directory of a launch by process `pid`, told apart from its others by
/// `tag` (hex digits, of which the first 12 are kept).
///
/// # Panics
///
/// When `tag` has fewer than 12 characters.
pub fn dir_name(pid: u32, tag: &str) -> String {
    format!("lp-{pid}-{}", &tag[..TAG_LEN])
}

/// The launcher's pid, when `name` is a launch directory's [`dir_name`].
pub fn launcher_pid(name: &str) -> Option<u32> {
    let (pid, tag) = name.strip_prefix("lp-")?.split_once('-')?;
    (tag.len() == TAG_LEN && tag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_name_gives_its_launcher_back_and_nothing_else_does() {
        let name = dir_name(4242, "0123456789abcdef");
        assert_eq!(name, "lp-4242-0123456789ab");
        assert_eq!(launcher_pid(&name), Some(4242));
        for other in [
            "lp-4242",
            "lp-4242-0123",
            "lp-x-0123456789ab",
            "lp-4242-0123456789zz",
            "xp-4242-0123456789ab",
        ] {
            assert_eq!(launcher_pid(other), None, "{other}");
        }
    }

    #[test]
    fn the_base_is_one_of_the_bases() {
        assert!(bases().contains(&base()), "{:?} in {:?}", base(), bases());
    }
}
