//! The `cookie` object of a record, and dates as JavaScript writes them.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::priority::Priority;
use crate::same_site::SameSite;

/// The `cookie` object of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieRecord {
    /// The cookie's lifetime in milliseconds as configured (express `originalMaxAge`);
    /// `None` for a browser-session cookie.
    pub original_max_age: Option<i64>,
    /// When the cookie expires; `None` for a browser-session cookie.
    pub expires: Option<OffsetDateTime>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Path`.
    pub path: String,
    /// `Secure`, when set (absent from express's JSON by default).
    pub secure: Option<bool>,
    /// `Domain`, when set.
    pub domain: Option<String>,
    /// `SameSite`, when set.
    pub same_site: Option<SameSite>,
    /// `Partitioned`, when set.
    pub partitioned: Option<bool>,
    /// `Priority`, when set.
    pub priority: Option<Priority>,
}

impl Default for CookieRecord {
    fn default() -> Self {
        CookieRecord {
            original_max_age: None,
            expires: None,
            http_only: true,
            path: "/".to_owned(),
            secure: None,
            domain: None,
            same_site: None,
            partitioned: None,
            priority: None,
        }
    }
}

impl CookieRecord {
    /// express's `touch()`: `expires = now + originalMaxAge` (nothing for a
    /// browser-session cookie). Saturates instead of overflowing.
    pub fn reset_expiry(&mut self, now: OffsetDateTime) {
        if let Some(ms) = self.original_max_age {
            self.expires = Some(add_ms(now, ms));
        }
    }

    /// Sets the lifetime (express `cookie.maxAge = ms`): `expires = now + ms` and
    /// `originalMaxAge = ms`; `None` makes a browser-session cookie.
    pub fn set_max_age(&mut self, max_age: Option<Duration>, now: OffsetDateTime) {
        match max_age {
            Some(d) => {
                let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                self.original_max_age = Some(ms);
                self.expires = Some(add_ms(now, ms));
            }
            None => {
                self.original_max_age = None;
                self.expires = None;
            }
        }
    }

    /// Sets an absolute expiry (express `cookie.expires = date`): `originalMaxAge`
    /// becomes the time remaining, as express computes it.
    pub(crate) fn set_expires(&mut self, expires: Option<OffsetDateTime>, now: OffsetDateTime) {
        self.expires = expires;
        self.original_max_age = expires.map(|e| {
            (e - now)
                .whole_milliseconds()
                .clamp(i64::MIN.into(), i64::MAX.into()) as i64
        });
    }
}

/// `now + ms`, saturating at the representable range.
pub(crate) fn add_ms(now: OffsetDateTime, ms: i64) -> OffsetDateTime {
    now.checked_add(time::Duration::milliseconds(ms))
        .unwrap_or(if ms >= 0 { max_date() } else { min_date() })
}

pub(super) fn max_date() -> OffsetDateTime {
    time::macros::datetime!(9999-12-31 23:59:59.999 UTC)
}

fn min_date() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

/// `at` in UTC, at most the last second of the year 9999 (the `cookie` crate's cap): a
/// stored `expires` with an offset may lie past what UTC dates can hold.
pub(crate) fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(time::UtcOffset::UTC)
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59.999_999 UTC))
}

/// Formats a date as JavaScript's `toISOString` does: `2026-11-24T10:00:00.000Z`
/// (digits written directly: it runs for every save of a cookie with an expiry).
pub(crate) fn format_iso(date: OffsetDateTime) -> String {
    let d = utc(date);
    let (year, month, day) = d.to_calendar_date();
    let (hour, minute, second, milli) = d.to_hms_milli();
    if let Ok(year) = u16::try_from(year)
        && year <= 9999
    {
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut n: u16| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, u16::from(u8::from(month)));
        put(8, 2, u16::from(day));
        put(11, 2, u16::from(hour));
        put(14, 2, u16::from(minute));
        put(17, 2, u16::from(second));
        put(20, 3, milli);
        return std::str::from_utf8(&buf).unwrap_or_default().to_owned();
    }
    slow_iso(d)
}

/// [`format_iso`] through `format!`, for any year (and the tests).
fn slow_iso(d: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

/// Parses an ISO-8601 date as JavaScript's `toISOString` writes it (RFC 3339).
pub(crate) fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn iso_format_matches_javascript() {
        assert_eq!(
            format_iso(datetime!(2026-11-24 10:00:00.5 UTC)),
            "2026-11-24T10:00:00.500Z"
        );
        assert_eq!(
            parse_iso("2026-11-24T10:00:00.500Z"),
            Some(datetime!(2026-11-24 10:00:00.5 UTC))
        );
    }

    #[test]
    fn an_expiry_past_the_last_utc_date_is_capped_not_a_panic() {
        assert_eq!(
            format_iso(datetime!(9999-12-31 23:00:00 -05:00)),
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn the_fast_iso_format_is_the_formatted_one() {
        let mut d = datetime!(0000-01-01 00:00:00 UTC);
        // Steps of 1 day 1 h 1 min 1.001 s over 10,000 years, then the edges.
        let step = time::Duration::new(90_061, 1_000_000);
        while d.year() < 9999 {
            assert_eq!(format_iso(d), slow_iso(d));
            d += step * 37;
        }
        for d in [
            datetime!(9999-12-31 23:59:59.999 UTC),
            datetime!(2024-02-29 12:00:00.007 +01:00),
            datetime!(-0001-06-01 00:00:00 UTC),
        ] {
            assert_eq!(format_iso(d), slow_iso(d.to_offset(time::UtcOffset::UTC)));
        }
    }
}
