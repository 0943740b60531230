//! Administration queries: Enti by Comune, users by Ente, lookups by code (web W3).
