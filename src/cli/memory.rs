//! How much memory the system gives a run: the smallest of `/proc/meminfo`'s available
//! memory, the cgroup (v2 or v1) headroom and the address space left under `ulimit -v`,
//! which the memory check of `ir::memory` compares its estimate with.

use crate::ir::memory::{LimitKind, MemoryLimit};

/// What is assumed when no limit can be read.
const ASSUMED_BYTES: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;

/// How many bytes a run may use: the smallest of the memory the machine has available, the
/// memory left under the process's cgroup limit (v2, or v1) and the address space left
/// under `ulimit -v`; a conservative 4 GiB when none can be read.
pub fn available_memory() -> MemoryLimit {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    memory_limit(&read)
}

/// [`available_memory`] over any way of reading the system's files (tests pass samples).
fn memory_limit(read: &dyn Fn(&str) -> Option<String>) -> MemoryLimit {
    let mut limits = Vec::new();
    if let Some(bytes) = read("/proc/meminfo").as_deref().and_then(mem_available) {
        limits.push(MemoryLimit {
            bytes,
            kind: LimitKind::Available,
        });
    }
    if let Some(bytes) = cgroup_headroom(read) {
        limits.push(MemoryLimit {
            bytes,
            kind: LimitKind::Cgroup,
        });
    }
    if let Some(limit) = read("/proc/self/limits")
        .as_deref()
        .and_then(address_space_limit)
    {
        let mapped = read("/proc/self/status")
            .as_deref()
            .and_then(|s| status_kib(s, "VmSize:"))
            .unwrap_or(0.0);
        limits.push(MemoryLimit {
            bytes: (limit - mapped).max(0.0),
            kind: LimitKind::AddressSpace,
        });
    }
    limits
        .into_iter()
        .min_by(|a, b| a.bytes.total_cmp(&b.bytes))
        .unwrap_or(MemoryLimit {
            bytes: ASSUMED_BYTES,
            kind: LimitKind::Assumed,
        })
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn mem_available(meminfo: &str) -> Option<f64> {
    status_kib(meminfo, "MemAvailable:")
}

/// A `Name:   123 kB` line of `/proc/meminfo` or `/proc/self/status`, in bytes.
fn status_kib(text: &str, name: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib = line[name.len()..].split_whitespace().next()?;
    kib.parse::<f64>().ok().map(|kib| kib * 1024.0)
}

/// The soft "Max address space" limit of `/proc/self/limits` in bytes; `None` when
/// unlimited.
fn address_space_limit(limits: &str) -> Option<f64> {
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max address space"))?;
    line.split_whitespace().next()?.parse::<f64>().ok()
}

/// A cgroup limit file (`memory.max`, `memory.limit_in_bytes`) in bytes; `None` when there
/// is no limit (`max`, or cgroup v1's "unlimited" of nearly 2^63).
fn cgroup_limit(text: &str) -> Option<f64> {
    let bytes = text.trim().parse::<u64>().ok()?;
    (bytes < 1 << 62).then_some(bytes as f64)
}

/// Which cgroup the process is in, from `/proc/self/cgroup`: the v2 path (`0::/path`) and
/// the path in the v1 hierarchy holding the `memory` controller.
fn own_cgroups(cgroup: &str) -> (Option<&str>, Option<&str>) {
    let (mut v2, mut v1) = (None, None);
    for line in cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        }
    }
    (v2, v1)
}

/// (root within the hierarchy, mount point) of a cgroup mount.
type Mount<'a> = (&'a str, &'a str);

/// Where the cgroup hierarchies are mounted, from `/proc/self/mountinfo`: (root within the
/// hierarchy, mount point) of the cgroup2 mount and of the v1 mount with `memory`.
fn cgroup_mounts(mountinfo: &str) -> (Option<Mount<'_>>, Option<Mount<'_>>) {
    let (mut v2, mut v1) = (None, None);
    for line in mountinfo.lines() {
        let Some((mount, fs)) = line.split_once(" - ") else {
            continue;
        };
        let mount: Vec<&str> = mount.split_whitespace().collect();
        let fs: Vec<&str> = fs.split_whitespace().collect();
        let (Some(root), Some(point), Some(kind)) = (mount.get(3), mount.get(4), fs.first()) else {
            continue;
        };
        if *kind == "cgroup2" && v2.is_none() {
            v2 = Some((*root, *point));
        } else if *kind == "cgroup"
            && fs
                .get(2)
                .is_some_and(|o| o.split(',').any(|c| c == "memory"))
            && v1.is_none()
        {
            v1 = Some((*root, *point));
        }
    }
    (v2, v1)
}

/// The directories of cgroup `path` and of every ancestor up to the mount point, leaf first
/// (every level's limit applies).
fn cgroup_dirs(mount: Mount<'_>, path: &str) -> Vec<String> {
    let (root, point) = mount;
    let relative = if root == "/" {
        path
    } else {
        path.strip_prefix(root).unwrap_or(path)
    };
    let mut dirs = Vec::new();
    let mut at = relative.trim_matches('/');
    loop {
        if at.is_empty() {
            dirs.push(point.to_string());
            return dirs;
        }
        dirs.push(format!("{point}/{at}"));
        at = at.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

/// Bytes the process's cgroup (v2 `memory.max` − `memory.current`, or v1
/// `memory.limit_in_bytes` − `memory.usage_in_bytes`) still allows, the smallest over its
/// levels; `None` when no level has a limit.
fn cgroup_headroom(read: &dyn Fn(&str) -> Option<String>) -> Option<f64> {
    let cgroup = read("/proc/self/cgroup")?;
    let mountinfo = read("/proc/self/mountinfo").unwrap_or_default();
    let (v2_path, v1_path) = own_cgroups(&cgroup);
    let (v2_mount, v1_mount) = cgroup_mounts(&mountinfo);
    let hierarchies = [
        (
            v2_path,
            v2_mount.unwrap_or(("/", "/sys/fs/cgroup")),
            "memory.max",
            "memory.current",
        ),
        (
            v1_path,
            v1_mount.unwrap_or(("/", "/sys/fs/cgroup/memory")),
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
        ),
    ];
    let mut smallest: Option<f64> = None;
    for (path, mount, limit_file, usage_file) in hierarchies {
        let Some(path) = path else { continue };
        for dir in cgroup_dirs(mount, path) {
            let Some(limit) = read(&format!("{dir}/{limit_file}"))
                .as_deref()
                .and_then(cgroup_limit)
            else {
                continue;
            };
            let used = read(&format!("{dir}/{usage_file}"))
                .and_then(|u| u.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            let left = (limit - used).max(0.0);
            smallest = Some(smallest.map_or(left, |s| s.min(left)));
        }
    }
    smallest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    const MEMINFO: &str = "MemTotal:       24000000 kB\nMemFree:        10000000 kB\n\
                           MemAvailable:   20971520 kB\nBuffers:          100 kB\n";
    const LIMITS_UNLIMITED: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
        Max cpu time              unlimited            unlimited            seconds   \n\
        Max address space         unlimited            unlimited            bytes     \n";
    const LIMITS_3_GIB: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
        Max address space         3221225472           unlimited            bytes     \n\
        Max file locks            unlimited            unlimited            locks     \n";
    const STATUS: &str =
        "Name:\tneurosim\nVmPeak:\t  300000 kB\nVmSize:\t  262144 kB\nVmRSS:\t 8000 kB\n";
    /// A cgroup v2 machine (systemd), the process in a user slice.
    const CGROUP_V2: &str = "0::/user.slice/user-1000.slice/session-3.scope\n";
    const MOUNTINFO_V2: &str = "25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n\
        35 25 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
    /// A cgroup v1 container whose hierarchy is mounted at its own cgroup (no namespace).
    const CGROUP_V1: &str =
        "12:pids:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n";
    const MOUNTINFO_V1: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
        35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
        36 31 0:33 /docker/abc /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n";

    fn reader(files: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let files: HashMap<String, String> = files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |path: &str| files.get(path).cloned()
    }

    #[test]
    fn meminfo_and_status_lines_are_read_in_bytes() {
        assert_eq!(mem_available(MEMINFO), Some(20.0 * GIB));
        assert_eq!(status_kib(STATUS, "VmSize:"), Some(256.0 * 1024.0 * 1024.0));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots kB\n"), None);
    }

    #[test]
    fn the_soft_address_space_limit_is_read_and_unlimited_is_none() {
        assert_eq!(address_space_limit(LIMITS_3_GIB), Some(3.0 * GIB));
        assert_eq!(address_space_limit(LIMITS_UNLIMITED), None);
        assert_eq!(address_space_limit(""), None);
    }

    #[test]
    fn cgroup_limit_files_say_max_or_a_number() {
        assert_eq!(cgroup_limit("2147483648\n"), Some(2.0 * GIB));
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(cgroup_limit(""), None);
    }

    #[test]
    fn the_own_cgroup_and_its_mounts_are_found() {
        assert_eq!(
            own_cgroups(CGROUP_V2),
            (Some("/user.slice/user-1000.slice/session-3.scope"), None)
        );
        assert_eq!(own_cgroups(CGROUP_V1), (Some("/"), Some("/docker/abc")));
        assert_eq!(
            cgroup_mounts(MOUNTINFO_V2),
            (Some(("/", "/sys/fs/cgroup")), None)
        );
        assert_eq!(
            cgroup_mounts(MOUNTINFO_V1),
            (None, Some(("/docker/abc", "/sys/fs/cgroup/memory")))
        );
        assert_eq!(
            cgroup_dirs(("/", "/sys/fs/cgroup"), "/a/b"),
            ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"]
        );
        // Mounted at the process's own cgroup: the mount point is that cgroup.
        assert_eq!(
            cgroup_dirs(("/docker/abc", "/sys/fs/cgroup/memory"), "/docker/abc"),
            ["/sys/fs/cgroup/memory"]
        );
    }

    #[test]
    fn a_cgroup_v2_limit_minus_its_usage_wins_when_smallest() {
        // The limit is set on the slice, not on the scope: every level counts.
        let read = reader(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/limits", LIMITS_UNLIMITED),
            ("/proc/self/cgroup", CGROUP_V2),
            ("/proc/self/mountinfo", MOUNTINFO_V2),
            (
                "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/memory.max",
                "max\n",
            ),
            (
                "/sys/fs/cgroup/user.slice/user-1000.slice/memory.max",
                "3221225472\n",
            ),
            (
                "/sys/fs/cgroup/user.slice/user-1000.slice/memory.current",
                "1073741824\n",
            ),
        ]);
        let limit = memory_limit(&read);
        assert_eq!(limit.kind, LimitKind::Cgroup);
        assert_eq!(limit.bytes, 2.0 * GIB);
        assert!(
            limit
                .describe()
                .contains("the cgroup memory limit allows 2.0 GiB"),
            "{}",
            limit.describe()
        );
    }

    #[test]
    fn a_cgroup_v1_limit_is_read_where_the_hierarchy_is_mounted() {
        let read = reader(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/cgroup", CGROUP_V1),
            ("/proc/self/mountinfo", MOUNTINFO_V1),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "1610612736\n",
            ),
            ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "536870912\n"),
        ]);
        let limit = memory_limit(&read);
        assert_eq!(limit.kind, LimitKind::Cgroup);
        assert_eq!(limit.bytes, GIB);
    }

    #[test]
    fn the_address_space_left_under_ulimit_v_wins_when_smallest() {
        let read = reader(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/limits", LIMITS_3_GIB),
            ("/proc/self/status", STATUS),
            ("/proc/self/cgroup", CGROUP_V2),
            ("/sys/fs/cgroup/memory.max", "max\n"),
        ]);
        let limit = memory_limit(&read);
        assert_eq!(limit.kind, LimitKind::AddressSpace);
        assert_eq!(limit.bytes, 3.0 * GIB - 256.0 * 1024.0 * 1024.0);
    }

    #[test]
    fn mem_available_applies_without_other_limits_and_4_gib_is_assumed_without_anything() {
        let limit = memory_limit(&reader(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/limits", LIMITS_UNLIMITED),
        ]));
        assert_eq!(
            limit,
            MemoryLimit {
                bytes: 20.0 * GIB,
                kind: LimitKind::Available
            }
        );
        let limit = memory_limit(&reader(&[]));
        assert_eq!(limit.kind, LimitKind::Assumed);
        assert_eq!(limit.bytes, 4.0 * GIB);
    }

    #[test]
    fn a_cgroup_over_its_limit_leaves_nothing() {
        let read = reader(&[
            ("/proc/self/cgroup", "0::/\n"),
            ("/sys/fs/cgroup/memory.max", "1000\n"),
            ("/sys/fs/cgroup/memory.current", "5000\n"),
        ]);
        assert_eq!(cgroup_headroom(&read), Some(0.0));
    }
}
