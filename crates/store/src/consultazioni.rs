//! "Chi ha consultato questo soggetto?" (GDPR art. 15): the keyed hashes kept per row and the
//! search over them.
