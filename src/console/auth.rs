//! Who may use the console: one staff password (an argon2id hash in the state directory, set
//! with `gallery-painter console set-password`; there is no default), sessions that expire,
//! and a limit on wrong passwords per address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The hash's file in the state directory.
pub const PASSWORD_FILE: &str = "console-password";
/// Shorter passwords are refused: the console may be reachable from the whole museum network.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Wrong passwords from one address within [`FAILURE_WINDOW`] before it gets 429.
pub const MAX_FAILURES: u32 = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most (a flood of addresses cannot grow memory).
const MAX_TRACKED: usize = 10_000;

pub fn password_path(state_dir: &Path) -> PathBuf {
    state_dir.join(PASSWORD_FILE)
}

/// Hashes `password` with argon2id and a random salt and stores it, readable by this user only.
pub fn set_password(state_dir: &Path, password: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password has {} characters; use at least {MIN_PASSWORD_CHARS} (a sentence is easiest to remember)",
            password.chars().count()
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no random source: {e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| format!("cannot hash the password: {e}"))?
        .to_string();
    std::fs::create_dir_all(state_dir).map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
    let path = password_path(state_dir);
    // Written beside it and renamed: a crash never leaves half a hash (and no login).
    let tmp = state_dir.join(format!(".{PASSWORD_FILE}.new"));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    file.write_all(format!("{hash}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[derive(Debug, PartialEq)]
pub enum Check {
    Right,
    Wrong,
    /// No password was ever set (or its file is unreadable): nobody can sign in.
    NotSet(String),
}

/// Checks `password` against the stored hash (read each time: a new password takes effect
/// without a restart). Slow on purpose (argon2id): call off the async threads.
pub fn check_password(state_dir: &Path, password: &str) -> Check {
    let path = password_path(state_dir);
    let stored = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => return Check::NotSet(format!("{}: {e}", path.display())),
    };
    match argon2::Argon2::default().verify_password(password.as_bytes(), stored.trim()) {
        Ok(()) => Check::Right,
        Err(argon2::password_hash::Error::PasswordInvalid) => Check::Wrong,
        Err(e) => Check::NotSet(format!("{} does not hold a password hash ({e})", path.display())),
    }
}

/// Equal strings, compared in a time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone, Debug)]
pub struct Session {
    /// A number for the audit log (the token itself is never logged).
    pub number: u64,
    /// Sent back with every request that changes something.
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// Signed-in browsers, by the token in their cookie.
pub struct Sessions {
    by_token: HashMap<String, Session>,
    idle: Duration,
    longest: Duration,
    started: u64,
}

impl Sessions {
    /// Sessions end after `idle` without a request, and after `longest` in any case.
    pub fn new(idle: Duration, longest: Duration) -> Sessions {
        Sessions { by_token: HashMap::new(), idle, longest, started: 0 }
    }

    /// A new session: (its cookie token, the session).
    pub fn start(&mut self, now: Instant) -> (String, Session) {
        self.by_token.retain(|_, s| now.duration_since(s.last_seen) < self.idle);
        self.started += 1;
        let token = crate::ids::new_token();
        let session = Session { number: self.started, csrf: crate::ids::new_token(), created: now, last_seen: now };
        self.by_token.insert(token.clone(), session.clone());
        (token, session)
    }

    /// The session of `token`, if it is still valid; its idle time starts again.
    pub fn touch(&mut self, token: &str, now: Instant) -> Option<Session> {
        let s = self.by_token.get_mut(token)?;
        if now.duration_since(s.last_seen) >= self.idle || now.duration_since(s.created) >= self.longest {
            self.by_token.remove(token);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    pub fn end(&mut self, token: &str) {
        self.by_token.remove(token);
    }
}

/// Wrong passwords per address.
#[derive(Default)]
pub struct LoginLimiter {
    failures: HashMap<IpAddr, (Instant, u32)>,
}

impl LoginLimiter {
    /// How long `peer` must wait before it may try again, if it has used up its tries.
    pub fn wait(&self, peer: IpAddr, now: Instant) -> Option<Duration> {
        let &(since, n) = self.failures.get(&peer)?;
        let left = FAILURE_WINDOW.checked_sub(now.duration_since(since)).filter(|l| !l.is_zero())?;
        (n >= MAX_FAILURES).then_some(left)
    }

    /// Counts a try by `peer` before its password is checked, so that tries sent in parallel
    /// are all counted before the first is answered (checking first and counting after the
    /// argon2 check let about 12 extra through); a right password clears the count.
    pub fn take_try(&mut self, peer: IpAddr, now: Instant) -> Result<(), Duration> {
        if let Some(left) = self.wait(peer, now) {
            return Err(left);
        }
        self.count_try(peer, now);
        Ok(())
    }

    /// One more try by `peer` within its window (the oldest address goes when the map is full).
    fn count_try(&mut self, peer: IpAddr, now: Instant) {
        if self.failures.len() >= MAX_TRACKED && !self.failures.contains_key(&peer) {
            self.failures.retain(|_, (since, _)| now.duration_since(*since) < FAILURE_WINDOW);
            // Still full of recent addresses (many spoofed or rotating ones): the oldest goes.
            if self.failures.len() >= MAX_TRACKED
                && let Some(oldest) = self.failures.iter().min_by_key(|(_, (since, _))| *since).map(|(ip, _)| *ip)
            {
                self.failures.remove(&oldest);
            }
        }
        let entry = self.failures.entry(peer).or_insert((now, 0));
        if now.duration_since(entry.0) >= FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    pub fn succeeded(&mut self, peer: IpAddr) {
        self.failures.remove(&peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_keeps_at_most_its_cap_of_addresses_within_the_window() {
        let mut l = LoginLimiter::default();
        let now = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 50) {
            l.count_try(IpAddr::from(i.to_be_bytes()), now);
        }
        assert!(l.failures.len() <= MAX_TRACKED, "{} addresses kept", l.failures.len());
    }

    #[test]
    fn tries_in_parallel_are_counted_before_any_password_is_checked() {
        let mut l = LoginLimiter::default();
        let (peer, now) = (IpAddr::from([10, 0, 0, 7]), Instant::now());
        // 40 sign-ins sent at once: each takes its try before the (slow) argon2 check.
        let taken = (0..40).filter(|_| l.take_try(peer, now).is_ok()).count();
        assert_eq!(taken, MAX_FAILURES as usize);
        l.succeeded(peer);
        assert!(l.take_try(peer, now).is_ok(), "a right password clears the count");
    }

    #[test]
    fn a_password_is_stored_as_an_argon2id_hash_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = set_password(dir.path(), "the night watch at noon").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("$argon2id$"), "{text}");
        assert!(!text.contains("night watch"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(check_password(dir.path(), "the night watch at noon"), Check::Right);
        assert_eq!(check_password(dir.path(), "the night watch at nine"), Check::Wrong);
    }

    #[test]
    fn without_a_password_nobody_signs_in_and_short_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(check_password(dir.path(), ""), Check::NotSet(_)));
        let e = set_password(dir.path(), "short").unwrap_err();
        assert!(e.contains("at least 10"), "{e}");
        assert!(!password_path(dir.path()).exists());
    }

    #[test]
    fn sessions_end_when_idle_and_after_their_longest_time() {
        let t0 = Instant::now();
        let mut sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(300));
        let (token, s) = sessions.start(t0);
        assert_eq!(s.csrf.len(), 32);
        assert!(sessions.touch(&token, t0 + Duration::from_secs(50)).is_some());
        assert!(sessions.touch(&token, t0 + Duration::from_secs(100)).is_some(), "the idle time started again");
        assert!(sessions.touch(&token, t0 + Duration::from_secs(161)).is_none(), "idle for 61 s");
        let (token, _) = sessions.start(t0);
        for s in (50..300).step_by(50) {
            assert!(sessions.touch(&token, t0 + Duration::from_secs(s)).is_some());
        }
        assert!(sessions.touch(&token, t0 + Duration::from_secs(300)).is_none(), "the longest time");
        assert!(sessions.touch("not a token", t0).is_none());
    }

    #[test]
    fn twenty_wrong_passwords_make_an_address_wait_and_others_do_not() {
        let t0 = Instant::now();
        let mut limiter = LoginLimiter::default();
        let a: IpAddr = "10.1.1.1".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.count_try(a, t0);
        }
        assert!(limiter.wait(a, t0).is_none());
        limiter.count_try(a, t0);
        assert!(limiter.wait(a, t0).is_some());
        assert!(limiter.wait("10.1.1.2".parse().unwrap(), t0).is_none());
        assert!(limiter.wait(a, t0 + FAILURE_WINDOW).is_none(), "the window passed");
    }

    #[test]
    fn comparison_is_exact() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
