//! Behaviour choices: what to do with deleted sessions, concurrent writers and records
//! written without a cookie.

/// What happens when the application unsets the session (express `unset`, for
/// `req.session = null`; here [`Session::unset`](crate::Session::unset)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unset {
    /// Leave the stored session alone; nothing is saved (express default).
    #[default]
    Keep,
    /// Delete the stored session at the end of the request.
    Destroy,
}

/// How a save treats changes other requests made to the same session meanwhile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// Apply only the keys this request changed on top of the record as it is in the
    /// store now (a conditional save, retried on conflict). Disjoint changes from
    /// overlapping requests all survive; for one key, the last writer wins.
    #[default]
    Merge,
    /// express-session's behaviour: the whole record is written as this request sees it.
    LastWriteWins,
}

/// Which other implementation's wire format to follow where it differs from
/// express-session's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compat {
    /// express-session (+ connect-redis): records carry a `cookie` object, the cookie
    /// carries `Expires`, the first secret signs by default.
    #[default]
    ExpressSession,
    /// @scayle/h3-session (+ its unstorage store): records are the data alone (no
    /// `cookie` key; records without one load fine), the cookie carries `Max-Age` (one
    /// day when no lifetime is set) and is re-sent on every response (`rolling`), and
    /// the LAST secret signs, which the [`Secrets`](crate::Secrets) must say explicitly
    /// ([`Secrets::last_signs`](crate::Secrets::last_signs)).
    H3Session,
}

/// What a record stored without a `cookie` object means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingCookie {
    /// Corrupt: the visitor gets a fresh session and a warning is logged (express
    /// itself answers 500 here).
    #[default]
    Reject,
    /// Fine: the cookie is rebuilt from the configuration (@scayle/h3-session writes
    /// records without one).
    UseDefaults,
}
