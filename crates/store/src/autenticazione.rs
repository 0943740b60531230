//! Sign-in data: TOTP secrets, password resets, failed sign-in throttling (web W1).
