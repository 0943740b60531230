use thiserror::Error;

/// Storage errors. Messages are Italian because the operator may see them; none carries a
/// secret or personal data.
#[derive(Debug, Error)]
pub enum ErroreStore {
    #[error("indirizzo del database non valido: {0} (atteso sqlite://percorso o postgres://…)")]
    UrlNonValido(String),
    #[error("errore del database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrazione del database non riuscita: {0}")]
    Migrazione(#[from] sqlx::migrate::MigrateError),
    #[error("{oggetto} non trovato")]
    NonTrovato { oggetto: String },
    #[error("{oggetto}: stato attuale {attuale}, atteso uno tra {attesi}")]
    StatoNonAmmesso {
        oggetto: String,
        attuale: String,
        attesi: String,
    },
    #[error("file {percorso}: {motivo}")]
    Io { percorso: String, motivo: String },
    #[error("master key {percorso}: {motivo}")]
    ChiaveMaestra { percorso: String, motivo: String },
    #[error("cifratura: {0}")]
    Cifratura(&'static str),
    #[error("dato non valido nel database ({campo}): {motivo}")]
    DatoNonValido { campo: &'static str, motivo: String },
    #[error("password: {0}")]
    Password(String),
    #[error("nome di ruolo PostgreSQL non valido: {0} (ammessi a-z, 0-9, _)")]
    RuoloNonValido(String),
    #[error("id di operazione esauriti: oltre 30 cifre")]
    IdEsauriti,
    /// An operation this database engine does not offer (e.g. `VACUUM INTO` on PostgreSQL).
    #[error("{0}")]
    NonSupportato(&'static str),
}

impl ErroreStore {
    /// A failure that a retry of the whole operation may cure: a PostgreSQL deadlock or
    /// serialization failure, a busy SQLite file, a pool timeout or a lost connection.
    pub fn transitorio(&self) -> bool {
        match self {
            ErroreStore::Database(sqlx::Error::Database(e)) => {
                let codice = e.code().unwrap_or_default();
                if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
                    codice
                        .parse::<i32>()
                        .is_ok_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    matches!(&*codice, "40P01" | "40001")
                }
            }
            ErroreStore::Database(e) => matches!(
                e,
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Protocol(_)
            ),
            _ => false,
        }
    }

    /// A unique key already taken (a Comune, Ente, username… that exists).
    pub fn duplicato(&self) -> bool {
        match self {
            ErroreStore::Database(sqlx::Error::Database(e)) => {
                e.kind() == sqlx::error::ErrorKind::UniqueViolation
            }
            _ => false,
        }
    }

    pub(crate) fn non_trovato(oggetto: impl Into<String>) -> Self {
        ErroreStore::NonTrovato {
            oggetto: oggetto.into(),
        }
    }

    pub(crate) fn json(campo: &'static str, e: serde_json::Error) -> Self {
        ErroreStore::DatoNonValido {
            campo,
            motivo: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitori() {
        assert!(ErroreStore::Database(sqlx::Error::PoolTimedOut).transitorio());
        assert!(!ErroreStore::Database(sqlx::Error::RowNotFound).transitorio());
        assert!(!ErroreStore::IdEsauriti.transitorio());
    }
}
