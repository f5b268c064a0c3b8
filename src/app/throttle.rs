//! Throttles against guessing: failed logins per username and per client address, public
//! look-ups per client address, and wrong lookup keys per dossier code. All in memory, per
//! instance, and bounded: past `MAX_KEYS` tracked keys a new key is refused rather than
//! remembered (fail closed under a flood of distinct addresses).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// How many keys one table remembers at most (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// The unit an address is throttled by: an IPv4 address, or an IPv6 /64 (one subscriber's
/// network; a host picks any address inside it at will).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whole seconds for `Retry-After`, at least 1.
pub fn retry_after(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

#[derive(Debug, Clone, Copy)]
pub struct FailurePolicy {
    /// Failures within `window` that start a block.
    pub limit: u32,
    pub window: Duration,
    /// The first block; each further one is twice as long, up to `max_block`.
    pub first_block: Duration,
    pub max_block: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    failures: u32,
    blocks: u32,
    blocked_until: Option<Instant>,
    last_failure: Instant,
}

/// Failures per key in a fixed window. Once `limit` is reached the key is blocked; each failure
/// after a block ends blocks it again for twice as long (capped). A key quiet for a whole
/// window is forgotten, so no block outlives `window + max_block` after the last failure.
pub struct FailureWindows<K> {
    policy: FailurePolicy,
    max_keys: usize,
    map: Mutex<HashMap<K, Entry>>,
}

impl<K: Eq + Hash + Clone> FailureWindows<K> {
    pub fn new(policy: FailurePolicy) -> Self {
        Self::with_capacity(policy, MAX_KEYS)
    }

    pub fn with_capacity(policy: FailurePolicy, max_keys: usize) -> Self {
        FailureWindows {
            policy,
            max_keys,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        e.blocked_until.is_none_or(|u| u <= now)
            && now.duration_since(e.last_failure) >= self.policy.window
    }

    /// The time left on the key's block, if it is blocked.
    pub fn blocked(&self, key: &K, now: Instant) -> Option<Duration> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .and_then(|e| e.blocked_until)
            .filter(|u| *u > now)
            .map(|u| u - now)
    }

    /// Records a failure; answers the block it starts, if any. With the table full of live
    /// keys, a new key counts as blocked for the first block's length.
    pub fn fail(&self, key: &K, now: Instant) -> Option<Duration> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(key) && map.len() >= self.max_keys {
            map.retain(|_, e| !self.expired(e, now));
            if map.len() >= self.max_keys {
                return Some(self.policy.first_block);
            }
        }
        let p = self.policy;
        let e = map.entry(key.clone()).or_insert(Entry {
            window_start: now,
            failures: 0,
            blocks: 0,
            blocked_until: None,
            last_failure: now,
        });
        if self.expired(e, now) {
            *e = Entry {
                window_start: now,
                failures: 0,
                blocks: 0,
                blocked_until: None,
                last_failure: now,
            };
        } else if e.blocks == 0 && now.duration_since(e.window_start) >= p.window {
            // A new window for a key that was never blocked.
            e.window_start = now;
            e.failures = 0;
        }
        e.failures += 1;
        e.last_failure = now;
        if e.failures < p.limit {
            return None;
        }
        let factor = 2u32.saturating_pow(e.blocks.min(16));
        let block = p.first_block.saturating_mul(factor).min(p.max_block);
        e.blocks += 1;
        e.blocked_until = Some(now + block);
        Some(block)
    }

    /// Forgets the key (a successful login).
    pub fn forget(&self, key: &K) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a login attempt is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    Username(Duration),
    Address(Duration),
}

impl Throttled {
    pub fn wait(self) -> Duration {
        match self {
            Throttled::Username(d) | Throttled::Address(d) => d,
        }
    }
}

/// Failed logins (and wrong current passwords) per username and per client address, and the
/// password hashing they lead to.
pub struct LoginThrottle {
    by_user: FailureWindows<String>,
    by_address: FailureWindows<IpAddr>,
    /// At most this many argon2 computations at once (one per core): a flood waits here
    /// instead of taking every blocking thread and ~19 MiB of memory per attempt.
    hashing: Arc<tokio::sync::Semaphore>,
    passwords: Arc<crate::auth::PasswordChecker>,
}

/// A username as a throttle key: normalised and bounded (longer names cannot exist anyway).
fn user_key(username: &str) -> String {
    username.chars().take(64).collect()
}

impl LoginThrottle {
    /// Makes the dummy hash, so call it at start-up.
    pub fn new(failures_per_window: u32, window_minutes: u64) -> Result<Self, String> {
        let window = Duration::from_secs(window_minutes * 60);
        let policy = FailurePolicy {
            limit: failures_per_window,
            window,
            first_block: Duration::from_secs(60).min(window),
            max_block: window,
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(LoginThrottle {
            by_user: FailureWindows::new(policy),
            by_address: FailureWindows::new(policy),
            hashing: Arc::new(tokio::sync::Semaphore::new(cores)),
            passwords: Arc::new(crate::auth::PasswordChecker::new()?),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&crate::auth::PasswordChecker) -> T + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self
            .hashing
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        let passwords = self.passwords.clone();
        tokio::task::spawn_blocking(move || f(&passwords))
            .await
            .map_err(|e| AppError::internal(format!("password task: {e}")))
    }

    /// argon2 verification on the blocking pool, holding no database connection; an unknown
    /// user (`None`) costs the same as a wrong password.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> AppResult<bool> {
        self.blocking(move |p| p.verify(&password, stored_hash.as_deref()))
            .await
    }

    /// argon2 hashing of a new password, likewise off the pool.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.blocking(move |_| crate::auth::hash_password(&password))
            .await?
            .map_err(|e| AppError::internal(format!("password hash: {e}")))
    }

    pub fn check(&self, username: &str, client: IpAddr, now: Instant) -> Result<(), Throttled> {
        if let Some(d) = self.by_address.blocked(&client_key(client), now) {
            return Err(Throttled::Address(d));
        }
        if let Some(d) = self.by_user.blocked(&user_key(username), now) {
            return Err(Throttled::Username(d));
        }
        Ok(())
    }

    /// Records a failure for both keys; answers the longer block it starts, if any.
    pub fn fail(&self, username: &str, client: IpAddr, now: Instant) -> Option<Duration> {
        let a = self.by_address.fail(&client_key(client), now);
        let u = self.by_user.fail(&user_key(username), now);
        a.max(u)
    }

    /// A successful login clears the username's failures, not the address's: otherwise an
    /// attacker with an account of their own could reset the address counter between guesses.
    pub fn succeed(&self, username: &str) {
        self.by_user.forget(&user_key(username));
    }
}

/// Why a public look-up is refused before the database is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupRefused {
    /// Over `public.lookup_per_minute` from this address.
    Address(Duration),
    /// Too many wrong keys for this code: its look-ups are locked.
    Code(Duration),
}

/// Public look-ups: a GCRA limit per client address (governor) and a lock per code after too
/// many wrong keys, whoever sends them.
pub struct LookupLimiter {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    wrong_keys: FailureWindows<String>,
    max_keys: usize,
}

impl LookupLimiter {
    pub fn new(per_minute: u32, wrong_keys_per_code: u32, code_lock_minutes: u64) -> Self {
        Self::with_capacity(per_minute, wrong_keys_per_code, code_lock_minutes, MAX_KEYS)
    }

    pub fn with_capacity(
        per_minute: u32,
        wrong_keys_per_code: u32,
        code_lock_minutes: u64,
        max_keys: usize,
    ) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let lock = Duration::from_secs(code_lock_minutes * 60);
        LookupLimiter {
            per_address: RateLimiter::keyed(Quota::per_minute(per_minute)),
            wrong_keys: FailureWindows::with_capacity(
                FailurePolicy {
                    limit: wrong_keys_per_code.max(1),
                    window: lock,
                    first_block: lock,
                    max_block: lock,
                },
                max_keys,
            ),
            max_keys,
        }
    }

    /// Counts one look-up against the address and checks the code's lock.
    pub fn check(&self, client: IpAddr, code: &str, now: Instant) -> Result<(), LookupRefused> {
        if let Some(d) = self.wrong_keys.blocked(&code.to_owned(), now) {
            return Err(LookupRefused::Code(d));
        }
        let key = client_key(client);
        if self.per_address.len() >= self.max_keys {
            // Keys whose state is as good as new are dropped; past that, new ones wait.
            self.per_address.retain_recent();
            self.per_address.shrink_to_fit();
            if self.per_address.len() >= self.max_keys {
                return Err(LookupRefused::Address(Duration::from_secs(60)));
            }
        }
        self.per_address.check_key(&key).map_err(|not_until| {
            LookupRefused::Address(not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            )))
        })
    }

    /// A wrong key (or an unknown code, which must look the same); answers the lock it starts.
    pub fn wrong_key(&self, code: &str, now: Instant) -> Option<Duration> {
        self.wrong_keys.fail(&code.to_owned(), now)
    }

    /// How many addresses and codes are remembered (for tests and metrics).
    pub fn tracked(&self) -> (usize, usize) {
        (self.per_address.len(), self.wrong_keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> FailurePolicy {
        FailurePolicy {
            limit: 3,
            window: Duration::from_secs(900),
            first_block: Duration::from_secs(60),
            max_block: Duration::from_secs(900),
        }
    }

    #[test]
    fn blocks_after_the_limit_then_longer_each_time_capped_and_forgets_when_quiet() {
        let w = FailureWindows::new(policy());
        let t = Instant::now();
        assert_eq!(w.fail(&"a", t), None);
        assert_eq!(w.fail(&"a", t), None);
        assert_eq!(w.fail(&"a", t), Some(Duration::from_secs(60)));
        assert_eq!(
            w.blocked(&"a", t + Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(w.blocked(&"b", t), None);
        // After the block, the next failure blocks again, twice as long.
        let t2 = t + Duration::from_secs(61);
        assert_eq!(w.blocked(&"a", t2), None);
        assert_eq!(w.fail(&"a", t2), Some(Duration::from_secs(120)));
        let (mut now, mut last) = (t2, Duration::from_secs(120));
        let mut blocks = vec![last];
        while last < Duration::from_secs(900) {
            now += last + Duration::from_secs(1);
            last = w.fail(&"a", now).unwrap();
            blocks.push(last);
        }
        let secs: Vec<u64> = blocks.iter().map(|b| b.as_secs()).collect();
        assert_eq!(secs, [120, 240, 480, 900], "doubling, capped at the window");
        // Quiet for a window after the block ends: forgotten.
        let later = now + last + Duration::from_secs(900);
        assert_eq!(w.blocked(&"a", later), None);
        assert_eq!(w.fail(&"a", later), None);
    }

    #[test]
    fn failures_spread_over_more_than_a_window_never_block() {
        let w = FailureWindows::new(policy());
        let mut t = Instant::now();
        for _ in 0..20 {
            assert_eq!(w.fail(&"a", t), None);
            t += Duration::from_secs(500);
        }
    }

    #[test]
    fn a_full_table_refuses_new_keys_and_makes_room_from_expired_ones() {
        let w = FailureWindows::with_capacity(policy(), 2);
        let t = Instant::now();
        w.fail(&1, t);
        w.fail(&2, t);
        assert_eq!(w.fail(&3, t), Some(Duration::from_secs(60)));
        assert_eq!(w.len(), 2);
        let later = t + Duration::from_secs(901);
        assert_eq!(w.fail(&3, later), None);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn ipv6_addresses_group_by_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_lookup_limit_is_per_address_and_wrong_keys_lock_the_code() {
        let l = LookupLimiter::new(2, 3, 60);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Instant::now();
        assert!(l.check(ip, "C1", t).is_ok() && l.check(ip, "C1", t).is_ok());
        assert!(matches!(
            l.check(ip, "C1", t),
            Err(LookupRefused::Address(_))
        ));
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check(other, "C1", t).is_ok());
        assert_eq!(l.wrong_key("C1", t), None);
        assert_eq!(l.wrong_key("C1", t), None);
        assert_eq!(l.wrong_key("C1", t), Some(Duration::from_secs(3600)));
        let fresh: IpAddr = "192.0.2.3".parse().unwrap();
        assert!(matches!(
            l.check(fresh, "C1", t),
            Err(LookupRefused::Code(_))
        ));
        assert!(l.check(fresh, "C2", t).is_ok());
        assert!(l.check(fresh, "C1", t + Duration::from_secs(3601)).is_ok());
    }

    #[test]
    fn the_lookup_limiter_stays_within_its_capacity() {
        let l = LookupLimiter::with_capacity(10, 10, 60, 100);
        let t = Instant::now();
        let refused = (0..1000u32)
            .map(|i| IpAddr::from(i.to_be_bytes()))
            .filter(|ip| l.check(*ip, "C1", t).is_err())
            .count();
        // The state of an address that used 1 of 10 is not "as good as new" within the
        // minute, so past 100 addresses new ones are refused rather than remembered.
        assert_eq!(refused, 900);
        assert!(l.tracked().0 <= 100, "{:?}", l.tracked());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after(Duration::from_secs(60)), 60);
    }
}
