//! Resources: the things a scoped membership applies to, written `type:id` (`folder:7`, `document:42`).

use std::fmt;

use super::{Name, NameError, NameKind};

/// A resource's type and id, each following the name rules; a type holds no `:`, so `type:id` splits at its first
/// colon and an id may hold more (`file:a:b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    kind: Name,
    id: Name,
}

/// Why a resource reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("a resource is written `type:id`, e.g. `folder:7`")]
    NotTypeColonId,
    #[error("resource type `{0}` may not contain `:`")]
    ColonInType(String),
    #[error(transparent)]
    Name(#[from] NameError),
}

impl Resource {
    /// The resource of the given type and id.
    pub fn new(kind: &str, id: &str) -> Result<Self, ResourceError> {
        let kind = Self::parse_type(kind)?;
        Ok(Self {
            kind,
            id: Name::parse(NameKind::ResourceId, id)?,
        })
    }

    /// A resource type alone (a listing's filter).
    pub fn parse_type(kind: &str) -> Result<Name, ResourceError> {
        let kind = Name::parse(NameKind::ResourceType, kind)?;
        if kind.as_str().contains(':') {
            return Err(ResourceError::ColonInType(kind.as_str().to_owned()));
        }
        Ok(kind)
    }

    /// `type:id`.
    pub fn parse(raw: &str) -> Result<Self, ResourceError> {
        let (kind, id) = raw.split_once(':').ok_or(ResourceError::NotTypeColonId)?;
        Self::new(kind, id)
    }

    pub fn kind(&self) -> &Name {
        &self.kind
    }

    pub fn id(&self) -> &Name {
        &self.id
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let resource = Resource::parse("file:a:b").unwrap();
        assert_eq!(resource.kind().as_str(), "file");
        assert_eq!(resource.id().as_str(), "a:b");
        assert_eq!(resource.to_string(), "file:a:b");
    }

    #[test]
    fn refuses_what_is_not_type_colon_id() {
        assert_eq!(
            Resource::parse("folder"),
            Err(ResourceError::NotTypeColonId)
        );
        assert!(matches!(Resource::parse(":7"), Err(ResourceError::Name(_))));
        assert!(matches!(
            Resource::parse("folder:"),
            Err(ResourceError::Name(_))
        ));
        assert!(matches!(
            Resource::parse("fo der:7"),
            Err(ResourceError::Name(_))
        ));
        assert!(matches!(
            Resource::new("a:b", "7"),
            Err(ResourceError::ColonInType(_))
        ));
        assert!(Resource::parse("folder:*").is_err());
    }
}
