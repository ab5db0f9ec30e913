//! `-o` mount options: what FUSE users write, checked here so a wrong one
//! is refused with one line naming it (the kernel would only say EINVAL).
//!
//! Every mount is `ro`, `nodev`, `nosuid` and `default_permissions`;
//! `-o` can add the access policy, `auto_unmount`, a few VFS flags, the
//! names shown in `mount` output, and ownership (`uid=`, `gid=`, `umask=`,
//! the same settings as `--uid`, `--gid`, `--file-mode`, `--dir-mode`).

use fuser::{MountOption, SessionACL};

use super::Ownership;

/// Shown in `mount` output unless `fsname=` / `subtype=` say otherwise.
pub(crate) const DEFAULT_NAME: &str = "fsmfs";

/// What every option list is checked against; printed when one is unknown.
const ACCEPTED: &str = "allow_other, allow_root, auto_unmount, ro, default_permissions, nonempty, \
     dev, nodev, suid, nosuid, exec, noexec, atime, noatime, sync, async, dirsync, \
     fsname=NAME, subtype=NAME, uid=N, gid=N, umask=OCTAL, and fstab's defaults, auto, noauto, _netdev, nofail, user, users, x-*";

/// The parsed `-o` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountOptions {
    pub acl: SessionACL,
    /// Unmount when the serving process dies, however it dies (a watchdog
    /// process does it; see `mounting.rs`).
    pub(crate) auto_unmount: bool,
    /// VFS flags given with `-o`, in order, each once.
    pub(crate) flags: Vec<MountOption>,
    pub(crate) fsname: String,
    pub(crate) subtype: String,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) umask: Option<u32>,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            acl: SessionACL::Owner,
            auto_unmount: false,
            flags: Vec::new(),
            fsname: DEFAULT_NAME.into(),
            subtype: DEFAULT_NAME.into(),
            uid: None,
            gid: None,
            umask: None,
        }
    }
}

/// `--uid`, `--gid`, `--file-mode`, `--dir-mode` as given on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OwnerFlags {
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) file_mode: Option<u32>,
    pub(crate) dir_mode: Option<u32>,
}

/// The generic VFS flags FUSE users pass with `-o`.
fn vfs_flag(name: &str) -> Option<MountOption> {
    Some(match name {
        "dev" => MountOption::Dev,
        "nodev" => MountOption::NoDev,
        "suid" => MountOption::Suid,
        "nosuid" => MountOption::NoSuid,
        "exec" => MountOption::Exec,
        "noexec" => MountOption::NoExec,
        "atime" => MountOption::Atime,
        "noatime" => MountOption::NoAtime,
        "sync" => MountOption::Sync,
        "async" => MountOption::Async,
        "dirsync" => MountOption::DirSync,
        _ => return None,
    })
}

/// The `mount(2)` flags a VFS flag sets and clears.
pub(crate) fn ms_bits(flag: &MountOption) -> (libc::c_ulong, libc::c_ulong) {
    match flag {
        MountOption::Dev => (0, libc::MS_NODEV),
        MountOption::NoDev => (libc::MS_NODEV, 0),
        MountOption::Suid => (0, libc::MS_NOSUID),
        MountOption::NoSuid => (libc::MS_NOSUID, 0),
        MountOption::Exec => (0, libc::MS_NOEXEC),
        MountOption::NoExec => (libc::MS_NOEXEC, 0),
        MountOption::Atime => (0, libc::MS_NOATIME),
        MountOption::NoAtime => (libc::MS_NOATIME, 0),
        MountOption::Sync => (libc::MS_SYNCHRONOUS, 0),
        MountOption::Async => (0, libc::MS_SYNCHRONOUS),
        MountOption::DirSync => (libc::MS_DIRSYNC, 0),
        _ => (0, 0),
    }
}

fn number(opt: &str, value: &str, what: &str) -> Result<u32, String> {
    value.parse().map_err(|_| format!("-o {opt}: {what} must be a number (or use --{what})"))
}

impl MountOptions {
    /// Parses `-o` values (each may be a comma-separated list).
    pub(crate) fn parse(values: &[String]) -> Result<MountOptions, String> {
        let mut o = MountOptions::default();
        for item in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (item, None),
            };
            match (key, value) {
                ("allow_other", None) => o.acl = SessionACL::All,
                ("allow_root", None) if o.acl != SessionACL::All => o.acl = SessionACL::RootAndOwner,
                ("allow_root", None) => {}
                ("auto_unmount", None) => o.auto_unmount = true,
                // Always on: read-only, and the kernel checks the modes.
                ("ro" | "default_permissions", None) => {}
                // FUSE 3 mounts over non-empty directories anyway (libfuse
                // dropped the option); accepted so old fstab lines work.
                ("nonempty", None) => log::info!("-o nonempty: not needed, ignored"),
                // fstab and mount(8) bookkeeping: meant for mount(8) and
                // systemd, which pass them on to the helper; nothing to do.
                (
                    "defaults" | "auto" | "noauto" | "_netdev" | "nofail" | "user" | "users" | "nouser",
                    None,
                ) => {}
                (name, _) if name.starts_with("x-systemd.") || name.starts_with("x-") => {}
                ("rw", None) => return Err("-o rw: the mount is read-only; drop the option".into()),
                ("fsname", Some(v)) if !v.is_empty() => o.fsname = v.into(),
                ("subtype", Some(v)) if !v.is_empty() => o.subtype = v.into(),
                ("uid", Some(v)) => o.uid = Some(number(item, v, "uid")?),
                ("gid", Some(v)) => o.gid = Some(number(item, v, "gid")?),
                ("umask", Some(v)) => match u32::from_str_radix(v, 8) {
                    Ok(m) if m <= 0o777 => o.umask = Some(m),
                    _ => return Err(format!("-o {item}: umask must be octal, 000 to 777")),
                },
                ("fmask" | "dmask", Some(_)) => {
                    let instead = if key == "fmask" { "--file-mode" } else { "--dir-mode" };
                    return Err(format!("-o {item}: not supported; use {instead} OCTAL (the mode itself)"));
                }
                (name, None) if vfs_flag(name).is_some() => {
                    let flag = vfs_flag(name).unwrap_or(MountOption::RO);
                    if !o.flags.contains(&flag) {
                        o.flags.push(flag);
                    }
                }
                _ => return Err(format!("-o {item}: unknown mount option; accepted: {ACCEPTED}")),
            }
        }
        Ok(o)
    }

    /// Who owns the files and their modes: `uid=`, `gid=` and `umask=`
    /// are the same settings as `--uid`, `--gid` and the two mode flags;
    /// given both ways they must agree.
    pub(crate) fn ownership(&self, flags: OwnerFlags, mut own: Ownership) -> Result<Ownership, String> {
        let pick = |name: &str, o: Option<u32>, flag: Option<u32>| match (o, flag) {
            (Some(a), Some(b)) if a != b => Err(format!("-o {name}={a} and --{name} {b} disagree; give one")),
            (a, b) => Ok(a.or(b)),
        };
        own.uid = pick("uid", self.uid, flags.uid)?.unwrap_or(own.uid);
        own.gid = pick("gid", self.gid, flags.gid)?.unwrap_or(own.gid);
        own.file_mode = flags.file_mode;
        own.dir_mode = flags.dir_mode;
        if let Some(mask) = self.umask {
            if flags.file_mode.is_some() || flags.dir_mode.is_some() {
                return Err(format!(
                    "-o umask={mask:03o} and --file-mode/--dir-mode both set the modes; give one"
                ));
            }
            // What files and directories created under this umask get
            // (libfuse's umask= would also make every file executable).
            own.file_mode = Some(0o666 & !mask);
            own.dir_mode = Some(0o777 & !mask);
        }
        Ok(own)
    }

    /// The options for fuser's own mount (through fusermount3, for
    /// non-root users). `auto_unmount` is not among them: the watchdog
    /// does it, which unlike fusermount3's needs no `allow_other`.
    pub(crate) fn fuser_options(&self) -> Vec<MountOption> {
        let mut opts = vec![
            MountOption::RO,
            MountOption::DefaultPermissions,
            MountOption::FSName(self.fsname.clone()),
            MountOption::Subtype(self.subtype.clone()),
        ];
        opts.extend(self.flags.iter().cloned());
        opts
    }

    /// `mount(2)` flags for a direct (root) mount: read-only, and nodev,
    /// nosuid unless `dev`/`suid` say otherwise.
    pub(crate) fn ms_flags(&self) -> libc::c_ulong {
        let mut bits = libc::MS_RDONLY | libc::MS_NODEV | libc::MS_NOSUID;
        for f in &self.flags {
            let (set, clear) = ms_bits(f);
            bits = (bits | set) & !clear;
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<MountOptions, String> {
        MountOptions::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn accepted_options_parse() {
        let o = parse(&["allow_other,noatime", "fsname=snap,auto_unmount", "noatime,nonempty,ro"]).unwrap();
        assert_eq!(o.acl, SessionACL::All);
        assert!(o.auto_unmount);
        assert_eq!(o.flags, vec![MountOption::NoAtime]);
        assert_eq!((o.fsname.as_str(), o.subtype.as_str()), ("snap", DEFAULT_NAME));
        assert_eq!(parse(&["allow_root"]).unwrap().acl, SessionACL::RootAndOwner);
        assert_eq!(parse(&["allow_other,allow_root"]).unwrap().acl, SessionACL::All);
        assert_eq!(parse(&[]).unwrap(), MountOptions::default());
        let fuser = o.fuser_options();
        assert_eq!(&fuser[..2], &[MountOption::RO, MountOption::DefaultPermissions]);
        assert!(fuser.contains(&MountOption::FSName("snap".into())));
        assert!(!fuser.contains(&MountOption::AutoUnmount));
    }

    #[test]
    fn fstab_bookkeeping_options_are_ignored() {
        let line = [
            "ro,noauto,auto,_netdev,nofail,user,users,defaults",
            "x-systemd.automount,x-systemd.idle-timeout=60",
        ];
        assert_eq!(parse(&line).unwrap(), MountOptions::default());
    }

    #[test]
    fn refused_options_name_themselves_and_the_way_out() {
        for (opt, want) in [
            ("bogus", "accepted: allow_other"),
            ("max_read=4096", "unknown mount option"),
            ("rw", "read-only"),
            ("uid=alice", "--uid"),
            ("gid=", "--gid"),
            ("umask=999", "octal"),
            ("fmask=022", "--file-mode"),
            ("dmask=022", "--dir-mode"),
            ("noatime=1", "unknown"),
            ("fsname=", "unknown"),
        ] {
            let e = parse(&["noatime", opt]).unwrap_err();
            assert!(e.starts_with(&format!("-o {opt}: ")), "{e}");
            assert!(e.contains(want) && !e.contains('\n'), "{opt}: {e}");
        }
    }

    #[test]
    fn ownership_options_map_onto_the_flags() {
        let base = Ownership { uid: 0, gid: 0, file_mode: None, dir_mode: None };
        let o = parse(&["uid=1000,gid=100,umask=027"]).unwrap();
        let own = o.ownership(OwnerFlags::default(), base).unwrap();
        assert_eq!((own.uid, own.gid, own.file_mode, own.dir_mode), (1000, 100, Some(0o640), Some(0o750)));
        let same = OwnerFlags { uid: Some(1000), ..OwnerFlags::default() };
        assert_eq!(o.ownership(same, base).unwrap().uid, 1000);
        let other = OwnerFlags { uid: Some(7), ..OwnerFlags::default() };
        assert!(o.ownership(other, base).unwrap_err().contains("disagree"));
        let mode = OwnerFlags { file_mode: Some(0o400), ..OwnerFlags::default() };
        assert!(o.ownership(mode, base).unwrap_err().contains("--file-mode"));
        let flags = OwnerFlags { uid: Some(5), gid: None, file_mode: Some(0o400), dir_mode: Some(0o500) };
        let own = MountOptions::default().ownership(flags, base).unwrap();
        assert_eq!((own.uid, own.gid, own.file_mode, own.dir_mode), (5, 0, Some(0o400), Some(0o500)));
    }

    #[test]
    fn vfs_flags_become_mount_flags() {
        let base = libc::MS_RDONLY | libc::MS_NODEV | libc::MS_NOSUID;
        assert_eq!(MountOptions::default().ms_flags(), base);
        let o = parse(&["noexec,noatime,dev"]).unwrap();
        assert_eq!(o.ms_flags(), libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NOATIME);
        assert_eq!(parse(&["sync,async"]).unwrap().ms_flags(), base);
    }
}
