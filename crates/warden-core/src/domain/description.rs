//! Free-text role descriptions.

/// A role description: at most [`Description::MAX_CHARS`] characters, no control characters but tab and line
/// breaks (PostgreSQL cannot store NUL, and the others only serve to forge log lines or terminal output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("description is longer than {max} characters", max = Description::MAX_CHARS)]
    TooLong,
    #[error("description must not contain control characters")]
    ControlCharacter,
}

impl Description {
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: String) -> Result<Self, DescriptionError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(DescriptionError::TooLong);
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(DescriptionError::ControlCharacter);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unicode_quotes_and_line_breaks() {
        let text = "it's <b>\"fine\"</b>\n\tünïcødé 🚀";
        assert_eq!(Description::parse(text.into()).unwrap().as_str(), text);
    }

    #[test]
    fn refuses_nul_escape_and_overlong_text() {
        assert_eq!(
            Description::parse("a\0b".into()),
            Err(DescriptionError::ControlCharacter)
        );
        assert_eq!(
            Description::parse("\u{1b}[31m".into()),
            Err(DescriptionError::ControlCharacter)
        );
        assert_eq!(
            Description::parse("d".repeat(1025)),
            Err(DescriptionError::TooLong)
        );
        assert!(Description::parse("d".repeat(1024)).is_ok());
    }
}
