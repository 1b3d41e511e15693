//! Model aliases: agents send fixed model names (`claude-sonnet-4-5-20250929`, `gpt-5-codex`,
//! `gemini-2.5-pro`); an operator maps such a name, exactly or by a glob, to the
//! `provider/model` that serves it. The target is used as written: an alias never leads to
//! another alias, so a lookup is one step and cannot loop.

use super::model_name::{self, MAX_LEN};
use crate::db::aliases::AliasRow;
use globset::{GlobBuilder, GlobMatcher};
use std::collections::HashMap;

/// Why a pattern or target was refused; `field` names the offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidAlias {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidAlias {
    InvalidAlias {
        field,
        message: message.into(),
    }
}

const GLOB_CHARS: &[char] = &['*', '?', '['];

/// Whether `pattern` is a glob rather than one exact name.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(GLOB_CHARS)
}

fn compile(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    // `*` also crosses `/`: `openrouter/*` should cover `openrouter/meta-llama/llama-3`.
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .map(|g| g.compile_matcher())
}

/// Checks a pattern: an exact model name, or a glob of model-name characters with `*`, `?` and
/// `[...]` classes (`[!...]` negates). Returns it trimmed.
pub fn check_pattern(pattern: &str) -> Result<String, InvalidAlias> {
    let pattern = pattern.trim();
    if !is_glob(pattern) {
        model_name::validate(pattern).map_err(|e| invalid("pattern", e.to_string()))?;
        return Ok(pattern.to_owned());
    }
    if pattern.len() > MAX_LEN {
        return Err(invalid(
            "pattern",
            format!(
                "is {} characters long; at most {MAX_LEN} are allowed",
                pattern.len()
            ),
        ));
    }
    if let Some(bad) = pattern
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._:@+/*?[]!".contains(*c)))
    {
        return Err(invalid(
            "pattern",
            format!(
                "'{}' is not allowed in a pattern (letters, digits, - . _ : @ + / and the glob characters * ? [ ] ! are)",
                bad.escape_default()
            ),
        ));
    }
    if pattern.chars().all(|c| "*?".contains(c)) {
        return Err(invalid(
            "pattern",
            "would match every model name; name at least part of it (e.g. claude-*)",
        ));
    }
    compile(pattern)
        .map_err(|e| invalid("pattern", format!("is not a valid glob: {}", e.kind())))?;
    Ok(pattern.to_owned())
}

/// Checks a target: a model name with a provider prefix the Hub knows (`openai/gpt-5-mini`).
pub fn check_target(target: &str) -> Result<String, InvalidAlias> {
    let target = target.trim();
    let parsed = model_name::parse(target).map_err(|e| invalid("target", e.to_string()))?;
    if parsed.provider.is_none() {
        return Err(invalid(
            "target",
            format!(
                "'{target}' has no provider prefix; write it as provider/model (e.g. openai/gpt-5-mini)"
            ),
        ));
    }
    Ok(target.to_owned())
}

/// The aliases of one routing snapshot.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    exact: HashMap<String, String>,
    /// Longest pattern first, so the most specific glob wins; ties go by pattern text.
    globs: Vec<(GlobMatcher, String)>,
}

impl Aliases {
    /// Builds the lookup from stored rows; a row that no longer passes the checks is left out
    /// (and logged) rather than routing calls somewhere unintended.
    pub fn build(rows: Vec<AliasRow>) -> Aliases {
        let mut aliases = Aliases::default();
        let mut globs: Vec<(String, GlobMatcher, String)> = Vec::new();
        for row in rows {
            let checked =
                check_pattern(&row.pattern).and_then(|p| Ok((p, check_target(&row.target)?)));
            match checked {
                Ok((pattern, target)) if is_glob(&pattern) => match compile(&pattern) {
                    Ok(matcher) => globs.push((pattern, matcher, target)),
                    Err(e) => tracing::warn!(alias = %row.id, "model alias skipped: {e}"),
                },
                Ok((pattern, target)) => {
                    aliases.exact.insert(pattern, target);
                }
                Err(e) => tracing::warn!(alias = %row.id, "model alias skipped: {e}"),
            }
        }
        globs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        aliases.globs = globs.into_iter().map(|(_, m, t)| (m, t)).collect();
        aliases
    }

    /// The target `name` is an alias of: an exact alias first, then the most specific glob.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        if let Some(target) = self.exact.get(name) {
            return Some(target);
        }
        self.globs
            .iter()
            .find(|(m, _)| m.is_match(name))
            .map(|(_, t)| t.as_str())
    }

    /// Exact aliases by name (the model lists show them; globs name no model).
    pub fn exact(&self) -> impl Iterator<Item = (&str, &str)> {
        self.exact.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.globs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pattern: &str, target: &str) -> AliasRow {
        let now = chrono::Utc::now().naive_utc();
        AliasRow {
            id: pattern.into(),
            pattern: pattern.into(),
            target: target.into(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn exact_beats_globs_and_longer_globs_beat_shorter_ones() {
        let aliases = Aliases::build(vec![
            row("claude-*", "openai/gpt-5-mini"),
            row("claude-haiku-*", "deepseek/deepseek-chat"),
            row("claude-haiku-4-5", "google/gemini-2.5-flash"),
            row("openrouter/*", "ollama/llama3"),
        ]);
        assert_eq!(
            aliases.resolve("claude-sonnet-4-5-20250929"),
            Some("openai/gpt-5-mini")
        );
        assert_eq!(
            aliases.resolve("claude-haiku-4-5-20251001"),
            Some("deepseek/deepseek-chat")
        );
        assert_eq!(
            aliases.resolve("claude-haiku-4-5"),
            Some("google/gemini-2.5-flash")
        );
        assert_eq!(
            aliases.resolve("openrouter/meta-llama/llama-3"),
            Some("ollama/llama3")
        );
        assert_eq!(aliases.resolve("gpt-5-mini"), None);
        // Case matters: model ids are case-sensitive upstream.
        assert_eq!(aliases.resolve("Claude-3"), None);
        let exact: Vec<_> = aliases.exact().collect();
        assert_eq!(exact, vec![("claude-haiku-4-5", "google/gemini-2.5-flash")]);
    }

    #[test]
    fn classes_and_question_marks_match_one_character() {
        let aliases = Aliases::build(vec![row("gpt-5-[cn]?dex", "anthropic/claude-sonnet-4-5")]);
        assert!(aliases.resolve("gpt-5-codex").is_some());
        assert!(aliases.resolve("gpt-5-nodex").is_some());
        assert!(aliases.resolve("gpt-5-cdex").is_none());
        assert!(aliases.resolve("gpt-5-codexx").is_none());
    }

    #[test]
    fn bad_patterns_and_targets_are_named() {
        assert_eq!(check_pattern(" claude-* ").as_deref(), Ok("claude-*"));
        assert_eq!(check_pattern("gpt-5").as_deref(), Ok("gpt-5"));
        assert_eq!(check_pattern("*").map_err(|e| e.field), Err("pattern"));
        assert_eq!(check_pattern("**").map_err(|e| e.field), Err("pattern"));
        assert!(check_pattern("claude-[").is_err());
        assert!(check_pattern("claude-{a,b}").is_err());
        assert!(check_pattern("a b").is_err());
        assert!(check_pattern("").is_err());
        assert!(check_pattern(&"a*".repeat(200)).is_err());
        assert_eq!(
            check_target("openai/gpt-5-mini").as_deref(),
            Ok("openai/gpt-5-mini")
        );
        let e = check_target("gpt-5-mini").expect_err("no prefix");
        assert_eq!(e.field, "target");
        assert!(e.message.contains("provider/model"), "{e}");
        assert!(check_target("openai/../x").is_err());
        assert!(check_target("openai/gpt-*").is_err());
    }

    #[test]
    fn stored_rows_that_fail_the_checks_are_left_out() {
        let aliases = Aliases::build(vec![row("claude-*", "gpt-5-mini"), row("*", "openai/x")]);
        assert!(aliases.is_empty());
    }
}
