//! Page arithmetic shared by every list query.

/// A validated page request (1-based page, bounded size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub page_size: i64,
}

impl Page {
    pub const MAX_SIZE: i64 = 100;
    pub const DEFAULT_SIZE: i64 = 20;

    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }
}

/// SQL `LIKE` pattern that matches `needle` anywhere, with `%`, `_` and `\` escaped (use `\`
/// as the escape character).
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

diesel::define_sql_function! {
    /// SQL `lower()`, present in SQLite and PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_patterns() {
        assert_eq!(
            Page {
                page: 1,
                page_size: 20
            }
            .offset(),
            0
        );
        assert_eq!(
            Page {
                page: 3,
                page_size: 20
            }
            .offset(),
            40
        );
        assert_eq!(contains_pattern("GPT_4%"), "%gpt\\_4\\%%");
    }
}
