//! Configuration from arbitrary strings (name, path, domain, secrets, genid output,
//! numbers, switches) → `build()`. Must never panic: every input is a configuration or
//! a clear error. A built configuration must produce a valid id and cookie.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use session_core::{CookieOptions, Priority, SameSiteOption, Secrets, Secure, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (name, path, domain, secret, genid, same_site, priority, flags) =
        (next(), next(), next(), next(), next(), next(), next(), next());
    let flags = flags.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    let Ok(secrets) = Secrets::new(secret.split(',').collect::<Vec<_>>()) else { return };
    let cookie = CookieOptions {
        path,
        domain: (!domain.is_empty()).then_some(domain),
        http_only: flags & 1 == 0,
        secure: [Secure::Never, Secure::Always, Secure::Auto][(flags as usize >> 1) % 3],
        same_site: [SameSiteOption::Strict, SameSiteOption::Lax, SameSiteOption::None, SameSiteOption::Auto]
            .get(same_site.len() % 5)
            .copied(),
        max_age: (flags & 8 != 0).then(|| Duration::from_millis(u64::from(flags))),
        expires: None,
        partitioned: flags & 16 != 0,
        priority: [Priority::Low, Priority::Medium, Priority::High].get(priority.len() % 4).copied(),
    };
    let mut builder = SessionConfig::builder(secrets).name(name).cookie(cookie).rolling(flags & 32 != 0);
    if flags & 64 != 0 {
        builder = builder.genid(move || genid.clone());
    }
    if flags & 128 != 0 {
        builder = builder.idle_timeout(Duration::from_millis(u64::from(flags >> 8)));
    }
    if let Ok(config) = builder.build() {
        assert!(!config.name().is_empty());
        assert!(config.cookie().path.starts_with('/'));
    }
});
