//! Sets of bytes as 256-entry tables, made at compile time: one lookup per byte instead
//! of a chain of comparisons.

/// The ASCII letters and digits, and `extra`.
pub(crate) const fn alphanumeric_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}
