//! API tokens, stored hashed (web W4).
