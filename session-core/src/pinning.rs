//! IP pinning (nuxt-session's `ipPinning`): a session belongs to the client address it
//! was created from. The record keeps a keyed hash of the address, never the address:
//! HMAC-SHA256 under the signing secret, so every instance sharing the secrets computes
//! the same pin, and a pin made under an older secret still matches after a rotation.

use std::net::IpAddr;

use hmac::Mac;
use subtle::ConstantTimeEq;

use crate::secrets::Secrets;
use crate::signing::HmacSha256;

/// Domain separation: a pin is never a valid cookie signature, nor the reverse.
const CONTEXT: &[u8] = b"session-ip-pin\0";
/// Hex digits kept (128 bits).
const PIN_HEX: usize = 32;

fn pin_with(keyed: &HmacSha256, ip: IpAddr) -> String {
    let mut mac = keyed.clone();
    mac.update(CONTEXT);
    // An IPv4-mapped IPv6 address is the IPv4 address (dual-stack listeners).
    mac.update(ip.to_canonical().to_string().as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(PIN_HEX);
    for b in digest.iter().take(PIN_HEX / 2) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The pin to store for `ip`.
pub(crate) fn pin(secrets: &Secrets, ip: IpAddr) -> String {
    pin_with(secrets.signing_mac(), ip)
}

/// Whether `stored` is the pin of `ip` under any of the secrets (constant time).
pub(crate) fn matches(secrets: &Secrets, stored: &str, ip: IpAddr) -> bool {
    secrets
        .verify_macs()
        .map(|mac| pin_with(mac, ip))
        .fold(false, |found, p| {
            found | bool::from(p.as_bytes().ct_eq(stored.as_bytes()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_match_their_address_only() {
        let s = Secrets::new(["a"]).unwrap();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let p = pin(&s, ip);
        assert_eq!(p.len(), PIN_HEX);
        assert!(!p.contains("203"));
        assert!(matches(&s, &p, ip));
        assert!(!matches(&s, &p, "203.0.113.8".parse().unwrap()));
        // The IPv4-mapped spelling of the same address matches.
        assert!(matches(&s, &p, "::ffff:203.0.113.7".parse().unwrap()));
    }

    #[test]
    fn a_pin_survives_secret_rotation() {
        let old = Secrets::new(["old"]).unwrap();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let p = pin(&old, ip);
        let rotated = Secrets::new(["new", "old"]).unwrap();
        assert!(matches(&rotated, &p, ip));
        assert!(!matches(&Secrets::new(["new"]).unwrap(), &p, ip));
    }
}
