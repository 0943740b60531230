//! Integration tests over real HTTP on loopback: the token endpoint, the gateway checks and
//! ANPR's behaviour, driven by a hand-built client (tests/it/supporto.rs).

mod comportamento;
mod gateway;
mod pdnd;
mod supporto;
mod ws;
