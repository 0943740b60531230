//! The roles of DESIGN §1.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ruolo {
    /// An Anagrafe operator of a Comune: approves, rejects, cancels and resumes requests.
    Top,
    /// Second-level administrator of an Ente.
    Admin,
    /// Submits requests and downloads their results.
    Standard,
}

impl Ruolo {
    pub const ALL: [Ruolo; 3] = [Ruolo::Top, Ruolo::Admin, Ruolo::Standard];

    /// The code stored in the database and shown in the archive.
    pub fn as_str(self) -> &'static str {
        match self {
            Ruolo::Top => "TOP",
            Ruolo::Admin => "ADMIN",
            Ruolo::Standard => "STANDARD",
        }
    }

    pub fn parse(s: &str) -> Option<Ruolo> {
        Ruolo::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Ruolo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codici() {
        assert_eq!(Ruolo::parse("TOP"), Some(Ruolo::Top));
        assert_eq!(Ruolo::parse("ADMIN"), Some(Ruolo::Admin));
        assert_eq!(Ruolo::parse("STANDARD"), Some(Ruolo::Standard));
        // Stored codes are exact: no case folding.
        assert_eq!(Ruolo::parse("top"), None);
        assert_eq!(serde_json::to_string(&Ruolo::Top).unwrap(), "\"TOP\"");
    }
}
