//! The `Priority` cookie attribute (Chrome's; express `cookie.priority`).

/// `Priority` (express `cookie.priority`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// `Low`.
    Low,
    /// `Medium`.
    Medium,
    /// `High`.
    High,
}

impl Priority {
    /// Parses `low`, `medium`, `high`, case-insensitively.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Priority::Low),
            "medium" => Some(Priority::Medium),
            "high" => Some(Priority::High),
            _ => None,
        }
    }

    /// The lowercase spelling express stores.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }
}
