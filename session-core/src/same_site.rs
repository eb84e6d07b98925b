//! The `SameSite` cookie attribute, as a session's cookie carries it.

/// `SameSite`, as stored in a session's cookie and sent in `Set-Cookie`. The
/// configuration's [`SameSiteOption`](crate::SameSiteOption) adds `Auto`, resolved to
/// one of these when a session is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `Strict` (express also accepts `true`).
    Strict,
    /// `Lax`.
    Lax,
    /// `None`; requires `Secure`.
    None,
}

impl SameSite {
    /// Parses express's stored spellings, case-insensitively: `strict`, `lax`, `none`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Some(SameSite::Strict),
            "lax" => Some(SameSite::Lax),
            "none" => Some(SameSite::None),
            _ => None,
        }
    }

    /// The lowercase spelling express stores.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "strict",
            SameSite::Lax => "lax",
            SameSite::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for s in [SameSite::Strict, SameSite::Lax, SameSite::None] {
            assert_eq!(SameSite::parse(s.as_str()), Some(s));
        }
        assert_eq!(SameSite::parse("LAX"), Some(SameSite::Lax));
        assert_eq!(SameSite::parse("auto"), None, "configuration only");
    }
}
