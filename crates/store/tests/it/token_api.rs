//! Contract tests: token_api.
